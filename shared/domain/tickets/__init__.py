"""Ticketing webhooks, the pure part: who sent a delivery (`signatures`: the registry of systems, one module
each), which ticket it is about and what cluster request it carries (`mapping`, with one YAML mapping file per
system under `mappings/`).

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
from shared.domain.tickets.signatures import (
    REGISTRY,
    SYSTEMS,
    BasicCredential,
    Rejected,
    TicketSystem,
    Verified,
    WebhookAuth,
    verify,
)

__all__ = [
    "REGISTRY",
    "SYSTEMS",
    "BasicCredential",
    "MappingError",
    "Rejected",
    "TicketIgnored",
    "TicketMapping",
    "TicketProblem",
    "TicketRef",
    "TicketRequest",
    "TicketSystem",
    "Verified",
    "WebhookAuth",
    "extract",
    "parse_mapping",
    "verify",
]
