"""Jira and GitHub: `X-Hub-Signature(-256): sha256=<hex>`, the HMAC-SHA256 of the raw body with the secret."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shared.domain.tickets.auth import (
    BAD_SIGNATURE,
    MALFORMED_SIGNATURE,
    MISSING_SIGNATURE,
    UNSUPPORTED_ALGORITHM,
    Check,
    Rejected,
    TicketSystem,
    Verified,
    WebhookAuth,
    decode_hex,
    mac,
    matches_any,
    secret_setting,
)

JIRA_SIGNATURE_HEADER = "X-Hub-Signature"
GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
HUB_PREFIX = "sha256="


def hub_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature(-256)` value GitHub and Jira send: `sha256=<hex>`."""
    return HUB_PREFIX + mac(secret.encode(), body).hex()


def hub_check(system: str, header_name: str) -> Check:
    """The check of a system that signs like GitHub, in header `header_name`."""

    def check(headers: Mapping[str, str], body: bytes, auth: WebhookAuth, now: datetime) -> Verified | Rejected:
        header = headers.get(header_name.lower())
        if not header:
            return Rejected(MISSING_SIGNATURE)
        algorithm, sep, value = header.strip().partition("=")
        if not sep:
            return Rejected(MALFORMED_SIGNATURE)
        if algorithm.lower() != "sha256":
            return Rejected(UNSUPPORTED_ALGORITHM)
        provided = decode_hex(value)
        if provided is None:
            return Rejected(MALFORMED_SIGNATURE)
        keys = [s.encode() for s in auth.hmac_secrets]
        return Verified(system) if matches_any(keys, body, provided) else Rejected(BAD_SIGNATURE)

    return check


JIRA = TicketSystem("jira", hub_check("jira", JIRA_SIGNATURE_HEADER), "jira.yaml", {
    secret_setting("jira"): "jira webhook secret(s), separated by commas or line breaks during a rotation"})
GITHUB = TicketSystem("github", hub_check("github", GITHUB_SIGNATURE_HEADER), "github.yaml", {
    secret_setting("github"): "github webhook secret(s), separated by commas or line breaks during a rotation"})
