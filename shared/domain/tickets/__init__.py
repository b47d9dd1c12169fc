"""Ticketing webhooks, the pure part: who sent a delivery (`signatures`), which ticket it is about and what
cluster request it carries (`mapping`, with one YAML mapping file per system under `mappings/`).

The use case that strings these together with validation and the engine is `shared.services.tickets`.
"""

from shared.domain.tickets.mapping import (
    MappingError,
    TicketIgnored,
    TicketMapping,
    TicketProblem,
    TicketRequest,
    extract,
    parse_mapping,
)
from shared.domain.tickets.ref import TicketRef
from shared.domain.tickets.signatures import SYSTEMS, BasicCredential, Rejected, System, Verified, WebhookAuth, verify

__all__ = [
    "SYSTEMS",
    "BasicCredential",
    "MappingError",
    "Rejected",
    "System",
    "TicketIgnored",
    "TicketMapping",
    "TicketProblem",
    "TicketRef",
    "TicketRequest",
    "Verified",
    "WebhookAuth",
    "extract",
    "parse_mapping",
    "verify",
]
