"""The human view of a plan: one line per part of the cluster, as in docs/design.md section 3."""

from __future__ import annotations

import functools

from shared.domain.network import SubnetLayout
from shared.domain.pricing import Estimate, PoolCost
from shared.domain.request import ClusterRequest, Pool
from shared.domain.tree_options import option_lines, pool_options


def render(r: ClusterRequest, subnets: SubnetLayout, cost: Estimate | None = None) -> str:
    width = max(len(p.name) for p in r.pools)
    # the estimate's pool lines come in the request's order: system pool first
    costs = [_pool_cost(line, cost.hours, cost.currency) for line in cost.pools] if cost else [""] * len(r.pools)
    lines = [f"Control plane (managed by Azure) · Kubernetes {r.kubernetes_version}"]
    lines.append(f"System pool  {r.system_pool.name:<{width}} · {_pool(r.system_pool)}{costs[0]}")
    users = zip(r.user_pools, costs[1:], strict=True)
    lines += [f"User pool    {p.name:<{width}} · {_pool(p)}{c}" for p, c in users]
    lines.extend(option_lines(r))  # the production options, one line each, only when on (tree_options.py)
    if cost is not None:
        lines.append(f"Cost         {_total(cost)}")
    lines.append(f"Network      {_network(r, subnets)}")
    # the branches joined in one pass, not an f-string a line (planning is hot: bench/bench_plan.py); there are
    # always at least three lines (control plane, system pool, network)
    return f"AKS Cluster {r.name} ({r.location})\n├── " + "\n├── ".join(lines[:-1]) + f"\n└── {lines[-1]}"


def _pool(p: Pool) -> str:
    parts = [f"{p.count} x {p.vm_size}"]
    if p.os == "Windows":
        parts.append("Windows")
    if p.zones:
        parts.append(f"zones {','.join(p.zones)}")
    if p.spot:
        parts.append(f"spot ({p.spot.eviction_policy}, max {p.spot.max_price:g})")
    if p.autoscale:
        parts.append(f"autoscale {p.autoscale.min}-{p.autoscale.max}")
    parts += p.taints
    parts += pool_options(p)
    return " · ".join(parts)


def _money(amount: float) -> str:
    return f"{amount:,.0f}"


@functools.lru_cache(maxsize=1024)
def _pool_cost(line: PoolCost, hours: int, currency: str) -> str:
    """' · ~1,801 USD/month (3-10 nodes: 1,080-3,600)': the pool at its count, and its autoscale range. Cached (the
    line is frozen): most requests' pools are a profile's, priced the same in a region, and formatting money is
    most of a tree's cost (planning is hot: bench/bench_plan.py)."""
    if line.node_hourly is None:
        return " · no price"
    text = f" · ~{_money(line.monthly(line.count, hours))} {currency}/month"
    if line.min_count != line.max_count:
        text += (f" ({line.min_count}-{line.max_count} nodes: {_money(line.monthly(line.min_count, hours))}"
                 f"-{_money(line.monthly(line.max_count, hours))})")
    return text + (" (spot price varies)" if line.spot else "")


def _total(cost: Estimate) -> str:
    """The total and its range, naming only the cluster's parts that are there (no private endpoints: not named)."""
    parts = [f"{cost.tier} tier", *(["disks"] if any(p.disk_monthly for p in cost.pools) else []),
             *(["private endpoints"] if cost.private_endpoints else []),
             *(["load balancer"] if cost.load_balancer_monthly else [])]
    return (f"~{_money(cost.monthly)} {cost.currency}/month ({_money(cost.monthly_min)}-{_money(cost.monthly_max)}) · "
            f"{', '.join(parts)} · prices as of {cost.as_of}; egress and Log Analytics not included")


def _network(r: ClusterRequest, subnets: SubnetLayout) -> str:
    n = r.network
    if n.existing is not None:
        return _existing_network(r)
    nodes = f"nodes {subnets.node_cidr}"
    if n.service_endpoints:
        nodes += f" ({', '.join(n.service_endpoints)})"
    parts = [f"vnet {n.vnet_address_space}", f"{n.plugin}", nodes]
    if n.private_endpoints:
        endpoints = ", ".join(f"{pe.name} -> {pe.group_id}" for pe in n.private_endpoints)
        parts.append(f"private endpoints ({subnets.pe_cidr}): {endpoints}")
    if n.service_endpoint_targets:  # the other half of the service endpoints: the targets' firewalls admit the subnets
        targets = ", ".join(t.target_resource_id.rsplit("/", 1)[-1] for t in n.service_endpoint_targets)
        parts.append(f"vnet rules on: {targets}")
    if n.private_dns_zones:
        parts.append(f"central DNS zones: {', '.join(n.private_dns_zones)}")
    if n.hub_vnet_id:
        parts.append(f"peered to hub {n.hub_vnet_id.rsplit('/', 1)[-1]}")
    return " · ".join(parts)


def _existing_network(r: ClusterRequest) -> str:
    """An existing network (shared/domain/byo.py): the subnets by name, as the plan cannot know their prefixes."""
    n, existing = r.network, r.network.existing
    assert existing is not None

    def named(subnet_id: str | None) -> str:
        return "/".join(subnet_id.split("/")[-3::2]) if subnet_id else "AKS's own VNet"

    parts = [f"existing subnet {named(existing.node_subnet_id)}", n.plugin]
    if n.private_endpoints:
        endpoints = ", ".join(f"{pe.name} -> {pe.group_id}" for pe in n.private_endpoints)
        parts.append(f"private endpoints ({named(existing.private_endpoint_subnet_id)}): {endpoints}")
    if n.private_dns_zones:
        parts.append(f"central DNS zones: {', '.join(n.private_dns_zones)}")
    return " · ".join(parts)
