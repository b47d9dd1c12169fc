"""What may stop an operation as it starts, before its first write: its cluster is not aksvend's any more, or the new
nodes do not fit the region's quotas (quota.py).

An operation queued behind a create (a pool change accepted while the cluster was provisioning) waits for it; when
that create fails `ClusterNameTaken` (adopt.py: ARM has a cluster of the name that the create did not make), the
cluster's row is `deleted` (finish.py `state_after`) and the operations queued behind it fail as they start, with
the same code: they would otherwise change (or delete) the cluster of that name that aksvend did not make.
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.engine.ports import ArmPort
from shared.engine.quota import quota_refusal
from shared.engine.records import NAME_TAKEN, Loaded
from shared.engine.registry import ClusterRegistry

NOT_MANAGED = "ClusterNotManaged"


class StartParts(Protocol):
    """What the checks use of the engine (`shared.engine.Engine` has them)."""

    arm: ArmPort
    registry: ClusterRegistry


async def start_refusal(engine: StartParts, loaded: Loaded) -> dict[str, Any] | None:
    """The operation's error when it may not run; None when it may (checked again on a repeated start, harmlessly)."""
    if loaded.op.kind != "create-cluster" and not any(s.state != "waiting" for s in loaded.steps.values()):
        cluster = await engine.registry.get(loaded.op.cluster)
        if cluster is None or cluster.state == "deleted":
            name = loaded.op.cluster_id.rsplit("/", 1)[-1]
            return {"code": NOT_MANAGED, "message": f"aksvend manages no cluster '{name}' any more (deleted, or its "
                                                    f"create failed {NAME_TAKEN}: ARM's cluster of this name is not "
                                                    "one aksvend made); nothing was sent. An admin may adopt a "
                                                    "cluster ARM has (POST .../adopt)"}
    return await quota_refusal(engine.arm, loaded)
