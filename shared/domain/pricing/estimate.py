"""estimate(request, table): what a cluster request costs a month (730 hours), before anything is built.

Per pool: its nodes at the initial count, and the range from the autoscaler's minimum to its maximum, each node at
its VM's hourly price (Linux or Windows; a spot pool at the table's typical spot price, with a note that it varies)
plus its managed OS disk (none for an ephemeral one). Then the cluster: the AKS tier (Free for development,
Standard for production, as `shared.domain.arm.aks` sets it), one private endpoint per requested endpoint, and the
load balancer AKS makes for outbound traffic, at its base price; none with `outboundType: userDefinedRouting`, where
AKS makes a load balancer only for the first Service of type LoadBalancer, with no outbound rules or public IP
(learn.microsoft.com/azure/aks/egress-udr). What depends on use is left out and listed.

Pure: the same request and table give the same estimate. Figures are rounded to cents at the end only.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from shared.domain.pricing.table import DEFAULT_OS_DISK_GIB, PriceTable
from shared.domain.request import ClusterRequest, Pool
from shared.domain.vmsizes import lookup

LEFT_OUT = (
    "egress (outbound data transfer)",
    "Log Analytics ingestion and retention (monitoring add-on)",
    "private endpoint and load balancer data processed, load balancer rules past the first five",
    "persistent volumes, snapshots, public IPs, container registry",
    "reservations, savings plans and negotiated discounts",
)
SPOT_NOTE = ("spot: at the table's typical spot price; the real price varies by hour and region, and nodes may be "
             "evicted")


class PoolCost(NamedTuple):  # a NamedTuple: immutable, and built ~4x faster than a frozen dataclass (planning is hot)
    pool: str
    vm_size: str
    count: int  # type: ignore[assignment]  # the pool's node count; it hides tuple.count, which no caller wants
    min_count: int
    max_count: int
    node_hourly: float | None  # the VM's price per hour; None: the table has no price for it
    disk_monthly: float  # per node
    spot: bool

    def monthly(self, nodes: int, hours: int) -> float:
        return nodes * self.node_monthly(hours)

    def node_monthly(self, hours: int) -> float:
        """One node a month: its VM and its OS disk."""
        return (self.node_hourly or 0.0) * hours + self.disk_monthly

    def to_dict(self, hours: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pool": self.pool, "vmSize": self.vm_size, "count": self.count, "priced": self.node_hourly is not None,
            "nodeHourly": self.node_hourly, "diskMonthlyPerNode": round(self.disk_monthly, 2),
            "monthly": round(self.monthly(self.count, hours), 2),
            "range": {"min": self.min_count, "max": self.max_count,
                      "monthlyMin": round(self.monthly(self.min_count, hours), 2),
                      "monthlyMax": round(self.monthly(self.max_count, hours), 2)},
        }
        if self.spot:
            out["note"] = SPOT_NOTE
        return out


class Estimate(NamedTuple):  # a NamedTuple: immutable, and built much faster than a frozen dataclass (planning is hot)
    region: str
    currency: str
    as_of: str
    hours: int
    pools: tuple[PoolCost, ...]
    tier: str
    tier_monthly: float
    private_endpoints: int
    private_endpoints_monthly: float
    load_balancer_monthly: float
    # The totals, summed once by `estimate` (every plan's tree shows all three): the pools at their count, at the
    # autoscaler's minimum and at their maximum, each plus `fixed`.
    monthly: float
    monthly_min: float
    monthly_max: float

    @property
    def fixed(self) -> float:
        return self.tier_monthly + self.private_endpoints_monthly + self.load_balancer_monthly

    def pool(self, name: str) -> PoolCost:
        return next(p for p in self.pools if p.pool == name)

    def to_dict(self) -> dict[str, Any]:
        unpriced = [p.pool for p in self.pools if p.node_hourly is None]
        return {
            "currency": self.currency, "pricesAsOf": self.as_of, "hoursPerMonth": self.hours, "region": self.region,
            "monthly": round(self.monthly, 2),
            "range": {"monthlyMin": round(self.monthly_min, 2), "monthlyMax": round(self.monthly_max, 2)},
            "pools": [p.to_dict(self.hours) for p in self.pools],
            "cluster": {"tier": self.tier, "tierMonthly": round(self.tier_monthly, 2),
                        "privateEndpoints": self.private_endpoints,
                        "privateEndpointsMonthly": round(self.private_endpoints_monthly, 2),
                        "loadBalancerMonthly": round(self.load_balancer_monthly, 2)},
            "unpriced": unpriced,
            "leftOut": list(LEFT_OUT),
        }


def estimate(r: ClusterRequest, table: PriceTable) -> Estimate:
    hours = table.hours_per_month
    tier = "Standard" if r.is_production else "Free"
    endpoints = len(r.network.private_endpoints)
    pools = tuple([pool_cost(p, r.location, table) for p in r.pools])
    tier_monthly = table.aks_tier_hourly.get(tier, 0.0) * hours
    endpoints_monthly = endpoints * table.private_endpoint_hourly * hours
    lb_monthly = 0.0 if r.network.outbound_type == "userDefinedRouting" else table.load_balancer_hourly * hours
    # The pools at their count, minimum and maximum: PoolCost.monthly's products with a node's price computed once
    # per pool, and sum() as before (the same floats, to the last bit).
    nodes = [(p, p.node_monthly(hours)) for p in pools]
    at_count = sum([p.count * node for p, node in nodes])
    at_min = sum([p.min_count * node for p, node in nodes])
    at_max = sum([p.max_count * node for p, node in nodes])
    fixed = tier_monthly + endpoints_monthly + lb_monthly  # as Estimate.fixed adds them, to the last bit
    return Estimate(r.location, table.currency, table.as_of, hours, pools, tier, tier_monthly, endpoints,
                    endpoints_monthly, lb_monthly, fixed + at_count, fixed + at_min, fixed + at_max)


def pool_cost(p: Pool, region: str, table: PriceTable) -> PoolCost:
    price = table.vm_price(region, p.vm_size)
    hourly = None if price is None else price.spot if p.spot else price.windows if p.os == "Windows" else price.linux
    low = p.autoscale.min if p.autoscale else p.count
    # tuple.__new__ builds what PoolCost(...) does without the NamedTuple's __new__, a Python function, on each of
    # a plan's pools (planning is hot: bench/bench_plan.py)
    return _new_tuple(PoolCost, (p.name, p.vm_size, p.count, min(low, p.count), p.max_nodes, hourly,
                                 os_disk_monthly(p, region, table), p.spot is not None))


_new_tuple = tuple.__new__


def os_disk_monthly(p: Pool, region: str, table: PriceTable) -> float:
    """A node's OS disk a month: nothing when ephemeral, else the price of the smallest tier of its kind that holds
    it."""
    gib = p.os_disk_size_gb or DEFAULT_OS_DISK_GIB
    kind = _os_disk_kind(p.vm_size, p.os_disk_type, gib)
    return 0.0 if kind is None else (table.disk_monthly(region, kind, gib) or 0.0)


@functools.lru_cache(maxsize=1024)
def _os_disk_kind(vm_size: str, disk_type: str | None, gib: int) -> str | None:
    """The managed disk a node's OS disk is: None when ephemeral (named, or AKS's default where the VM's local disk
    holds it), else Premium SSD where the size takes premium storage, else Standard SSD. Cached: a pure function of
    a few values that most pools share (planning is hot: bench/bench_plan.py)."""
    size = lookup(vm_size)
    if disk_type == "Ephemeral" or (disk_type is None and size and size.ephemeral_os_disk_gib >= gib):
        return None
    return "Premium_LRS" if size is None or size.premium_storage else "StandardSSD_LRS"
