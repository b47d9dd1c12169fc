"""Lifecycle events from the engine's transitions: which events an operation's record says happened, and the
port (`LifecycleSink`) they are recorded through, the outbox in production.

When, and why there:

* `aksvend.operation.accepted`: when `submit` has written the operation row (the commit point), and again
  when a retried submit finds it, so that a crash between the row and the event heals on the caller's retry.
* `.succeeded` / `.failed`, `cluster.provisioned`, `pool.scaled`, `spot.replaced`: in `finish.release`, the
  first thing it does. `release` runs after the operation row is ended and is redone by the sweeper for every
  ended operation still in the active index, which `release` clears last; so a crash anywhere between ending
  the operation and clearing the index records the events again. `accepted` is recorded there too, so that
  an operation whose accepted event was lost (a crash right after the commit, and no retry) still reports it,
  before its outcome.
* Recording twice is harmless: event ids are deterministic (`shared.domain.lifecycle`) and the outbox keeps
  one row per id. Times come from the record (`createdAt`, `endedAt`), so a re-recorded event is identical.
* A failure to record propagates: the HTTP call answers 5xx and is retried, the step message is redelivered,
  the sweeper tries again. Events are never dropped to let a transition through.

The ticket reference travels in `OperationRecord.ticket` as compact JSON (`encode_ticket`). The operation's source
is read as an `OperationSource` (shared/domain/operation_source.py): the reaction `spot-fallback` with its spot
pool marks a put-pool operation that replaces evicted spot capacity (the events service submits it so), which
adds `aksvend.spot.replaced`; the reaction's rule is also why a pool's count changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shared.domain import lifecycle
from shared.domain.lifecycle import ClusterRef, LifecycleEvent
from shared.domain.operation_source import OperationSource
from shared.domain.tickets.ref import TicketRef
from shared.engine.records import OperationRecord

__all__ = [
    "LifecycleSink",
    "accepted_events",
    "encode_ticket",
    "ended_events",
    "ticket_of",
]

log = logging.getLogger("aksvend.lifecycle")

# a reaction's rule -> why a pool's count changed (`data.reason` of aksvend.pool.scaled); other reactions say
# "reaction", anything that is not a reaction "request"
_SCALE_REASONS = {"spot-fallback": "spotEviction", "fallback-scale-down": "cooldown", "pool-pressure": "pressure"}
SPOT_FALLBACK = "spot-fallback"


class LifecycleSink(Protocol):
    """Durably records lifecycle events (in order, all or raise); something else publishes them later."""

    async def record(self, events: Sequence[LifecycleEvent]) -> None: ...


def encode_ticket(ref: TicketRef) -> str:
    """How a ticket reference is stored in `OperationRecord.ticket`."""
    return json.dumps(ref.to_dict(), separators=(",", ":"), sort_keys=True)


def ticket_of(op: OperationRecord) -> TicketRef | None:
    """The operation's ticket, or None (no ticket, or a value this version cannot read: the event goes without)."""
    if not op.ticket:
        return None
    try:
        data = json.loads(op.ticket)
        return TicketRef.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        log.warning("operation %s: its ticket reference is not readable; events go without it", op.id)
        return None


def _cluster(op: OperationRecord) -> ClusterRef:
    request = op.request
    return ClusterRef(str(request["subscriptionId"]), str(request["resourceGroup"]), str(request["name"]))


def accepted_events(op: OperationRecord) -> list[LifecycleEvent]:
    return [lifecycle.operation_accepted(_cluster(op), op.id, op.kind, time=op.created_at, ticket=ticket_of(op))]


def ended_events(op: OperationRecord, applied: Mapping[str, Any] | None) -> list[LifecycleEvent]:
    """What an ended operation reports, in order: accepted (again; kept once), then what it achieved, then its
    outcome. `applied` is the cluster's request as the previous successful operation left it (the registry's
    `applied`, read before this operation is released), for the pool's previous count."""
    if op.ended_at is None or op.state not in ("succeeded", "failed"):
        return []
    cluster, ticket, time = _cluster(op), ticket_of(op), op.ended_at
    events = accepted_events(op)
    if op.state == "failed":
        error = op.error or {}
        events.append(lifecycle.operation_failed(
            cluster, op.id, op.kind, code=str(error.get("code") or "OperationFailed"),
            message=str(error.get("message") or ""), time=time, ticket=ticket,
            target=_step_target(op, error.get("step"))))
        return events
    if op.kind == "create-cluster":
        from shared.domain.request import ClusterRequest

        request = ClusterRequest.model_validate(op.request)
        events.append(lifecycle.cluster_provisioned(
            cluster, op.id, location=request.location, kubernetes_version=request.kubernetes_version,
            pools=lifecycle.pools_of(request), time=time, ticket=ticket))
    elif op.kind in ("put-pool", "update-pool") and op.pool:
        events.extend(_pool_events(op, cluster, ticket, applied))
    events.append(lifecycle.operation_succeeded(cluster, op.id, op.kind, time=time, ticket=ticket))
    return events


def _pool_events(op: OperationRecord, cluster: ClusterRef, ticket: TicketRef | None,
                 applied: Mapping[str, Any] | None) -> list[LifecycleEvent]:
    assert op.pool is not None and op.ended_at is not None
    to_count = _pool_count(op.request, op.pool)
    from_count = _pool_count(applied or {}, op.pool) or 0
    source = OperationSource.parse(op.source)
    events = []
    if to_count is not None and to_count != from_count:
        events.append(lifecycle.pool_scaled(cluster, op.id, pool=op.pool, from_count=from_count, to_count=to_count,
                                            reason=_scale_reason(source), time=op.ended_at, ticket=ticket))
    replaced = source.pool if source and source.kind == "reaction" and source.name == SPOT_FALLBACK else None
    if replaced is not None and to_count:
        events.append(lifecycle.spot_replaced(cluster, op.id, spot_pool=replaced, fallback_pool=op.pool,
                                              fallback_count=to_count, time=op.ended_at, ticket=ticket))
    return events


def _pool_count(request: Mapping[str, Any], name: str) -> int | None:
    pools = [request.get("systemPool") or {}, *(request.get("userPools") or [])]
    found = next((p for p in pools if isinstance(p, Mapping) and p.get("name") == name), None)
    count = found.get("count") if found else None
    return count if isinstance(count, int) else None


def _scale_reason(source: OperationSource | None) -> str:
    if source is None or source.kind != "reaction":
        return "request"
    return _SCALE_REASONS.get(source.name or "", "reaction")


def _step_target(op: OperationRecord, step: Any) -> str | None:
    """The ARM id the failed step was about (`put:cluster` -> the cluster's id), when there is such a step."""
    if not isinstance(step, str) or ":" not in step:
        return None
    try:
        specs = op.specs()
    except ValueError:
        return None
    return next((s.resource_id for s in specs if s.id == step), None)
