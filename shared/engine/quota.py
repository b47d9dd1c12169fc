"""The quota pre-check (docs/cost.md, "Quota"): before the first write of an operation that adds nodes, read the
region's compute usages and refuse what cannot fit, so that a create does not stop at the cluster PUT with a
resource group, an identity, a VNet and a role assignment already made.

Checked once per operation, while none of its steps has begun (a restart after a crash checks again, which is
harmless). A retry of a failed operation is not checked: what the first attempt made is in the usages already.
When the usages cannot be read, the operation goes on and AKS's own preflight (`ErrCode_InsufficientVCPUQuota`)
still stands.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.domain import arm
from shared.domain.quota import QUOTA_EXCEEDED, message, needs, parse_usages, shortfalls
from shared.domain.request import ClusterRequest, Pool
from shared.engine.ports import ArmPort
from shared.engine.records import Loaded
from shared.errors import FatalError, RetryableError

log = logging.getLogger(__name__)
# The operations that add nodes: a create, a pool PUT (a new pool or a new count), a PATCH of the system pool's count
# and a system pool VM size swap (a new pool beside the old one).
CHECKED = ("create-cluster", "put-pool", "patch-cluster", "swap-system-pool")


async def quota_refusal(arm_port: ArmPort, loaded: Loaded) -> dict[str, Any] | None:
    """The operation's error when the new nodes do not fit the region's quotas; None when they fit or cannot
    be checked."""
    op = loaded.op
    if op.kind not in CHECKED or op.retry_of is not None:
        return None
    if any(step.state != "waiting" for step in loaded.steps.values()):
        return None  # a step began: this is not before the first write any more
    request = ClusterRequest.model_validate(op.request)
    if op.kind == "create-cluster":
        pools = [(p, 0) for p in request.pools]
    else:
        # a swap's new System pool is the request's (`op.pool` names the old one); a patch's pool is the system pool
        # when it changed its count (None: no pool PUT, nothing to check)
        name = request.system_pool.name if op.kind == "swap-system-pool" else op.pool
        pool = next((p for p in request.pools if p.name == name), None)
        pools = [] if pool is None else [(pool, await _nodes_now(arm_port, request, pool))]
    needed = needs(pools)
    if not needed:
        return None
    try:
        body = await arm_port.usages(request.subscription_id, request.location)
    except (RetryableError, FatalError) as err:
        log.warning("reading the compute usages of %s failed (%s); AKS's own quota check stands", request.location,
                    err.code)
        return None
    found = shortfalls(needed, parse_usages(body))
    if not found:
        return None
    return {"code": QUOTA_EXCEEDED, "message": message(found, request.location),
            "quota": {s.family: s.to_dict() for s in found}}


async def _nodes_now(arm_port: ArmPort, request: ClusterRequest, pool: Pool) -> int:
    """The nodes the pool has in ARM now that count against the same quota (same VM size and priority): its agent
    pool, else its profile in the cluster; 0 when it has none or they count elsewhere; its requested count when ARM
    cannot say (the check then errs towards refusing less)."""
    cluster_id = arm.ids(request)["cluster"]
    try:
        found = await arm_port.get(arm.AGENT_POOL.name, f"{cluster_id}/agentPools/{pool.name}",
                                   arm.AGENT_POOL.api_version)
        props = (found or {}).get("properties")
        if props is None:
            cluster = await arm_port.get(arm.CLUSTER.name, cluster_id, arm.CLUSTER.api_version) or {}
            profiles = (cluster.get("properties") or {}).get("agentPoolProfiles") or []
            props = next((p for p in profiles if isinstance(p, dict) and p.get("name") == pool.name), {})
    except (RetryableError, FatalError):
        return pool.count
    same = (str(props.get("vmSize", "")).lower() == pool.vm_size.lower()
            and (props.get("scaleSetPriority") == "Spot") == (pool.spot is not None))
    count = props.get("count")
    return count if same and isinstance(count, int) else 0
