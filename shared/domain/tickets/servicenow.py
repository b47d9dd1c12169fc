"""ServiceNow: a base64 HMAC-SHA256 of the raw body in a configured header, or HTTP Basic.

ServiceNow has no built-in signing. A Business Rule adds a header with
`GlideCertificateEncryption.generateMac(base64Key, "HmacSHA256", body)`: the key is configured **base64** (the
MAC key is its decoded bytes) and the MAC is base64. HTTP Basic is the alternative ServiceNow offers out of the box.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from shared.domain.tickets.auth import (
    BAD_CREDENTIALS,
    BAD_SIGNATURE,
    MALFORMED_SIGNATURE,
    MISSING_CREDENTIALS,
    MISSING_SIGNATURE,
    BasicCredential,
    Rejected,
    TicketSystem,
    Verified,
    WebhookAuth,
    decode_base64,
    mac,
    matches_any,
    secret_setting,
)

SIGNATURE_HEADER_SETTING = "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER"
BASIC_USER_SETTING = "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER"
BASIC_PASSWORD_SETTING = "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD"


def servicenow_signature(base64_key: str, body: bytes) -> str:
    """What `GlideCertificateEncryption.generateMac(base64Key, "HmacSHA256", body)` returns."""
    return base64.b64encode(mac(base64.b64decode(base64_key, validate=True), body)).decode()


def _keys(auth: WebhookAuth) -> list[bytes]:
    keys = []
    for secret in auth.hmac_secrets:
        try:
            keys.append(base64.b64decode(secret, validate=True))
        except (binascii.Error, ValueError):
            # A key that is not base64 can never match what generateMac produced; skip it rather than fail.
            continue
    return keys


def check(headers: Mapping[str, str], body: bytes, auth: WebhookAuth, now: datetime) -> Verified | Rejected:
    signature = headers.get(auth.signature_header.lower())
    if signature and auth.hmac_secrets:
        provided = decode_base64(signature)
        if provided is None:
            return Rejected(MALFORMED_SIGNATURE)
        return Verified("servicenow") if matches_any(_keys(auth), body, provided) else Rejected(BAD_SIGNATURE)
    authorization = headers.get("authorization")
    if authorization and auth.basic_credentials:
        return _verify_basic(authorization, auth.basic_credentials)
    return Rejected(MISSING_SIGNATURE if auth.hmac_secrets and not auth.basic_credentials else MISSING_CREDENTIALS)


def _verify_basic(authorization: str, credentials: tuple[BasicCredential, ...]) -> Verified | Rejected:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return Rejected(MISSING_CREDENTIALS)
    decoded = decode_base64(token)
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


SERVICENOW = TicketSystem("servicenow", check, "servicenow.yaml", {
    secret_setting("servicenow"): "servicenow base64 HMAC key(s), separated by commas or line breaks",
    SIGNATURE_HEADER_SETTING: "header of ServiceNow's base64 MAC (default X-Aksvend-Signature)",
    BASIC_USER_SETTING: "servicenow HTTP Basic user (alternative to the MAC); unset: off",
    BASIC_PASSWORD_SETTING: "that user's password(s), separated by commas or line breaks",
}, configured=lambda auth: bool(auth.hmac_secrets or auth.basic_credentials))
