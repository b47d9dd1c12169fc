"""What every ticketing system's webhook check is made of: its configuration (`WebhookAuth`), its verdicts
(`Verified` / `Rejected` with one of a few fixed reasons), the `TicketSystem` record a system declares itself
with, and the MAC and decoding helpers the checks share. The systems themselves are `jira_github.py`,
`servicenow.py` and `generic.py`; `signatures.py` registers them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

DEFAULT_MAX_SKEW_SECONDS = 300
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
    system: str
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


# A system's check of one delivery: (headers with lower-cased names, raw body, its configuration, now).
Check = Callable[[Mapping[str, str], bytes, WebhookAuth, datetime], Verified | Rejected]


def has_hmac_secrets(auth: WebhookAuth) -> bool:
    return bool(auth.hmac_secrets)


@dataclass(frozen=True, slots=True)
class TicketSystem:
    """A ticketing system, as it declares itself to the registry (`signatures.py`)."""

    name: str  # the {system} of POST /api/webhooks/{system}, and the `system` of its mapping file
    check: Check
    mapping_file: str  # its built-in mapping, in mappings/ (an override directory may replace it)
    settings: Mapping[str, str]  # the app settings it is configured by -> what each is for
    configured: Callable[[WebhookAuth], bool] = has_hmac_secrets  # False: its deliveries are refused


def secret_setting(system: str) -> str:
    """The app setting that holds a system's webhook secret(s)."""
    return f"AKSVEND_WEBHOOK_SECRET_{system.upper()}"


def mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def matches_any(keys: list[bytes], message: bytes, provided: bytes) -> bool:
    # No short-circuit: try every key, so timing does not reveal which one (if any) matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(mac(key, message), provided)
    return matched


def decode_hex(value: str) -> bytes | None:
    if len(value) > _MAX_SIGNATURE_CHARS:
        return None
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        return None


def decode_base64(value: str) -> bytes | None:
    if len(value) > _MAX_SIGNATURE_CHARS:
        return None
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
