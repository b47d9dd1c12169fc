"""A pool change as a new desired request: shared by `Clusters.put_pool` (the HTTP API) and the events
service (reactions), so that a pool added or scaled by an event obeys exactly the rules of one added by a caller.

`with_pool(desired, pool, raw_pool, ...)` takes the cluster's desired request (the registry's JSON, camelCase),
merges `raw_pool` into the user pool of that name, or adds it when there is none (filling `vmSize` from the
profile's workload sizes and `count` from the autoscale minimum), and returns the whole request expanded and
validated again. It refuses with `InConflict` for the system pool, else `InvalidInput` with the violations.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.domain.profiles import WORKLOAD_SIZES, expand, merge
from shared.domain.request import ClusterRequest
from shared.domain.rules import Context, validate
from shared.domain.violations import Violation, errors
from shared.refusals import InConflict, InvalidInput

IMMUTABLE_POOL_FIELDS = ("vmSize", "os", "spot", "osDiskType", "maxPods", "zones", "workload")


def with_pool(desired: dict[str, Any], pool: str, raw_pool: Any, *, default_subscription_id: str,
              today: date) -> ClusterRequest:
    """The desired request with user pool `pool` changed by (or created from) `raw_pool`."""
    if not isinstance(raw_pool, dict):
        raise InvalidInput("InvalidRequest", "the body must be a JSON object describing the pool",
                           [Violation("SCHEMA_TYPE", "", "the pool must be a JSON object")])
    pools = [dict(p) for p in desired.get("userPools", [])]
    if pool == desired["systemPool"]["name"]:
        raise InConflict("SystemPoolFixed", "the system pool is changed through the cluster, not this route: PATCH "
                                            "the cluster with {\"systemPool\": {...}} (docs/api.md)")
    current = next((p for p in pools if p["name"] == pool), None)
    if current is not None:
        changed = [f for f in IMMUTABLE_POOL_FIELDS if f in raw_pool and raw_pool[f] != current.get(f)]
        if changed:
            raise InvalidInput("InvalidRequest", "fields fixed at creation cannot change; create a new pool",
                               [Violation("POOL_FIELD_IMMUTABLE", f"/{f}", f"'{f}' of an existing pool cannot "
                                          "change (AKS fixes it at creation)") for f in changed])
        updated = merge(current, raw_pool)
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
    return revalidate({**desired, "userPools": pools}, prefix=f"/userPools/{pool}",
                      default_subscription_id=default_subscription_id, today=today)


def revalidate(desired: dict[str, Any], *, prefix: str, default_subscription_id: str,
               today: date) -> ClusterRequest:
    """The desired request expanded and checked again; 422 with the errors when the change breaks a rule."""
    request, violations = expand(desired, default_subscription_id=default_subscription_id)
    if request is not None:
        violations = validate(request, Context(as_of=today))
    if request is None or errors(violations):
        raise InvalidInput("InvalidRequest", f"the cluster with this change breaks rules ({prefix})",
                           errors(violations))
    return request
