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
(`unmade_skips`): it deletes what the create made, never a cluster, VNet or identity of the plan's names that ARM
got later from elsewhere.
"""

from __future__ import annotations

import logging

from shared.domain.operation_source import OperationSource
from shared.domain.operations import steps_for
from shared.domain.request import ClusterRequest
from shared.engine.engine import Engine
from shared.engine.records import NAME_TAKEN, ClusterRecord, OperationRecord
from shared.engine.submit import ClusterBusy, ClusterConflict, ClusterNotFound, operation_id, submit

log = logging.getLogger(__name__)

CLEANUP_CALLER = "aksvend:cleanup"
CLEANUP_SOURCE = OperationSource.reaction("on-failure-cleanup").encode()
NOT_MADE = "the failed create did not make it"
MAX_ATTEMPTS = 50  # the retries of one create looked through for what they made (each is one more attempt)


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


async def made_by(engine: Engine, op_id: str) -> set[str]:
    """The plan's resource keys that failed create `op_id`, or an attempt it retried, had ARM accept a PUT of."""
    made: set[str] = set()
    seen: set[str] = set()
    next_id: str | None = op_id
    while next_id is not None and next_id not in seen and len(seen) < MAX_ATTEMPTS:
        seen.add(next_id)
        loaded = await engine.load(next_id)
        if loaded is None:
            break
        for spec in loaded.specs.values():
            step = loaded.steps.get(spec.id)
            if spec.action == "put" and step is not None and (step.state == "succeeded" or step.arm_id is not None):
                made.add(spec.resource_key)
        next_id = loaded.op.retry_of
    return made


async def unmade_skips(engine: Engine, cluster: ClusterRecord) -> dict[str, str]:
    """The delete steps a DELETE of `cluster` writes done unsent (`submit(skip=...)`): for a cluster whose create
    never succeeded (`failed`, kept with `onFailure: keep`: nothing applied), those of the resources its create (and
    the attempts that retried it) did not make, by the same rule as the cleanup above; when its last operation was
    such a delete that failed, what that delete skipped. Empty for a cluster a create made or an admin adopted
    (`applied`), deleted whole as ever. A cluster whose failed create is not its last operation (a pool change ran
    since) skips every step: what its create made is not known, and nothing not known to be aksvend's is deleted."""
    if cluster.state != "failed" or cluster.applied is not None:
        return {}
    request = ClusterRequest.model_validate(cluster.request)
    last = await engine.load(cluster.last_operation) if cluster.last_operation else None
    if last is not None and last.op.kind == "create-cluster":
        made = await made_by(engine, last.op.id)
    elif last is not None and last.op.kind == "delete-cluster":
        made = {spec.resource_key for spec in last.specs.values()
                if not (step := last.steps.get(spec.id)) or "skipped" not in step.outputs}
    else:
        made = set()
    return {spec.id: NOT_MADE for spec in steps_for("delete-cluster", request) if spec.resource_key not in made}


def wire_cleanup(engine: Engine) -> Engine:
    """The engine, with failed creates cleaned up as their requests ask."""

    async def after_failure(op: OperationRecord) -> None:
        await clean_up_after(engine, op)

    engine.after_failure = after_failure
    return engine
