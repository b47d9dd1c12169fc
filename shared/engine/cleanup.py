"""`onFailure: cleanup` (docs/cost.md, "Quota"): a create that fails anyway (a race for the quota with another
team, a policy, an outage past the step deadline) deletes what it made, only when its request says so; with
`keep` (the default) everything stays for an explicit retry, which adopts it (decision 0008).

The cleanup is an ordinary `delete-cluster` operation of the failed create's request (dependents first; the
resource group stays, as with any delete), submitted by `aksvend:cleanup` with the failed operation's id as its
idempotency key: a release redone after a crash submits the same operation again, which is the same operation.
The wiring (shared/bootstrap.py) sets it as the engine's `after_failure`.

It deletes only what the create made: a resource whose PUT ARM accepted (the step began, or succeeded) in the create
or an attempt it retried. The others' delete steps are written done (`skipped`), and a create that made nothing (the
quota pre-check refused it before its first write) gets no cleanup: the plan's names (the cluster, `vnet-<name>`,
`id-<name>`) may be another team's, e.g. a cluster of the same name made after the create was accepted, whose
existence is why ARM refused aksvend's PUT. A PUT that ARM accepted just before a crash, before the engine saved it,
counts as not made: the cleanup errs towards leaving something behind, never towards deleting what is not its own.

A DELETE of a cluster whose create failed and was kept (`onFailure: keep`, the default) follows the same rule
(start_checks.py `unmade_skips`, applied when it is accepted and again when it starts): it deletes what the create
made, never a cluster, VNet or identity of the plan's names that ARM got later from elsewhere.
"""

from __future__ import annotations

import logging

from shared.domain.operation_source import OperationSource
from shared.domain.operations import steps_for
from shared.domain.request import ClusterRequest
from shared.engine.engine import Engine
from shared.engine.records import NAME_TAKEN, OperationRecord
from shared.engine.start_checks import NOT_MADE, made_by
from shared.engine.submit import ClusterBusy, ClusterConflict, ClusterNotFound, operation_id, submit

log = logging.getLogger(__name__)

CLEANUP_CALLER = "aksvend:cleanup"
CLEANUP_SOURCE = OperationSource.reaction("on-failure-cleanup").encode()


def wants_cleanup(op: OperationRecord) -> bool:
    """A failed create whose request says so; never one that failed because ARM has a cluster of its name that it
    did not make (adopt.py, `ClusterNameTaken`): the VNet and identity of that name are then likely that cluster's."""
    return (op.kind == "create-cluster" and op.error is not None and op.request.get("onFailure") == "cleanup"
            and op.error.get("code") != NAME_TAKEN)


def cleanup_operation_id(op_id: str) -> str:
    """The id of the cleanup of failed create `op_id` (deterministic: its idempotency key is `cleanup:<op id>`)."""
    return operation_id(CLEANUP_CALLER, f"cleanup:{op_id}", 0)


async def clean_up_after(engine: Engine, op: OperationRecord) -> None:
    """Submit the cleanup of a failed create whose request says `onFailure: cleanup`; nothing otherwise."""
    if not wants_cleanup(op):
        return
    made = await made_by(engine, op.id)
    if not made:
        log.info("no cleanup after %s: it made nothing", op.id)
        return
    request = ClusterRequest.model_validate(op.request)
    skip = {spec.id: NOT_MADE for spec in steps_for("delete-cluster", request) if spec.resource_key not in made}
    try:
        await submit(engine, "delete-cluster", request, idempotency_key=f"cleanup:{op.id}", caller=CLEANUP_CALLER,
                     source=CLEANUP_SOURCE, skip=skip)
    except (ClusterNotFound, ClusterConflict, ClusterBusy) as exc:  # deleted, replaced or busy meanwhile
        log.warning("no cleanup after %s: %s", op.id, type(exc).__name__)


def wire_cleanup(engine: Engine) -> Engine:
    """The engine, with failed creates cleaned up as their requests ask."""

    async def after_failure(op: OperationRecord) -> None:
        await clean_up_after(engine, op)

    engine.after_failure = after_failure
    return engine
