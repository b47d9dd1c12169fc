"""Is this webhook delivery really from the ticketing system? One verifier per system, all fail-closed.

| system       | header(s)                                         | signed bytes               | encoding |
|--------------|---------------------------------------------------|----------------------------|----------|
| `jira`       | `X-Hub-Signature: sha256=<hex>`                   | raw body                   | hex      |
| `github`     | `X-Hub-Signature-256: sha256=<hex>`               | raw body                   | hex      |
| `servicenow` | configured header (e.g. `X-Aksvend-Signature`)    | raw body                   | base64   |
|              | or `Authorization: Basic ...` (configured user)   |                            |          |
| `generic`    | `X-Aksvend-Timestamp`, `X-Aksvend-Signature`      | `timestamp + "." + body`   | hex      |

Choices, and why:

* Several secrets may be valid at once, so that a secret can be rotated without dropping deliveries: add the
  new one, switch the sender, remove the old one. Every configured secret is tried (no early exit), so the
  time taken does not say which one matched.
* Signatures are decoded (hex or base64) and compared as raw digests with `hmac.compare_digest`; upper- or
  lower-case hex both pass. A signature that does not decode is rejected like a wrong one.
* ServiceNow has no built-in signing. A Business Rule adds a header with
  `GlideCertificateEncryption.generateMac(base64Key, "HmacSHA256", body)`: the key is configured **base64**
  (the MAC key is its decoded bytes) and the MAC is base64. HTTP Basic is the alternative ServiceNow offers
  out of the box.
* `generic` carries a Unix timestamp (seconds) inside the signed bytes and is refused more than
  `max_skew_seconds` (5 minutes) away from `now` in either direction, so a captured delivery cannot be
  replayed later. `now` is passed in: the domain has no clock.
* A `Rejected` reason is one of a few fixed sentences. It never contains a secret, the expected signature, or
  anything the caller sent: it may end up in a log or a 401 body.
* Configuration holds secrets as plain strings (`repr=False`): they come from app settings (Key Vault
  references in Azure), never from the repository.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "DEFAULT_MAX_SKEW_SECONDS",
    "GENERIC_SIGNATURE_HEADER",
    "GENERIC_TIMESTAMP_HEADER",
    "GITHUB_SIGNATURE_HEADER",
    "JIRA_SIGNATURE_HEADER",
    "SYSTEMS",
    "BasicCredential",
    "Rejected",
    "System",
    "Verified",
    "WebhookAuth",
    "generic_signature",
    "hub_signature",
    "servicenow_signature",
    "verify",
]

System = Literal["jira", "github", "servicenow", "generic"]
SYSTEMS: tuple[System, ...] = ("jira", "github", "servicenow", "generic")

JIRA_SIGNATURE_HEADER = "X-Hub-Signature"
GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
GENERIC_TIMESTAMP_HEADER = "X-Aksvend-Timestamp"
GENERIC_SIGNATURE_HEADER = "X-Aksvend-Signature"
DEFAULT_MAX_SKEW_SECONDS = 300
_HUB_PREFIX = "sha256="
# Longest header value we bother decoding: a SHA-256 digest is 64 hex / 44 base64 characters.
_MAX_SIGNATURE_CHARS = 256

# The only reasons a delivery is refused. Fixed sentences: nothing secret or caller-supplied goes in.
NOT_CONFIGURED = "webhook authentication is not configured for this system"
UNKNOWN_SYSTEM = "unknown ticketing system"
MISSING_SIGNATURE = "signature header is missing"
MALFORMED_SIGNATURE = "signature header is malformed"
UNSUPPORTED_ALGORITHM = "signature algorithm is not sha256"
BAD_SIGNATURE = "signature does not match"
MISSING_TIMESTAMP = "timestamp header is missing"
MALFORMED_TIMESTAMP = "timestamp header is not a Unix time in seconds"
STALE_TIMESTAMP = "timestamp is outside the allowed window"
MISSING_CREDENTIALS = "neither the signature header nor HTTP Basic credentials were sent"
BAD_CREDENTIALS = "HTTP Basic credentials do not match"


@dataclass(frozen=True, slots=True)
class Verified:
    system: System
    method: Literal["hmac", "basic"] = "hmac"


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


@dataclass(frozen=True, slots=True)
class BasicCredential:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class WebhookAuth:
    """How one system's deliveries are authenticated. Every field that can hold a secret has repr=False."""

    hmac_secrets: tuple[str, ...] = field(default=(), repr=False)
    # servicenow only: the header the Business Rule puts its base64 MAC in.
    signature_header: str = "X-Aksvend-Signature"
    # servicenow only: accepted HTTP Basic credentials (ServiceNow's own outbound REST authentication).
    basic_credentials: tuple[BasicCredential, ...] = field(default=(), repr=False)
    # generic only: how far the timestamp may be from now, either way.
    max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS

    def __post_init__(self) -> None:
        if any(not isinstance(s, str) or not s for s in self.hmac_secrets):
            raise ValueError("every HMAC secret must be a non-empty string")
        if self.max_skew_seconds <= 0:
            raise ValueError("max_skew_seconds must be positive")


def verify(system: str, headers: Mapping[str, str], body: bytes, auth: WebhookAuth | None,
           now: datetime) -> Verified | Rejected:
    """Check one delivery's signature against every configured secret for `system`."""
    if system not in SYSTEMS:
        return Rejected(UNKNOWN_SYSTEM)
    if auth is None or not (auth.hmac_secrets or (system == "servicenow" and auth.basic_credentials)):
        return Rejected(NOT_CONFIGURED)
    lowered = {k.lower(): v for k, v in headers.items()}
    if system == "jira":
        return _verify_hub("jira", lowered.get(JIRA_SIGNATURE_HEADER.lower()), body, auth)
    if system == "github":
        return _verify_hub("github", lowered.get(GITHUB_SIGNATURE_HEADER.lower()), body, auth)
    if system == "servicenow":
        return _verify_servicenow(lowered, body, auth)
    return _verify_generic(lowered, body, auth, now)


