"""A pool change as a new desired request: shared by `Clusters.put_pool` (the HTTP API) and the events
service (reactions), so that a pool added or scaled by an event obeys exactly the rules of one added by a caller.

`with_pool(desired, pool, raw_pool, ...)` takes the cluster's desired request (the registry's JSON, camelCase),
merges `raw_pool` into the user pool of that name, or adds it when there is none (filling `vmSize` from the
profile's workload sizes and `count` from the autoscale minimum), and returns the whole request expanded and
validated again. It refuses with `InConflict` for the system pool, else `InvalidInput` with the violations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from ipaddress import IPv4Network
from typing import Any

from shared.domain.capacity import node_subnet_violation as capacity_violation
from shared.domain.capacity import planned_node_subnet
from shared.domain.pool_subnets import AUTO, ArmVnet, on_arm_vnet, place
from shared.domain.profiles import WORKLOAD_SIZES, expand, merge
from shared.domain.request import ClusterRequest
from shared.domain.rules import Context, validate
from shared.domain.violations import Violation, errors
from shared.refusals import InConflict, InvalidInput

IMMUTABLE_POOL_FIELDS = ("vmSize", "os", "spot", "osDiskType", "maxPods", "zones", "workload", "subnet")


def with_pool(desired: dict[str, Any], pool: str, raw_pool: Any, *, default_subscription_id: str,
              today: date, capacity: bool = False, node_subnet: IPv4Network | None = None,
              taken: Sequence[IPv4Network] = (), arm_vnet: ArmVnet | None = None) -> ClusterRequest:
    """The desired request with user pool `pool` changed by (or created from) `raw_pool`. With `capacity`, refused
    (422 NODE_SUBNET_FULL) when the pools would outgrow the node subnet: `node_subnet` as ARM has it, or (None) the
    one the plan gives the desired request before the change. Event reactions do not ask for it (docs/api.md, "Node
    subnet capacity": a spot fallback's nodes take the addresses its evicted spot nodes freed). `arm_vnet`: the VNet
    as ARM has it, which the pool's own subnet must fit (422 POOL_SUBNET_OUTSIDE_VNET / POOL_SUBNET_OVERLAP)."""
    if not isinstance(raw_pool, dict):
        raise InvalidInput("InvalidRequest", "the body must be a JSON object describing the pool",
                           [Violation("SCHEMA_TYPE", "", "the pool must be a JSON object")])
    pools = [dict(p) for p in desired.get("userPools", [])]
    if pool == desired["systemPool"]["name"]:
        raise InConflict("SystemPoolFixed", "the system pool is changed through the cluster, not this route: PATCH "
                                            "the cluster with {\"systemPool\": {...}} (docs/api.md)")
    current = next((p for p in pools if p["name"] == pool), None)
    if current is not None:
        changed = [f for f in IMMUTABLE_POOL_FIELDS if f in raw_pool and raw_pool[f] != current.get(f)
                   and not (f == "subnet" and raw_pool[f] == AUTO and current.get(f))]  # "auto" again: the same
        if changed:
            raise InvalidInput("InvalidRequest", "fields fixed at creation cannot change; create a new pool",
                               [Violation("POOL_FIELD_IMMUTABLE", f"/{f}", f"'{f}' of an existing pool cannot "
                                          "change (AKS fixes it at creation)") for f in changed])
        updated = merge(current, {k: v for k, v in raw_pool.items() if k != "subnet"})
        pools = [updated if p["name"] == pool else p for p in pools]
    else:
        new = {"name": pool, **raw_pool}
        workload = new.get("workload", "general")
        sizes = WORKLOAD_SIZES.get(desired.get("profile", "development"), WORKLOAD_SIZES["development"])
        if "vmSize" not in new and isinstance(workload, str) and workload in sizes:
            new["vmSize"] = sizes[workload]
        new.setdefault("count", (new.get("autoscale") or {}).get("min", 1) if isinstance(
            new.get("autoscale"), dict) else 1)
        pools.append(new)
    at = next(i for i, p in enumerate(pools) if p.get("name") == pool)  # the detail's path is the errors' path
    after = revalidate({**desired, "userPools": pools}, prefix=f"/userPools/{at}",
                       default_subscription_id=default_subscription_id, today=today, taken=taken, changed=pool)
    if capacity:
        fits(ClusterRequest.model_validate(desired), after, pool, node_subnet)
    if arm_vnet is not None and (clash := on_arm_vnet(after, pool, arm_vnet)) is not None:
        raise InvalidInput("PoolSubnetUnavailable", f"the subnet of pool '{pool}' does not fit the cluster's VNet "
                                                    "in ARM", [clash])
    return after


def fits(before: ClusterRequest, after: ClusterRequest, pool: str, node_subnet: IPv4Network | None) -> None:
    """422 NODE_SUBNET_FULL when `after` outgrows the node subnet (shared/domain/capacity.py)."""
    subnet = node_subnet or planned_node_subnet(before)
    violation = capacity_violation(before, after, pool, subnet) if subnet is not None else None
    if violation is not None:
        raise InvalidInput("NodeSubnetFull", f"pool '{pool}' does not fit the node subnet ({subnet})", [violation])


def revalidate(desired: dict[str, Any], *, prefix: str, default_subscription_id: str,
               today: date, taken: Sequence[IPv4Network] = (), changed: str | None = None) -> ClusterRequest:
    """The desired request expanded and checked again; 422 with the errors when the change breaks a rule. A pool's
    `subnet: "auto"` is placed clear of the plan's subnets and of `taken` (the VNet's subnets as ARM has them).
    `changed`: the pool the change touches, named by a budget refusal."""
    request, violations = expand(desired, default_subscription_id=default_subscription_id)
    if request is not None:
        request = place(request, taken)
        violations = validate(request, Context(as_of=today, changed_pool=changed))
    if request is None or errors(violations):
        raise InvalidInput("InvalidRequest", f"the cluster with this change breaks rules ({prefix})",
                           errors(violations))
    return request
