"""The human view of a plan: one line per part of the cluster, as in docs/design.md section 3."""

from __future__ import annotations

from shared.domain.network import SubnetLayout
from shared.domain.request import ClusterRequest, Pool
from shared.domain.tree_options import option_lines, pool_options


def render(r: ClusterRequest, subnets: SubnetLayout) -> str:
    width = max(len(p.name) for p in r.pools)
    lines = [f"Control plane (managed by Azure) · Kubernetes {r.kubernetes_version}"]
    lines.append(f"System pool  {r.system_pool.name:<{width}} · {_pool(r.system_pool)}")
    lines.extend(f"User pool    {p.name:<{width}} · {_pool(p)}" for p in r.user_pools)
    lines.extend(option_lines(r))  # the production options, one line each, only when on (tree_options.py)
    lines.append(f"Network      {_network(r, subnets)}")
    body = [f"├── {line}" for line in lines[:-1]] + [f"└── {lines[-1]}"]
    return "\n".join([f"AKS Cluster {r.name} ({r.location})", *body])


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
    parts.extend(p.taints)
    parts.extend(pool_options(p))
    return " · ".join(parts)


def _network(r: ClusterRequest, subnets: SubnetLayout) -> str:
    n = r.network
    nodes = f"nodes {subnets.node_subnet}"
    if n.service_endpoints:
        nodes += f" ({', '.join(n.service_endpoints)})"
    parts = [f"vnet {n.vnet_address_space}", f"{n.plugin}", nodes]
    if n.private_endpoints:
        endpoints = ", ".join(f"{pe.name} -> {pe.group_id}" for pe in n.private_endpoints)
        parts.append(f"private endpoints ({subnets.pe_subnet}): {endpoints}")
    return " · ".join(parts)
