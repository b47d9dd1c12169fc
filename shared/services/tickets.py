"""Use case: a ticketing webhook delivery becomes an operation (POST /api/webhooks/{system}).

    verify signature -> parse JSON -> extract (mapping) -> once per revision (ledger) -> validate (rules.check)
        -> not deleted since (ledger) -> submit | tell the ticket -> record the revision (ledger)

Choices, and why:

* Authentication comes first, before the body is parsed: an unsigned or wrongly signed delivery is refused
  (`TicketUnauthorized`, 401) having recorded and published nothing, and its reason is a fixed sentence.
  Only the size check comes earlier, so that nobody can make us HMAC a gigabyte.
* Once per revision (shared/domain/tickets/revision.py, shared/services/ticket_ledger.py): a ticket is acted on
  once per (system, ticket, hash of its requested fields), and only by a delivery newer than the one acted on.
  A retry, a replay, an older delivery and a status change are `TicketUnchanged` (200, what is known): nothing
  is submitted and nothing is told. So a Jira transition after an API change to the cluster is not a
  `ClusterNameTaken`, and a captured delivery replayed after the cluster was deleted does not create it again;
  nor does any delivery written before the deletion. The ledger outlives the cluster.
* Idempotency: the key is system + ticket + the hash of the requested fields (never the delivery id header: no
  signature covers it), and `submit` (the engine) returns the existing operation for a key it has seen. A
  retried delivery of an invalid ticket records the same failure event again, which the outbox keeps once
  (deterministic event id).
* A revision that is neither a whole number nor an ISO 8601 time cannot be ordered: `TicketInvalid`
  (`TICKET_REVISION`), told like any invalid ticket.
* A ticket that carries no usable request (no block, a field of the wrong type) or an invalid one is
  `TicketInvalid` (422) with the violations, and, when the ticket could be identified, an
  `aksvend.operation.failed` event (code `InvalidRequest`) is handed to `publish` so the ticket can be told.
  `publish` is the outbox in production: the event is recorded in this same request and published later.
* Failures of `publish` or `submit` propagate (the HTTP layer answers 5xx): the sender retries, and because
  both are idempotent, the retry does what this delivery could not.
* Deliveries that are not about a ticket (GitHub's ping, a Jira comment) are `TicketIgnored` (200).
* A body that is not JSON aksvend reads (shared/domain/jsontext.py: not UTF-8, malformed, a duplicate key, nested
  too deep, a number that is not finite) is `TicketMalformed` (400) with the reader's code: no ticket can be named
  from it, so none is told.
* A valid request that `submit` refuses (`NotPermitted` by the caller policy, `NotFound`, `InConflict`
  `ClusterNameTaken` when an edited ticket asks for a different cluster under the same name) is told to the ticket
  the same way, with the refusal's code, and the refusal propagates to the HTTP layer.
* Tickets are callers like any other (`ticket_caller`: `webhook:<system>`), held to the caller policy; the
  operation carries the ticket reference (`shared.engine.lifecycle.encode_ticket`) and source `ticket:<system>`.

Each outcome type (shared/services/ticket_outcomes.py) names the HTTP status it stands for (`status`); the
wiring that the webhook trigger holds is `TicketIntake`, at the end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import shared.domain.jsontext as jsontext
from shared.domain import lifecycle
from shared.domain.caller import Caller, webhook_caller
from shared.domain.request import ClusterRequest
from shared.domain.rules import Context, check
from shared.domain.tickets import (
    REGISTRY,
    Rejected,
    TicketIgnored,
    TicketMapping,
    TicketProblem,
    TicketRef,
    TicketRequest,
    TicketSystem,
    WebhookAuth,
    extract,
    verify,
)
from shared.domain.tickets.revision import UNORDERED_RULE, fields_hash, ticket_time
from shared.domain.violations import Violation, pointer
from shared.engine.lifecycle import encode_ticket
from shared.engine.ports import Clock
from shared.engine.records import cluster_key
from shared.refusals import InConflict, NotFound, NotPermitted
from shared.services.ports_events import EventPublisher
from shared.services.ticket_ledger import Known, TicketLedger
from shared.services.ticket_mappings import BUILTIN_MAPPINGS, load_mappings
from shared.services.ticket_outcomes import (
    TicketAccepted,
    TicketIgnoredOutcome,
    TicketInvalid,
    TicketMalformed,
    TicketOutcome,
    TicketTooLarge,
    TicketUnauthorized,
    TicketUnchanged,
    TicketUnknownSystem,
)

__all__ = [
    "BUILTIN_MAPPINGS",
    "MAX_BODY_BYTES",
    "SubmitRequest",
    "TicketAccepted",
    "TicketIgnoredOutcome",
    "TicketIntake",
    "TicketInvalid",
    "TicketMalformed",
    "TicketOutcome",
    "TicketTooLarge",
    "TicketUnauthorized",
    "TicketUnchanged",
    "TicketUnknownSystem",
    "handle_ticket",
    "load_mappings",
    "submit_through",
    "ticket_caller",
]

log = logging.getLogger(__name__)

# Jira payloads carry the whole issue (changelog, comments); 1 MiB leaves room and bounds the work.
MAX_BODY_BYTES = 1024 * 1024
TICKET_SOURCE = "aksvend ticket mapping (docs/integrations.md)"
# Names safe to put in an event's source URI; anything else and the event is about the ticket alone.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9._()-]{1,90}\Z")
# Refusals of a valid request that the ticket is told about (the rest are our failures: the sender retries).
_TOLD_REFUSALS = (NotPermitted, NotFound, InConflict)


class SubmitRequest(Protocol):
    """The engine's submit: create (or find, for a key seen before) the operation; return its id."""

    async def __call__(self, request: ClusterRequest, idempotency_key: str, ticket_ref: TicketRef) -> str: ...



