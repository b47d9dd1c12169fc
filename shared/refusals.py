"""Refusals: what a caller asked for that aksvend turns down, as domain exceptions (the `Refused` branch of the
tree in shared/errors.py).

Services and the HTTP edge raise them; each way in maps them to an outcome of its own, and only the HTTP edge knows
status codes:

* the HTTP API: an RFC 9457 problem with the status of the refusal's class (functions/problems.py, `STATUS`, one
  table) and its `code`, `detail` and `violations`;
* the `cluster-requests` queue: the message is rejected (the poison queue keeps it; functions/queues.py);
* a ticketing webhook: the ticket is told through an event (shared/services/tickets.py), then the HTTP answer;
* an event reaction: a decision refused, with the code noted in the reaction history (shared/services/events).

`code` is stable (clients and tests match it), `detail` one sentence for people: neither carries a secret or a
value the sender sent beyond a name. Imports nothing but shared.errors, so the HTTP edge loads it at cold start.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared.errors import AksvendError

if TYPE_CHECKING:
    from shared.domain.violations import Violation

__all__ = [
    "InConflict",
    "InvalidInput",
    "MalformedInput",
    "NotAuthenticated",
    "NotFound",
    "NotPermitted",
    "Refused",
    "TooLarge",
    "Unavailable",
    "UnsupportedMediaType",
]


class Refused(AksvendError):
    """A request turned down: `code` (stable), `detail` (one sentence), `violations` (for input that breaks rules)."""

    def __init__(self, code: str, detail: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.violations: tuple[Violation, ...] = tuple(violations)


class InvalidInput(Refused):
    """The request breaks rules of the request contract; `violations` lists every one."""


class MalformedInput(Refused):
    """The input cannot be read as what it claims to be: JSON syntax, a header, an event delivery, a handshake."""


class NotAuthenticated(Refused):
    """The sender did not prove who it is: no secret, or a wrong or stale signature."""


class NotPermitted(Refused):
    """The caller policy does not let this caller do this there."""


class NotFound(Refused):
    """No such cluster, pool, operation or ticketing system (among those aksvend manages)."""


class InConflict(Refused):
    """The cluster's current state or an earlier request stands in the way: a name another request owns, a reused
    idempotency key, the system pool, a cluster that kept changing."""


class TooLarge(Refused):
    """The body is larger than aksvend reads."""


class UnsupportedMediaType(Refused):
    """The body is not JSON."""


class Unavailable(Refused):
    """What the answer needs from outside (ARM) could not be read now; the request may be sent again shortly."""
