"""What a ticketing webhook delivery comes to (`shared.services.tickets.handle_ticket`): one type per outcome,
each naming the HTTP status it stands for (`status`); functions/webhooks.py maps them to responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from shared.domain.tickets import TicketRef
from shared.domain.violations import Violation

__all__ = [
    "TicketAccepted",
    "TicketIgnoredOutcome",
    "TicketInvalid",
    "TicketMalformed",
    "TicketOutcome",
    "TicketTooLarge",
    "TicketUnauthorized",
    "TicketUnchanged",
    "TicketUnknownSystem",
]


@dataclass(frozen=True, slots=True)
class TicketAccepted:
    status: ClassVar[int] = 202
    operation_id: str
    ticket_ref: TicketRef
    idempotency_key: str
    warnings: tuple[Violation, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketUnauthorized:
    status: ClassVar[int] = 401
    reason: str


@dataclass(frozen=True, slots=True)
class TicketInvalid:
    status: ClassVar[int] = 422
    violations: tuple[Violation, ...]
    ticket_ref: TicketRef | None = None
    published: tuple[str, ...] = field(default=())  # ids of the events handed to `publish`


@dataclass(frozen=True, slots=True)
class TicketMalformed:
    status: ClassVar[int] = 400
    code: str  # the JSON reader's: MalformedJson, DuplicateKey, TooDeep, NotUtf8 or NotFinite
    message: str  # names the place, never a value


@dataclass(frozen=True, slots=True)
class TicketIgnoredOutcome:
    status: ClassVar[int] = 200
    reason: str


@dataclass(frozen=True, slots=True)
class TicketUnknownSystem:
    status: ClassVar[int] = 404
    system: str


@dataclass(frozen=True, slots=True)
class TicketTooLarge:
    status: ClassVar[int] = 413
    limit_bytes: int


@dataclass(frozen=True, slots=True)
class TicketUnchanged:
    """A delivery that asks for nothing new (a replay, an older delivery, a status change, one older than the
    cluster's deletion): nothing is done, nothing is told; the answer is what is already known."""

    status: ClassVar[int] = 200
    reason: str  # one of shared.domain.tickets.revision's fixed sentences
    ticket_ref: TicketRef
    operation_id: str | None  # the operation of the revision acted on, if any
    cluster: Mapping[str, str] | None = None  # subscriptionId, resourceGroup, name, state: the ticket's cluster


TicketOutcome = (TicketAccepted | TicketUnauthorized | TicketInvalid | TicketMalformed | TicketIgnoredOutcome
                 | TicketUnchanged | TicketUnknownSystem | TicketTooLarge)