async def handle_ticket(
    system: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: datetime,
    *,
    secrets: Mapping[str, WebhookAuth],
    mappings: Mapping[str, TicketMapping],
    submit: SubmitRequest,
    publish: EventPublisher,
    ledger: TicketLedger,
    default_subscription_id: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    systems: Mapping[str, TicketSystem] = REGISTRY,
) -> TicketOutcome:
    """Handle one webhook delivery; see the module docstring for the steps and their outcomes."""
    if system not in systems or system not in mappings:
        return TicketUnknownSystem(system)
    if len(raw_body) > max_body_bytes:
        return TicketTooLarge(max_body_bytes)
    verdict = verify(system, headers, raw_body, secrets.get(system), now, systems)
    if isinstance(verdict, Rejected):
        log.warning("webhook delivery for %s refused: %s", system, verdict.reason)
        return TicketUnauthorized(verdict.reason)

    try:
        payload = jsontext.loads(raw_body)
    except jsontext.JsonRefused as refused:
        return TicketMalformed(refused.code, refused.message)
    extracted = extract(system, headers, payload, mappings[system])
    if isinstance(extracted, TicketIgnored):
        log.info("webhook delivery for %s ignored: %s", system, extracted.reason)
        return TicketIgnoredOutcome(extracted.reason)
    if isinstance(extracted, TicketProblem):
        violation = Violation("TICKET_NO_REQUEST", _payload_pointer(extracted.field), extracted.rule,
                              source=TICKET_SOURCE)
        return await _invalid(extracted.ticket_ref, extracted.idempotency_key, (violation,), None, now, publish)
    if ticket_time(extracted.ticket_ref.revision) is None:
        violation = Violation("TICKET_REVISION", _payload_pointer(mappings[system].revision), UNORDERED_RULE,
                              source=TICKET_SOURCE)
        return await _invalid(extracted.ticket_ref, extracted.idempotency_key, (violation,), None, now, publish)
    return await _once(extracted, now, submit=submit, publish=publish, ledger=ledger,
                       default_subscription_id=default_subscription_id)


async def _once(extracted: TicketRequest, now: datetime, *, submit: SubmitRequest, publish: EventPublisher,
                ledger: TicketLedger, default_subscription_id: str) -> TicketOutcome:
    """Act on a ticket's request once per revision of its requested fields, never for a deleted cluster's past."""
    ref, fields = extracted.ticket_ref, fields_hash(extracted.raw_request)
    known = await ledger.judge(ref, fields)
    if known is not None:
        return _unchanged(ref, known)
    request, violations = check(extracted.raw_request, default_subscription_id=default_subscription_id,
                                context=Context(as_of=now.date()))
    if request is None:
        cluster = _cluster_of(extracted.raw_request, default_subscription_id)
        return await _invalid(ref, extracted.idempotency_key, tuple(violations), cluster, now, publish)
    key = cluster_key(request.subscription_id, request.resource_group, request.name)
    known = await ledger.deleted_since(ref, key)
    if known is not None:
        return _unchanged(ref, known)
    try:
        operation_id = await _submit(extracted, request, submit, publish, now)
    except _TOLD_REFUSALS:
        # The ticket was told; this revision was processed all the same: a replay of it (after the cluster's
        # deletion too, where a sequence number cannot be compared with the deletion's time) does not act.
        await ledger.acted(ref, fields, None, key)
        raise
    await ledger.acted(ref, fields, operation_id, key)
    log.info("ticket %s %s accepted as operation %s", ref.system, ref.key, operation_id)
    warnings = tuple(v for v in violations if v.severity == "warning")
    return TicketAccepted(operation_id, ref, extracted.idempotency_key, warnings)


