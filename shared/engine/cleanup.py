"""`onFailure: cleanup` (docs/cost.md, "Quota"): a create that fails anyway (a race for the quota with another
team, a policy, an outage past the step deadline) deletes what it made, only when its request says so; with
`keep` (the default) everything stays for an explicit retry, which adopts it (decision 0008).

The cleanup is an ordinary `delete-cluster` operation of the failed create's request (dependents first; the
resource group stays, as with any delete), submitted by `aksvend:cleanup` with the failed operation's id as its
idempotency key: a release redone after a crash submits the same operation again, which is the same operation.
The wiring (shared/bootstrap.py) sets it as the engine's `after_failure`.
"""

from __future__ import annotations

import logging

from shared.domain.operation_source import OperationSource
from shared.domain.request import ClusterRequest
from shared.engine.engine import Engine
from shared.engine.records import OperationRecord
from shared.engine.submit import ClusterBusy, ClusterConflict, ClusterNotFound, operation_id, submit

log = logging.getLogger(__name__)

CLEANUP_CALLER = "aksvend:cleanup"
CLEANUP_SOURCE = OperationSource.reaction("on-failure-cleanup").encode()


def wants_cleanup(op: OperationRecord) -> bool:
    return op.kind == "create-cluster" and op.error is not None and op.request.get("onFailure") == "cleanup"


def cleanup_operation_id(op_id: str) -> str:
    """The id of the cleanup of failed create `op_id` (deterministic: its idempotency key is `cleanup:<op id>`)."""
    return operation_id(CLEANUP_CALLER, f"cleanup:{op_id}", 0)


async def clean_up_after(engine: Engine, op: OperationRecord) -> None:
    """Submit the cleanup of a failed create whose request says `onFailure: cleanup`; nothing otherwise."""
    if not wants_cleanup(op):
        return
    request = ClusterRequest.model_validate(op.request)
    try:
        await submit(engine, "delete-cluster", request, idempotency_key=f"cleanup:{op.id}", caller=CLEANUP_CALLER,
                     source=CLEANUP_SOURCE)
    except (ClusterNotFound, ClusterConflict, ClusterBusy) as exc:  # deleted, replaced or busy meanwhile
        log.warning("no cleanup after %s: %s", op.id, type(exc).__name__)


def wire_cleanup(engine: Engine) -> Engine:
    """The engine, with failed creates cleaned up as their requests ask."""

    async def after_failure(op: OperationRecord) -> None:
        await clean_up_after(engine, op)

    engine.after_failure = after_failure
    return engine
