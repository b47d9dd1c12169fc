"""How operations and clusters look to callers: the JSON of `GET /api/operations/{id}` and `GET /api/clusters...`.

Pure functions of the engine's records, kept apart from the use cases so that a change of shape is a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain import arm
from shared.domain.operations import StepSpec, progress
from shared.domain.pricing import estimate, shipped
from shared.domain.request import ClusterRequest
from shared.engine.cleanup import cleanup_operation_id, wants_cleanup
from shared.engine.lifecycle import ticket_of
from shared.engine.records import ClusterRecord, OperationRecord, StepRecord


def operation_view(op: OperationRecord, steps: dict[str, StepRecord], specs: dict[str, StepSpec]) -> dict[str, Any]:
    done = {s for s, r in steps.items() if r.state == "succeeded"}
    return {
        "id": op.id, "kind": op.kind, "state": op.state, "source": op.source,
        "ticket": ticket.to_dict() if (ticket := ticket_of(op)) else None,
        "cluster": {"id": op.cluster_id, "key": op.cluster}, "pool": op.pool,
        "createdAt": iso(op.created_at), "startedAt": iso(op.started_at), "endedAt": iso(op.ended_at),
        "progress": 100 if op.state == "succeeded" else progress(specs.values(), done),
        "error": dict(op.error) if op.error else None, "retryOf": op.retry_of,
        "steps": [_step_view(s, steps.get(s.id)) for s in specs.values()],
        "estimate": estimate_view(op),
        "leftBehind": left_behind(op, steps, specs),
    }


def left_behind(op: OperationRecord, steps: dict[str, StepRecord], specs: dict[str, StepSpec]) -> dict[str, Any] | None:
    """For a failed create: what it made (the ARM ids of its PUTs that succeeded), what it only edited (a service
    endpoint target, another's resource, whose rules it added to: never "made", a cleanup takes only the rules back),
    what it skipped (a target whose edit aksvend may not write: nothing added, so nothing taken back either)
    and what becomes of it: `keep` (it stays for a retry, which adopts it) or `cleanup` (the delete operation that
    removes it; the resource group stays). None for any other operation (docs/cost.md, "Quota")."""
    if op.kind != "create-cluster" or op.state != "failed":
        return None
    done = [spec for spec in specs.values()
            if spec.action == "put" and (step := steps.get(spec.id)) is not None and step.state == "succeeded"]
    cleanup = wants_cleanup(op)
    return {"onFailure": "cleanup" if cleanup else "keep",
            "made": [spec.resource_id for spec in done if spec.edit is None],
            "edited": [spec.resource_id for spec in done if spec.edit is not None and not _skipped(steps, spec)],
            "skipped": [spec.resource_id for spec in done if _skipped(steps, spec)],
            "cleanupOperation": cleanup_operation_id(op.id) if cleanup else None}


def _skipped(steps: dict[str, StepRecord], spec: StepSpec) -> bool:
    """A step done unsent: a service endpoint target's edit that aksvend may not write (nothing added to it)."""
    return "skipped" in steps[spec.id].outputs


def estimate_view(op: OperationRecord) -> dict[str, Any] | None:
    """The monthly estimate of the request the operation builds (docs/cost.md); None for a deletion, or a request
    record too old to parse."""
    if op.kind == "delete-cluster":
        return None
    try:
        request = ClusterRequest.model_validate(op.request)
    except ValueError:
        return None
    return estimate(request, shipped()).to_dict()


def _step_view(spec: StepSpec, step: StepRecord | None) -> dict[str, Any]:
    """One step of an operation view; a step without a record has not been made ready yet."""
    return {"id": spec.id, "action": spec.action, "resource": spec.resource_key, "type": spec.resource_type,
            "armId": spec.resource_id, "state": step.state if step else "waiting",
            "attempts": step.attempts if step else 0,
            "startedAt": iso(step.started_at) if step else None, "endedAt": iso(step.ended_at) if step else None,
            "error": dict(step.last_error) if step and step.last_error else None}


def cluster_view(c: ClusterRecord, drift: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`drift`: the cluster's last drift check (shared/services/drift.py), None: not checked yet."""
    request = c.request
    pools = [request.get("systemPool", {}), *list(request.get("userPools", []))]
    applied = c.applied or {}
    applied_pools = {p.get("name"): p for p in [applied.get("systemPool", {}), *applied.get("userPools", [])]}
    return {
        "id": arm.ids(ClusterRequest.model_validate(request))["cluster"],
        "subscriptionId": c.subscription_id, "resourceGroup": c.resource_group, "name": c.name,
        "location": c.location, "state": c.state,
        "currentOperation": c.queue[0] if c.queue else None, "queuedOperations": list(c.queue[1:]),
        "lastOperation": c.last_operation, "updatedAt": iso(c.updated_at),
        "pools": [{"name": p.get("name"), "mode": "System" if i == 0 else "User", "vmSize": p.get("vmSize"),
                   "count": p.get("count"), "autoscale": p.get("autoscale"), "spot": p.get("spot") is not None,
                   "os": p.get("os", "Linux"), "applied": p.get("name") in applied_pools}
                  for i, p in enumerate(pools)],
        "desired": request,
        **drift_view(drift),
    }


def drift_view(row: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the last drift check found: the differences (`drift`, empty when none or never checked) and when."""
    if row is None:
        return {"drift": [], "driftCheckedAt": None}
    return {"drift": list(row.get("drift") or []), "driftCheckedAt": iso(row.get("checkedAt"))}


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None