def _unchanged(ref: TicketRef, known: Known) -> TicketUnchanged:
    log.info("ticket %s %s: nothing to do (%s)", ref.system, ref.key, known.reason)
    return TicketUnchanged(known.reason, ref, known.operation_id, known.cluster)


async def _submit(extracted: TicketRequest, request: ClusterRequest, submit: SubmitRequest, publish: EventPublisher,
                  now: datetime) -> str:
    """Submit a valid request; a refusal the ticket should hear of (403, 404, 409) is told, then raised."""
    try:
        return await submit(request, extracted.idempotency_key, extracted.ticket_ref)
    except _TOLD_REFUSALS as refusal:  # told to the ticket, then on to the HTTP answer
        told = (Violation(refusal.code, "", refusal.detail, source=TICKET_SOURCE),)
        await _invalid(extracted.ticket_ref, extracted.idempotency_key, told, lifecycle.ClusterRef.of(request), now,
                       publish, code=refusal.code)
        raise


async def _invalid(ref: TicketRef | None, key: str | None, violations: tuple[Violation, ...],
                   cluster: lifecycle.ClusterRef | None, now: datetime, publish: EventPublisher, *,
                   code: str = lifecycle.INVALID_REQUEST_CODE) -> TicketInvalid:
    if ref is None or key is None:
        return TicketInvalid(violations)
    event = lifecycle.ticket_rejected(ref, idempotency_key=key, violations=violations, time=now, cluster=cluster,
                                      code=code)
    await publish.publish([event])
    log.info("ticket %s %s maps to an invalid request (%d violations)", ref.system, ref.key, len(violations))
    return TicketInvalid(violations, ref, (event.id,))


def _payload_pointer(path: str) -> str:
    """A dotted payload path as a JSON pointer into the payload (several paths: the first)."""
    first = path.split(",")[0].strip()
    return pointer(*first.split(".")) if first and first.replace(".", "").replace("_", "").isalnum() else ""


def _cluster_of(raw: Mapping[str, Any], default_subscription_id: str) -> lifecycle.ClusterRef | None:
    """Which cluster an invalid request meant, when it says so plainly (for the event's source)."""
    name, group = raw.get("name"), raw.get("resourceGroup")
    subscription = raw.get("subscriptionId", default_subscription_id)
    if (isinstance(name, str) and isinstance(group, str) and isinstance(subscription, str)
            and all(_PLAIN_NAME.match(v) for v in (name, group, subscription))):
        return lifecycle.ClusterRef(subscription, group, name)
    return None


# --- wiring: what the webhook trigger holds --------------------------------------------------------------------


def ticket_caller(system: str) -> Caller:
    """Who a ticketing system is for the caller policy: grant `webhook:<system>` (in `services`) the scopes its
    tickets may use."""
    return webhook_caller(system)


class _ClusterCreator(Protocol):
    async def create(self, raw: Any, caller: Caller, *, idempotency_key: str | None = None, source: str = "api",
                     ticket: str | None = None) -> Any: ...


def submit_through(clusters: _ClusterCreator) -> SubmitRequest:
    """`SubmitRequest` on `Clusters.create`: the caller policy, conflicts and the engine's idempotency are
    the API's. The request was validated here already; `create` validates its canonical form again (the same)."""

    async def submit(request: ClusterRequest, idempotency_key: str, ticket_ref: TicketRef) -> str:
        accepted = await clusters.create(request.model_dump(mode="json", by_alias=True),
                                         ticket_caller(ticket_ref.system), idempotency_key=idempotency_key,
                                         source=f"ticket:{ticket_ref.system}", ticket=encode_ticket(ticket_ref))
        return str(accepted.operation_id)

    return submit


@dataclass(frozen=True, slots=True)
class TicketIntake:
    """Everything `handle_ticket` needs, built once by bootstrap; the webhook trigger calls `handle`."""

    secrets: Mapping[str, WebhookAuth] = field(repr=False)
    mappings: Mapping[str, TicketMapping]
    submit: SubmitRequest
    publish: EventPublisher
    ledger: TicketLedger
    default_subscription_id: str
    clock: Clock
    max_body_bytes: int = MAX_BODY_BYTES
    systems: Mapping[str, TicketSystem] = field(default_factory=lambda: REGISTRY, repr=False)

    async def handle(self, system: str, headers: Mapping[str, str], raw_body: bytes) -> TicketOutcome:
        return await handle_ticket(system, headers, raw_body, self.clock.now(), secrets=self.secrets,
                                   mappings=self.mappings, submit=self.submit, publish=self.publish,
                                   ledger=self.ledger, default_subscription_id=self.default_subscription_id,
                                   max_body_bytes=self.max_body_bytes, systems=self.systems)
