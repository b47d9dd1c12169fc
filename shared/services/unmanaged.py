"""A create never overwrites a cluster that ARM has and aksvend does not manage (issue 17): it is refused, and an admin
may adopt it instead (`Lifecycle.adopt`, shared/services/lifecycle.py)."""

from __future__ import annotations

from shared.domain import arm
from shared.domain.request import ClusterRequest
from shared.engine import Engine
from shared.engine.records import cluster_key
from shared.refusals import InConflict


async def unmanaged_in_arm(engine: Engine, request: ClusterRequest) -> None:
    """A create never overwrites a cluster that ARM has and aksvend does not manage (no record, or a deleted one):
    409 `ClusterNotManaged`, which says how to adopt it."""
    record = await engine.registry.get(cluster_key(request.subscription_id, request.resource_group, request.name))
    if record is not None and record.state != "deleted":
        return
    cluster_id = arm.ids(request)["cluster"]
    if await engine.arm.get(arm.CLUSTER.name, cluster_id, arm.CLUSTER.api_version) is not None:
        raise InConflict("ClusterNotManaged", f"ARM has a cluster '{request.name}' in {request.resource_group} that "
                                              "aksvend does not manage; aksvend never overwrites it. An admin can "
                                              f"adopt it: POST /api/clusters/{request.subscription_id}/"
                                              f"{request.resource_group}/{request.name}/adopt")
