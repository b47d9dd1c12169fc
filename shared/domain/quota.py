"""Compute quota (docs/cost.md, "Quota"): what a create or a pool change needs of the region's vCPU quotas, and
whether it fits what `Microsoft.Compute/locations/{location}/usages` reports, before anything is made.

Azure counts vCPUs per VM family (`standardDSv5Family` ...), all regular VMs of the region together (`cores`,
"Total Regional vCPUs"), and spot VMs apart (`lowPriorityCores`, "Total Regional Low-priority vCPUs"), as the
usages API names them (learn.microsoft.com/azure/quotas/regional-quota-requests, spot-vms: "Spot VMs ... count
against the low-priority quota"). A new pool needs its initial count plus the upgrade surge it will take
(network.surge, decision 0004; spot pools do not surge) times its size's vCPUs; a changed pool needs what it
adds to what it has. A family the usages do not list has no known limit and is not checked.

Pure: the usages are given, as the adapter read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from shared.domain.network import surge
from shared.domain.request import Pool
from shared.domain.vmsizes import CATALOG, lookup

REGIONAL = "cores"
SPOT = "lowPriorityCores"
QUOTA_EXCEEDED = "QuotaExceeded"

# The catalog's series -> the usages API's family name (the catalog's `quotaFamily`, shared/domain/vmsizes.json).
FAMILY: Mapping[str, str] = MappingProxyType({size.family: size.quota_family for size in CATALOG.values()})


@dataclass(frozen=True, slots=True)
class Usage:
    limit: int
    used: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    family: str
    limit: int
    used: int
    needed: int

    def to_dict(self) -> dict[str, int]:
        return {"limit": self.limit, "used": self.used, "needed": self.needed}


def parse_usages(body: Mapping[str, Any] | None) -> dict[str, Usage]:
    """The usages API's `value` list as family -> Usage; entries of another shape are skipped."""
    out: dict[str, Usage] = {}
    for item in (body or {}).get("value") or []:
        name = (item.get("name") or {}).get("value") if isinstance(item, Mapping) else None
        limit, used = (item.get("limit"), item.get("currentValue")) if isinstance(item, Mapping) else (None, None)
        if isinstance(name, str) and isinstance(limit, int) and isinstance(used, int):
            out[name] = Usage(limit, used)
    return out


def pool_needs(pool: Pool, nodes_before: int = 0) -> dict[str, int]:
    """vCPUs per quota family that `pool` needs beyond what `nodes_before` nodes of it already use."""
    size = lookup(pool.vm_size)
    if size is None:
        return {}
    nodes = pool.count + (0 if pool.spot or pool.count == 0 else surge(pool.count))
    extra = max(0, nodes - nodes_before) * size.vcpus
    if not extra:
        return {}
    if pool.spot:
        return {SPOT: extra}
    return {size.quota_family: extra, REGIONAL: extra}


def needs(pools: Iterable[tuple[Pool, int]]) -> dict[str, int]:
    """The sum of `pool_needs` over (pool, nodes it has now)."""
    total: dict[str, int] = {}
    for pool, before in pools:
        for family, cpus in pool_needs(pool, before).items():
            total[family] = total.get(family, 0) + cpus
    return total


def shortfalls(needed: Mapping[str, int], usages: Mapping[str, Usage]) -> list[Shortfall]:
    """Every family whose use plus what is needed is above its limit, families first, the regional total last."""
    out = [Shortfall(family, usages[family].limit, usages[family].used, cpus)
           for family, cpus in needed.items() if family in usages and usages[family].used + cpus > usages[family].limit]
    return sorted(out, key=lambda s: (s.family in (REGIONAL, SPOT), s.family))


def report(needed: Mapping[str, int], usages: Mapping[str, Usage]) -> dict[str, dict[str, int | None]]:
    """`{family: {limit, used, needed}}` for every family the request needs (limit and used None: not listed)."""
    return {family: {"limit": usages[family].limit if family in usages else None,
                     "used": usages[family].used if family in usages else None, "needed": cpus}
            for family, cpus in sorted(needed.items())}


def message(found: Sequence[Shortfall], location: str) -> str:
    parts = [f"{s.family}: limit {s.limit}, in use {s.used}, needed {s.needed} vCPUs" for s in found]
    return (f"the compute quota in {location} cannot hold the new nodes ({'; '.join(parts)}); nothing was made. "
            "Ask for more quota (learn.microsoft.com/azure/quotas/view-quotas) or make the pools smaller")