# --- signing, as each sender does it (tests, docs and the generic sender's reference) ------------------------


def hub_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature(-256)` value GitHub and Jira send: `sha256=<hex>`."""
    return _HUB_PREFIX + _mac(secret.encode(), body).hex()


def servicenow_signature(base64_key: str, body: bytes) -> str:
    """What `GlideCertificateEncryption.generateMac(base64Key, "HmacSHA256", body)` returns."""
    return base64.b64encode(_mac(base64.b64decode(base64_key, validate=True), body)).decode()


def generic_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Aksvend-Signature` value: hex HMAC-SHA256 of `timestamp + "." + body`."""
    return _mac(secret.encode(), timestamp.encode() + b"." + body).hex()


# --- verifiers -------------------------------------------------------------------------------------------------


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _matches_any(keys: list[bytes], message: bytes, provided: bytes) -> bool:
    # No short-circuit: try every key, so timing does not reveal which one (if any) matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(_mac(key, message), provided)
    return matched


def _decode_hex(value: str) -> bytes | None:
    if len(value) > _MAX_SIGNATURE_CHARS:
        return None
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        return None


def _decode_base64(value: str) -> bytes | None:
    if len(value) > _MAX_SIGNATURE_CHARS:
        return None
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _verify_hub(system: System, header: str | None, body: bytes, auth: WebhookAuth) -> Verified | Rejected:
    if not header:
        return Rejected(MISSING_SIGNATURE)
    algorithm, sep, value = header.strip().partition("=")
    if not sep:
        return Rejected(MALFORMED_SIGNATURE)
    if algorithm.lower() != "sha256":
        return Rejected(UNSUPPORTED_ALGORITHM)
    provided = _decode_hex(value)
    if provided is None:
        return Rejected(MALFORMED_SIGNATURE)
    keys = [s.encode() for s in auth.hmac_secrets]
    return Verified(system) if _matches_any(keys, body, provided) else Rejected(BAD_SIGNATURE)


def _servicenow_keys(auth: WebhookAuth) -> list[bytes]:
    keys = []
    for secret in auth.hmac_secrets:
        try:
            keys.append(base64.b64decode(secret, validate=True))
        except (binascii.Error, ValueError):
            # A key that is not base64 can never match what generateMac produced; skip it rather than fail.
            continue
    return keys


def _verify_servicenow(headers: Mapping[str, str], body: bytes, auth: WebhookAuth) -> Verified | Rejected:
    signature = headers.get(auth.signature_header.lower())
    if signature and auth.hmac_secrets:
        provided = _decode_base64(signature)
        if provided is None:
            return Rejected(MALFORMED_SIGNATURE)
        return Verified("servicenow") if _matches_any(_servicenow_keys(auth), body, provided) \
            else Rejected(BAD_SIGNATURE)
    authorization = headers.get("authorization")
    if authorization and auth.basic_credentials:
        return _verify_basic(authorization, auth.basic_credentials)
    return Rejected(MISSING_SIGNATURE if auth.hmac_secrets and not auth.basic_credentials else MISSING_CREDENTIALS)


def _verify_basic(authorization: str, credentials: tuple[BasicCredential, ...]) -> Verified | Rejected:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return Rejected(MISSING_CREDENTIALS)
    decoded = _decode_base64(token)
    if decoded is None or b":" not in decoded:
        return Rejected(MALFORMED_SIGNATURE)
    user, _, password = decoded.partition(b":")
    matched = False
    for cred in credentials:
        # Compare digests of equal length so that neither length nor content leaks through timing.
        user_ok = hmac.compare_digest(hashlib.sha256(user).digest(), hashlib.sha256(cred.username.encode()).digest())
        pw_ok = hmac.compare_digest(hashlib.sha256(password).digest(), hashlib.sha256(cred.password.encode()).digest())
        matched |= user_ok & pw_ok
    return Verified("servicenow", "basic") if matched else Rejected(BAD_CREDENTIALS)


def _verify_generic(headers: Mapping[str, str], body: bytes, auth: WebhookAuth, now: datetime) -> Verified | Rejected:
    timestamp = headers.get(GENERIC_TIMESTAMP_HEADER.lower())
    signature = headers.get(GENERIC_SIGNATURE_HEADER.lower())
    if not timestamp:
        return Rejected(MISSING_TIMESTAMP)
    if not signature:
        return Rejected(MISSING_SIGNATURE)
    timestamp = timestamp.strip()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return Rejected(MALFORMED_TIMESTAMP)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # a naive `now` is UTC, never the host's local time
    if abs(now.timestamp() - int(timestamp)) > auth.max_skew_seconds:
        return Rejected(STALE_TIMESTAMP)
    value = signature.strip()
    if value.lower().startswith(_HUB_PREFIX):
        value = value[len(_HUB_PREFIX):]
    provided = _decode_hex(value)
    if provided is None:
        return Rejected(MALFORMED_SIGNATURE)
    keys = [s.encode() for s in auth.hmac_secrets]
    message = timestamp.encode() + b"." + body
    return Verified("generic") if _matches_any(keys, message, provided) else Rejected(BAD_SIGNATURE)
