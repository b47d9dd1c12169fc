"""Any other system: `X-Aksvend-Timestamp` and `X-Aksvend-Signature`, the hex HMAC-SHA256 of `timestamp + "." + body`.

The Unix timestamp (seconds) is inside the signed bytes and is refused more than `max_skew_seconds` (5 minutes)
away from `now` in either direction, so a captured delivery cannot be replayed later. `now` is passed in: the
domain has no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.domain.tickets.auth import (
    BAD_SIGNATURE,
    MALFORMED_SIGNATURE,
    MALFORMED_TIMESTAMP,
    MISSING_SIGNATURE,
    MISSING_TIMESTAMP,
    STALE_TIMESTAMP,
    Rejected,
    TicketSystem,
    Verified,
    WebhookAuth,
    decode_hex,
    mac,
    matches_any,
    secret_setting,
)
from shared.domain.tickets.jira_github import HUB_PREFIX

GENERIC_TIMESTAMP_HEADER = "X-Aksvend-Timestamp"
GENERIC_SIGNATURE_HEADER = "X-Aksvend-Signature"


def generic_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Aksvend-Signature` value: hex HMAC-SHA256 of `timestamp + "." + body`."""
    return mac(secret.encode(), timestamp.encode() + b"." + body).hex()


def check(headers: Mapping[str, str], body: bytes, auth: WebhookAuth, now: datetime) -> Verified | Rejected:
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
    if value.lower().startswith(HUB_PREFIX):
        value = value[len(HUB_PREFIX):]
    provided = decode_hex(value)
    if provided is None:
        return Rejected(MALFORMED_SIGNATURE)
    keys = [s.encode() for s in auth.hmac_secrets]
    message = timestamp.encode() + b"." + body
    return Verified("generic") if matches_any(keys, message, provided) else Rejected(BAD_SIGNATURE)


GENERIC = TicketSystem("generic", check, "generic.yaml", {
    secret_setting("generic"): "generic webhook secret(s), separated by commas or line breaks during a rotation"})
