"""The price table: hourly VM prices per region and size (Linux, Windows, a typical spot price), managed disks per
month by type and size, the AKS tier per cluster-hour, private endpoints and the load balancer per hour.

The shipped table is `prices.json` beside this module (built by `python -m shared.adapters.pricing seed|refresh`);
it is read once, on first use, and never written here: reading the package's own data is as pure as importing
`vmsizes`, and keeps 5,000 figures out of Python source.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

TABLE_PATH = Path(__file__).with_name("prices.json")
DEFAULT_OS_DISK_GIB = 128  # what AKS gives a node when the request names no OS disk size


@dataclass(frozen=True, slots=True)
class VmPrice:
    linux: float
    windows: float
    spot: float  # typical; the real spot price varies


@dataclass(frozen=True, slots=True)
class PriceTable:
    as_of: str  # the date of the figures, ISO
    currency: str
    hours_per_month: int
    source: str
    vm: Mapping[str, Mapping[str, VmPrice]]  # region -> VM size -> price per hour
    disks: Mapping[str, Mapping[str, tuple[tuple[int, float], ...]]]  # region -> disk type -> (GiB, per month), up
    aks_tier_hourly: Mapping[str, float]
    private_endpoint_hourly: float
    load_balancer_hourly: float

    def vm_price(self, region: str, size: str) -> VmPrice | None:
        sizes = self.vm.get(region)  # no empty dict made for the default: a plan asks it of each pool
        return None if sizes is None else sizes.get(size)

    def disk_monthly(self, region: str, kind: str, gib: int) -> float | None:
        """The monthly price of the smallest disk tier of `kind` that holds `gib` (Azure bills the tier)."""
        kinds = self.disks.get(region)  # as vm_price: no empty dict made for the default
        for tier_gib, price in (() if kinds is None else kinds.get(kind, ())):
            if tier_gib >= gib:
                return price
        return None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PriceTable:
        # Plain dicts, never changed after this (a read-only proxy costs a plan with 100 pools measurable time).
        vm = {region: {size: VmPrice(*row) for size, row in sizes.items()} for region, sizes in data["vm"].items()}
        disks = {region: {kind: tuple(sorted((int(g), float(p)) for g, p in tiers.items()))
                          for kind, tiers in kinds.items()}
                 for region, kinds in data["disks"].items()}
        return cls(str(data["asOf"]), str(data["currency"]), int(data["hoursPerMonth"]), str(data["source"]),
                   vm, disks, MappingProxyType(dict(data["aksTierHourly"])),
                   float(data["privateEndpointHourly"]), float(data["loadBalancerHourly"]))


@functools.cache
def shipped() -> PriceTable:
    """The table shipped with the code."""
    return PriceTable.from_json(json.loads(TABLE_PATH.read_text(encoding="utf-8")))
