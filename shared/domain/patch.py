"""A cluster's desired request changed by a JSON merge patch (RFC 7396), limited to what AKS lets change on a
running cluster; and the plan of a system pool VM size change (a new System pool, then the old one deleted).

What may change (`PATCH /api/clusters/{sub}/{rg}/{name}`, docs/api.md): `tags`, `addons`, `autoscalerProfile`,
`reactions` (its `autoUpgrade` is the cluster's upgrade channel), `drift`, `deletionProtection`, `budget`
(aksvend's own), and of the system pool its `count`, `autoscale`, `taints`, `labels`, `scaleOnPressure` and
`vmSize` (a VM size change is a pool swap, `swap_plan`).
Everything else is fixed at creation (name, location, network, zones, OS ...) or has its own route (user pools:
`/pools/{pool}`; the Kubernetes version: `/upgrade`), and a patch that names it is refused with the field named.

Pure: no I/O. The services re-validate the result by the rules of a create (`pool_change.revalidate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.profiles import CRITICAL_ADDONS_TAINT
from shared.domain.violations import Violation

MUTABLE_TOP = frozenset({"tags", "addons", "reactions", "drift", "deletionProtection", "systemPool",
                         "autoscalerProfile", "budget"})  # budget: aksvend's own, held to the costs again
MUTABLE_SYSTEM_POOL = frozenset({"count", "autoscale", "taints", "labels", "scaleOnPressure", "vmSize"})
_ROUTE_OF = {"userPools": "PUT/DELETE .../pools/{pool}", "kubernetesVersion": "POST .../upgrade"}
MAX_POOL_NAME = 12  # AKS: a Linux pool name is 1-12 lowercase letters and digits, starting with a letter


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 section 2: an object patch merges key by key, `null` removes a key, anything else replaces the
    target whole (arrays too). Neither input is changed."""
    if not isinstance(patch, Mapping):
        return patch
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def immutable(patch: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Violation]:
    """One violation per field the patch would change that may not change on a running cluster (a field given
    with the value it has is no change, so a client may send back what it read)."""
    out = []
    for key, value in patch.items():
        if key in MUTABLE_TOP:
            continue
        if value == desired.get(key):
            continue
        how = f"; use {_ROUTE_OF[key]}" if key in _ROUTE_OF else " (AKS fixes it at creation)"
        out.append(Violation("CLUSTER_FIELD_IMMUTABLE", f"/{key}", f"'{key}' cannot change with a PATCH{how}"))
    pool = patch.get("systemPool")
    if isinstance(pool, Mapping):
        current = desired.get("systemPool") or {}
        out += [Violation("POOL_FIELD_IMMUTABLE", f"/systemPool/{key}", f"'systemPool.{key}' cannot change on a "
                          f"running cluster (AKS fixes it at creation); a new VM size is done as a pool swap")
                for key, value in pool.items() if key not in MUTABLE_SYSTEM_POOL and value != current.get(key)]
    elif "systemPool" in patch:
        out.append(Violation("SCHEMA_TYPE", "/systemPool", "'systemPool' in a patch is an object of the fields to "
                                                           "change"))
    return out


@dataclass(frozen=True, slots=True)
class Swap:
    """A system pool VM size change as AKS recommends (use-system-pools): a new System pool `new` of the new size
    is added (same zones, the CriticalAddonsOnly taint), and once it is ready the old pool `old` is deleted (AKS
    cordons and drains its nodes, so the system pods move to the new pool)."""

    old: str
    new: str


def swap_plan(desired: Mapping[str, Any], patched: Mapping[str, Any]) -> Swap | None:
    """The swap a patch asks for (its system pool's `vmSize` differs from the desired one's), else None."""
    before, after = desired.get("systemPool") or {}, patched.get("systemPool") or {}
    if after.get("vmSize") == before.get("vmSize"):
        return None
    taken = {before.get("name")} | {p.get("name") for p in desired.get("userPools") or [] if isinstance(p, Mapping)}
    return Swap(str(before.get("name")), successor(str(before.get("name", "system")), taken))


def successor(name: str, taken: set[Any]) -> str:
    """The next free pool name after `name`: its letters with the next number (system -> system2 -> system3),
    within AKS's 12 characters."""
    base = name.rstrip("0123456789") or "system"
    n = 2
    while True:
        candidate = f"{base[:MAX_POOL_NAME - len(str(n))]}{n}"
        if candidate not in taken:
            return candidate
        n += 1


def swapped(patched: Mapping[str, Any], swap: Swap) -> dict[str, Any]:
    """The patched request with its system pool renamed to the new pool, the CriticalAddonsOnly taint kept."""
    pool = dict(patched["systemPool"])
    taints = pool.get("taints") or []
    if not isinstance(taints, list):  # the request rules refuse it by name (422), as they would without a swap
        return {**patched, "systemPool": {**pool, "name": swap.new}}
    if CRITICAL_ADDONS_TAINT not in taints:
        taints = [*taints, CRITICAL_ADDONS_TAINT]
    return {**patched, "systemPool": {**pool, "name": swap.new, "taints": taints}}


def only_system_pool(patch: Mapping[str, Any]) -> list[Violation]:
    """A VM size swap is an operation of its own: the patch may change the system pool's fields with it, nothing
    else (tags or add-ons in the same patch would need a cluster PUT in the middle of the swap)."""
    return [Violation("PATCH_SWAP_ALONE", f"/{key}", f"'{key}' cannot change in the patch that changes the system "
                      "pool's vmSize (a pool swap); send it in a PATCH of its own") for key in patch
            if key != "systemPool"]
