"""What may stop an operation as it starts, before its first write: its cluster is not aksvend's any more, its
create never succeeded, or the new nodes do not fit the region's quotas (quota.py).

aksvend acts only on what it made or an admin adopted, and which cluster that is, is decided here, when the
operation starts, not when it was accepted: an operation queued behind a create (a pool change, a PATCH or a DELETE
accepted while the cluster was provisioning) waits for it, and the create may then fail, for any reason, before it
made its cluster, while ARM got a cluster of that name from elsewhere.

- A create that failed `ClusterNameTaken` (adopt.py: ARM has a cluster of the name that the create did not make)
  leaves the cluster's row `deleted` (finish.py `state_after`): what is queued behind it fails `ClusterNotManaged`.
- A cluster whose create never succeeded (no `applied` request: nothing aksvend made or adopted is known to be
  there) gets no change: the change fails `ClusterNotCreated` unsent, and finish.py drops it from the desired
  request, so the failed create stays the cluster's last operation and can be retried as it was. A DELETE still
  runs, so that a failed create can be cleaned up, but deletes only what the create made (`unmade_skips`: the
  others' steps are written done, `skipped`), never a cluster, VNet or identity of the plan's names that ARM got
  later from elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from shared.domain.operations import steps_for
from shared.domain.request import ClusterRequest
from shared.engine.history import History
from shared.engine.ports import ArmPort, Clock
from shared.engine.quota import quota_refusal
from shared.engine.records import NAME_TAKEN, NOT_CREATED, ClusterRecord, Loaded, StepRecord
from shared.engine.registry import ClusterRegistry

NOT_MANAGED = "ClusterNotManaged"
NOT_MADE = "the failed create did not make it"
MAX_ATTEMPTS = 50  # the retries of one create looked through for what they made (each is one more attempt)


class StartParts(Protocol):
    """What the checks use of the engine (`shared.engine.Engine` has them)."""

    arm: ArmPort
    registry: ClusterRegistry
    clock: Clock
    history: History

    async def load(self, op_id: str) -> Loaded | None: ...

    async def save_step(self, step: StepRecord) -> StepRecord | None: ...


async def start_refusal(engine: StartParts, loaded: Loaded) -> dict[str, Any] | None:
    """The operation's error when it may not run; None when it may (checked again on a repeated start, harmlessly:
    until one of its steps was sent)."""
    if loaded.op.kind != "create-cluster" and all(s.state == "waiting" or skipped(s) for s in loaded.steps.values()):
        cluster = await engine.registry.get(loaded.op.cluster)
        name = loaded.op.cluster_id.rsplit("/", 1)[-1]
        if cluster is None or cluster.state == "deleted":
            return {"code": NOT_MANAGED, "message": f"aksvend manages no cluster '{name}' any more (deleted, or its "
                                                    f"create failed {NAME_TAKEN}: ARM's cluster of this name is not "
                                                    "one aksvend made); nothing was sent. An admin may adopt a "
                                                    "cluster ARM has (POST .../adopt)"}
        if never_created(cluster) and loaded.op.kind != "delete-cluster":
            create = cluster.last_operation or "of it"
            return {"code": NOT_CREATED, "message": f"the create of cluster '{name}' has not succeeded (operation "
                                                    f"{create}), so aksvend has no cluster of this name to change; "
                                                    "nothing was sent, and this change is dropped from the cluster's "
                                                    f"desired request. Retry the create (POST /api/operations/{create}"
                                                    "/retry), then ask for the change again; or DELETE the cluster, "
                                                    "which deletes only what its create made"}
        if never_created(cluster):
            await _skip_unmade(engine, loaded, cluster)
    return await quota_refusal(engine.arm, loaded)


def never_created(cluster: ClusterRecord) -> bool:
    """No create of the cluster succeeded and no admin adopted it (`applied` is set by both)."""
    return cluster.applied is None and cluster.state in ("provisioning", "failed", "deleting")


def skipped(step: StepRecord) -> bool:
    """A step written done unsent (`submit(skip=...)`, `_skip_unmade`)."""
    return step.state == "succeeded" and "skipped" in step.outputs


async def _skip_unmade(engine: StartParts, loaded: Loaded, cluster: ClusterRecord) -> None:
    """Write the delete's steps of what the failed create did not make done, unsent (before any step is ready)."""
    made = await made_of(engine, cluster)
    now: datetime = engine.clock.now()
    names = [spec.id for spec in loaded.specs.values() if spec.resource_key not in made
             and (step := loaded.steps.get(spec.id)) is not None and step.state == "waiting"
             and await engine.save_step(step.succeeded(now, {"skipped": NOT_MADE})) is not None]
    if names:
        await engine.history.record(loaded.op.id, "skipped", f"{', '.join(names)}: {NOT_MADE} (the cluster's "
                                                             "create never succeeded): not deleted")


async def made_by(engine: StartParts, op_id: str) -> set[str]:
    """The plan's resource keys that failed create `op_id`, or an attempt it retried, had ARM accept a PUT of (a
    skipped step, such as a service endpoint target's edit refused with 403, made nothing)."""
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
            if (spec.action == "put" and step is not None and not skipped(step)
                    and (step.state == "succeeded" or step.arm_id is not None)):
                made.add(spec.resource_key)
        next_id = loaded.op.retry_of
    return made


async def made_of(engine: StartParts, cluster: ClusterRecord) -> set[str]:
    """The resource keys aksvend made of a cluster whose create never succeeded: what its create (and the attempts
    that retried it) made; when its last operation was a delete that failed, what that delete did not skip; nothing
    when its last operation is of another kind (what its create made is not known)."""
    last = await engine.load(cluster.last_operation) if cluster.last_operation else None
    if last is not None and last.op.kind == "create-cluster":
        return await made_by(engine, last.op.id)
    if last is not None and last.op.kind == "delete-cluster":
        return {spec.resource_key for spec in last.specs.values()
                if not (step := last.steps.get(spec.id)) or not skipped(step)}
    return set()


async def unmade_skips(engine: StartParts, cluster: ClusterRecord) -> dict[str, str]:
    """The delete steps a DELETE of `cluster` writes done unsent (`submit(skip=...)`): for a cluster whose create
    never succeeded (kept with `onFailure: keep`: nothing applied), those of the resources `made_of` does not name,
    by the same rule as the cleanup (cleanup.py). Empty for a cluster a create made or an admin adopted (`applied`),
    deleted whole as ever. Computed again when the delete starts (`start_refusal`): a delete accepted while the
    create still ran is limited the same way if that create then fails."""
    if not never_created(cluster):
        return {}
    made = await made_of(engine, cluster)
    request = ClusterRequest.model_validate(cluster.request)
    return {spec.id: NOT_MADE for spec in steps_for("delete-cluster", request) if spec.resource_key not in made}
