"""Is this webhook delivery really from the ticketing system? The registry of systems, each fail-closed.

Each system is a module that declares a `TicketSystem` (`auth.py`): its name, its signature check, its mapping
file and the app settings it is configured by. `REGISTRY` below lists them, one line each; `verify` dispatches
through it, and the mappings, the settings and the webhook route read it too.

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
* ServiceNow has no built-in signing: see `servicenow.py`. `generic` signs a timestamp with the body, against
  replays: see `generic.py`.
* A `Rejected` reason is one of a few fixed sentences. It never contains a secret, the expected signature, or
  anything the caller sent: it may end up in a log or a 401 body.
* Configuration holds secrets as plain strings (`repr=False`): they come from app settings (Key Vault
  references in Azure), never from the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from shared.domain.tickets.auth import (
    DEFAULT_MAX_SKEW_SECONDS,
    NOT_CONFIGURED,
    UNKNOWN_SYSTEM,
    BasicCredential,
    Rejected,
    TicketSystem,
    Verified,
    WebhookAuth,
)
from shared.domain.tickets.generic import (
    GENERIC,
    GENERIC_SIGNATURE_HEADER,
    GENERIC_TIMESTAMP_HEADER,
    generic_signature,
)
from shared.domain.tickets.jira_github import (
    GITHUB,
    GITHUB_SIGNATURE_HEADER,
    JIRA,
    JIRA_SIGNATURE_HEADER,
    hub_signature,
)
from shared.domain.tickets.servicenow import SERVICENOW, servicenow_signature

__all__ = [
    "DEFAULT_MAX_SKEW_SECONDS",
    "GENERIC_SIGNATURE_HEADER",
    "GENERIC_TIMESTAMP_HEADER",
    "GITHUB_SIGNATURE_HEADER",
    "JIRA_SIGNATURE_HEADER",
    "REGISTRY",
    "SYSTEMS",
    "BasicCredential",
    "Rejected",
    "TicketSystem",
    "Verified",
    "WebhookAuth",
    "generic_signature",
    "hub_signature",
    "servicenow_signature",
    "verify",
]

# The ticketing systems aksvend takes webhooks from: one line each, in the order they are listed to callers.
REGISTRY: Mapping[str, TicketSystem] = MappingProxyType({system.name: system for system in (
    JIRA,
    GITHUB,
    SERVICENOW,
    GENERIC,
)})
SYSTEMS: tuple[str, ...] = tuple(REGISTRY)


def verify(system: str, headers: Mapping[str, str], body: bytes, auth: WebhookAuth | None, now: datetime,
           systems: Mapping[str, TicketSystem] = REGISTRY) -> Verified | Rejected:
    """Check one delivery's signature against every configured secret for `system` (one of `systems`)."""
    found = systems.get(system)
    if found is None:
        return Rejected(UNKNOWN_SYSTEM)
    if auth is None or not found.configured(auth):
        return Rejected(NOT_CONFIGURED)
    return found.check({k.lower(): v for k, v in headers.items()}, body, auth, now)
