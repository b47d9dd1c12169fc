"""Outbound lifecycle events, as CloudEvents 1.0: how tickets and other systems hear what happened.

| type                               | when                                            | id derived from        |
|------------------------------------|-------------------------------------------------|------------------------|
| `aksvend.operation.accepted`       | an operation was created                        | operation id           |
| `aksvend.operation.succeeded`      | it finished                                     | operation id           |
| `aksvend.operation.failed`         | it failed (ARM code and message), or a ticket   | operation id, or the   |
|                                    | mapped to an invalid request (`InvalidRequest`) | ticket's idempotency   |
| `aksvend.cluster.provisioned`      | a new cluster is ready                          | operation id           |
| `aksvend.pool.scaled`              | a pool's node count changed                     | operation id, pool     |
| `aksvend.spot.replaced`            | evicted spot capacity was replaced on demand    | operation id, pool     |
| `aksvend.cluster.upgradeAvailable` | a newer Kubernetes version can be applied       | cluster, both versions |
| `aksvend.cluster.drifted`          | ARM differs from the request (docs/drift.md)    | cluster, check, drift  |

Choices, and why:

* Ids are deterministic (UUIDv5 of type and what the event is about), so that a transition retried after a
  crash records the same event again, the outbox keeps one, and subscribers that dedupe by id see one.
* `source` is `/aksvend/clusters/{subscriptionId}/{resourceGroup}/{name}`; `subject` is the cluster's ARM
  id, so that an Event Grid subscription can filter with `subjectBeginsWith` on a subscription or group.
* The ticket reference is in `data.ticket` and also in the extension attributes `ticketsystem` and
  `ticketkey`, which Event Grid advanced filters can match (e.g. only Jira tickets for a Logic App).
* The domain has no clock: every builder takes `time`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.domain.request import ClusterRequest
from shared.domain.tickets.ref import TicketRef
from shared.domain.violations import Violation

__all__ = [
    "CLUSTER_DRIFTED",
    "CLUSTER_PROVISIONED",
    "EVENT_TYPES",
    "OPERATION_ACCEPTED",
    "OPERATION_FAILED",
    "OPERATION_SUCCEEDED",
    "POOL_SCALED",
    "SPOT_REPLACED",
    "UPGRADE_AVAILABLE",
    "ClusterRef",
    "LifecycleEvent",
    "PoolSummary",
    "cluster_drifted",
    "cluster_provisioned",
    "operation_accepted",
    "operation_failed",
    "operation_succeeded",
    "pool_scaled",
    "pools_of",
    "spot_replaced",
    "ticket_rejected",
    "upgrade_available",
]

OPERATION_ACCEPTED = "aksvend.operation.accepted"
OPERATION_SUCCEEDED = "aksvend.operation.succeeded"
OPERATION_FAILED = "aksvend.operation.failed"
CLUSTER_PROVISIONED = "aksvend.cluster.provisioned"
POOL_SCALED = "aksvend.pool.scaled"
SPOT_REPLACED = "aksvend.spot.replaced"
UPGRADE_AVAILABLE = "aksvend.cluster.upgradeAvailable"
CLUSTER_DRIFTED = "aksvend.cluster.drifted"
EVENT_TYPES = (OPERATION_ACCEPTED, OPERATION_SUCCEEDED, OPERATION_FAILED, CLUSTER_PROVISIONED, POOL_SCALED,
               SPOT_REPLACED, UPGRADE_AVAILABLE, CLUSTER_DRIFTED)

INVALID_REQUEST_CODE = "InvalidRequest"
# Fixed namespace for the UUIDv5 event ids; changing it would make retried transitions publish twice.
_ID_NAMESPACE = uuid.UUID("5d0c3c8e-3f4a-5b8e-9a51-61c2d7a1e0f4")
_MAX_MESSAGE_CHARS = 4000  # ARM messages can be long; an event must fit one Table Storage property in the outbox.
_MAX_VIOLATIONS = 50
_SPEC_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class ClusterRef:
    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def of(cls, request: ClusterRequest) -> ClusterRef:
        return cls(request.subscription_id, request.resource_group, request.name)

    @property
    def source(self) -> str:
        return f"/aksvend/clusters/{self.subscription_id}/{self.resource_group}/{self.name}"

    @property
    def resource_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.ContainerService/managedClusters/{self.name}")

    def to_dict(self) -> dict[str, str]:
        return {"subscriptionId": self.subscription_id, "resourceGroup": self.resource_group, "name": self.name,
                "resourceId": self.resource_id}


@dataclass(frozen=True, slots=True)
class PoolSummary:
    name: str
    vm_size: str
    count: int
    mode: str = "User"
    spot: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "vmSize": self.vm_size, "count": self.count, "mode": self.mode, "spot": self.spot}


def pools_of(request: ClusterRequest) -> tuple[PoolSummary, ...]:
    system = request.system_pool
    return (PoolSummary(system.name, system.vm_size, system.count, "System"),
            *(PoolSummary(p.name, p.vm_size, p.count, "User", p.spot is not None) for p in request.user_pools))


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """A CloudEvent 1.0 with JSON data. `to_dict` is the structured JSON form Event Grid accepts."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: Mapping[str, Any]
    extensions: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "specversion": _SPEC_VERSION,
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": _rfc3339(self.time),
            "datacontenttype": "application/json",
            **dict(self.extensions),
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> LifecycleEvent:
        known = {"specversion", "id", "type", "source", "subject", "time", "datacontenttype", "data"}
        return cls(
            id=value["id"],
            type=value["type"],
            source=value["source"],
            subject=value.get("subject", ""),
            time=datetime.fromisoformat(value["time"].replace("Z", "+00:00")),
            data=dict(value.get("data") or {}),
            extensions={k: str(v) for k, v in value.items() if k not in known},
        )

    @property
    def ticket(self) -> TicketRef | None:
        found = self.data.get("ticket")
        return TicketRef.from_dict(found) if isinstance(found, dict) else None


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("event time must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_id(event_type: str, *parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "\x00".join((event_type, *parts))))


def _event(event_type: str, id_parts: Sequence[str], cluster: ClusterRef, time: datetime,
           ticket: TicketRef | None, data: Mapping[str, Any]) -> LifecycleEvent:
    body: dict[str, Any] = {"cluster": cluster.to_dict(), **data}
    extensions: dict[str, str] = {}
    if ticket is not None:
        body["ticket"] = ticket.to_dict()
        extensions = {"ticketsystem": ticket.system, "ticketkey": ticket.key}
    return LifecycleEvent(_event_id(event_type, *id_parts), event_type, cluster.source, cluster.resource_id,
                          time, body, extensions)


def operation_accepted(cluster: ClusterRef, operation_id: str, kind: str, *, time: datetime,
                       ticket: TicketRef | None = None) -> LifecycleEvent:
    return _event(OPERATION_ACCEPTED, [operation_id], cluster, time, ticket,
                  {"operationId": operation_id, "kind": kind, "status": "Accepted"})


def operation_succeeded(cluster: ClusterRef, operation_id: str, kind: str, *, time: datetime,
                        ticket: TicketRef | None = None) -> LifecycleEvent:
    return _event(OPERATION_SUCCEEDED, [operation_id], cluster, time, ticket,
                  {"operationId": operation_id, "kind": kind, "status": "Succeeded"})


def operation_failed(cluster: ClusterRef, operation_id: str, kind: str, *, code: str, message: str,
                     time: datetime, ticket: TicketRef | None = None, target: str | None = None) -> LifecycleEvent:
    """`code` and `message` as ARM gave them (see shared.errors.FatalError); `target` the ARM id it concerns."""
    error: dict[str, Any] = {"code": code, "message": message[:_MAX_MESSAGE_CHARS]}
    if target:
        error["target"] = target
    return _event(OPERATION_FAILED, [operation_id], cluster, time, ticket,
                  {"operationId": operation_id, "kind": kind, "status": "Failed", "error": error})


def cluster_provisioned(cluster: ClusterRef, operation_id: str, *, location: str, kubernetes_version: str,
                        pools: Iterable[PoolSummary], time: datetime,
                        ticket: TicketRef | None = None) -> LifecycleEvent:
    return _event(CLUSTER_PROVISIONED, [operation_id], cluster, time, ticket,
                  {"operationId": operation_id, "location": location, "kubernetesVersion": kubernetes_version,
                   "pools": [p.to_dict() for p in pools]})


def pool_scaled(cluster: ClusterRef, operation_id: str, *, pool: str, from_count: int, to_count: int,
                reason: str, time: datetime, ticket: TicketRef | None = None) -> LifecycleEvent:
    """`reason`: why it scaled (`request`, `pressure`, `spotEviction`, `cooldown` ...)."""
    return _event(POOL_SCALED, [operation_id, pool], cluster, time, ticket,
                  {"operationId": operation_id, "pool": pool, "fromCount": from_count, "toCount": to_count,
                   "reason": reason})


def spot_replaced(cluster: ClusterRef, operation_id: str, *, spot_pool: str, fallback_pool: str,
                  fallback_count: int, time: datetime, ticket: TicketRef | None = None) -> LifecycleEvent:
    return _event(SPOT_REPLACED, [operation_id, spot_pool], cluster, time, ticket,
                  {"operationId": operation_id, "spotPool": spot_pool, "fallbackPool": fallback_pool,
                   "fallbackCount": fallback_count})


def upgrade_available(cluster: ClusterRef, *, current_version: str, available_version: str, time: datetime,
                      ticket: TicketRef | None = None) -> LifecycleEvent:
    """One event per (cluster, current, available): seen again by the next drift check, it is the same event."""
    return _event(UPGRADE_AVAILABLE, [cluster.resource_id.lower(), current_version, available_version], cluster,
                  time, ticket, {"currentVersion": current_version, "availableVersion": available_version})


def cluster_drifted(cluster: ClusterRef, *, drift: Sequence[Mapping[str, Any]], policy: str,
                    operations: Sequence[str], checked_at: datetime, time: datetime,
                    ticket: TicketRef | None = None) -> LifecycleEvent:
    """ARM differs from the request: the differences (`drift`, as `GET /api/clusters/...` shows them), the cluster's
    policy and the repair operations submitted. One event per (cluster, check, drift): a check redone after a crash
    records the same one."""
    fingerprint = str(uuid.uuid5(_ID_NAMESPACE, repr([sorted(d.items()) for d in drift])))
    return _event(CLUSTER_DRIFTED, [cluster.resource_id.lower(), checked_at.isoformat(), fingerprint], cluster, time,
                  ticket, {"drift": [dict(d) for d in drift], "policy": policy, "operations": list(operations),
                         "checkedAt": _rfc3339(checked_at)})


def ticket_rejected(ticket: TicketRef, *, idempotency_key: str, violations: Sequence[Violation],
                    time: datetime, cluster: ClusterRef | None = None, code: str = INVALID_REQUEST_CODE,
                    ) -> LifecycleEvent:
    """A ticket whose request cannot become an operation: `aksvend.operation.failed` with code `InvalidRequest`
    (or the refusal's code, e.g. `ClusterNameTaken`) and the violations, so that the ticket can be told why. No
    operation exists; `operationId` is null. One event per delivery (the id comes from its idempotency key)."""
    errors = [v for v in violations if v.severity == "error"] or list(violations)
    summary = "; ".join(f"{v.path or '/'}: {v.message}" for v in errors[:5])
    what = "is invalid" if code == INVALID_REQUEST_CODE else "was refused"
    data: dict[str, Any] = {
        "operationId": None,
        "kind": "create-cluster",
        "status": "Failed",
        "error": {"code": code, "message": f"the ticket's request {what}: {summary}"[:_MAX_MESSAGE_CHARS]},
        "violations": [v.to_dict() for v in violations[:_MAX_VIOLATIONS]],
        "ticket": ticket.to_dict(),
    }
    source = cluster.source if cluster else f"/aksvend/tickets/{ticket.system}"
    subject = cluster.resource_id if cluster else ticket.key
    if cluster:
        data["cluster"] = cluster.to_dict()
    return LifecycleEvent(_event_id(OPERATION_FAILED, "ticket", idempotency_key), OPERATION_FAILED, source, subject,
                          time, data, {"ticketsystem": ticket.system, "ticketkey": ticket.key})
