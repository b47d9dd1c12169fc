"""Whether a pool change still fits the node subnet the cluster was built on (docs/api.md, "Node subnet capacity").

A subnet cannot be resized under a running cluster, so a pool change is checked against the node subnet as it is,
with the planner's own formula (`network.node_subnet_ips`: every pool at its autoscale maximum plus its upgrade
surge; one address per node with Azure CNI Overlay and kubenet, 1 + maxPods with flat Azure CNI) and Azure's five
reserved addresses. Pure: the caller says which subnet the cluster has (read from ARM, or the plan's).
"""

from __future__ import annotations

import ipaddress

from shared.domain.arm.names import NODE_SUBNET
from shared.domain.network import (
    AZURE_RESERVED_IPS,
    LayoutError,
    layout,
    max_pods,
    node_subnet_ips,
    parse_cidr,
    pool_ips,
    surge,
)
from shared.domain.request import ClusterRequest
from shared.domain.violations import IP_PLANNING, Violation

CODE = "NODE_SUBNET_FULL"


def planned_node_subnet(request: ClusterRequest) -> ipaddress.IPv4Network | None:
    """The node subnet the plan gives `request` (what a cluster built from it has), None when it does not fit or is
    an existing subnet (network.existing: its prefix is ARM's, not the plan's)."""
    if request.network.existing is not None:
        return None
    vnet = parse_cidr(request.network.vnet_address_space)
    placed = layout(request, vnet) if vnet is not None else None
    return None if placed is None or isinstance(placed, LayoutError) else placed.node_subnet


def usable(subnet: ipaddress.IPv4Network) -> int:
    return max(0, subnet.num_addresses - AZURE_RESERVED_IPS)


def node_subnet_violation(before: ClusterRequest, after: ClusterRequest, pool: str,
                          subnet: ipaddress.IPv4Network) -> Violation | None:
    """None when `after` fits `subnet`; else a violation naming the subnet, its size, what the change needs and what
    to do. A change that does not grow what the pools need is never refused (the subnet held it before)."""
    needed, had = node_subnet_ips(after), node_subnet_ips(before)
    room = usable(subnet)
    if needed <= room or needed <= had:
        return None
    index = next((i for i, p in enumerate(after.user_pools) if p.name == pool), None)
    where = "/systemPool" if pool == after.system_pool.name else f"/userPools/{index}" if index is not None \
        else "/userPools"
    most = largest_maximum(after, pool, room)
    lower = (f"lower pool '{pool}' to at most {most} nodes (autoscale max, or count)" if most is not None
             else f"pool '{pool}' does not fit at any size")
    per_node = "1 address per node" if after.network.plugin != "azure" else "1 + maxPods addresses per node"
    return Violation(CODE, where,
                     f"node subnet {NODE_SUBNET} ({subnet}) has {room} usable addresses; with this change the pools at "
                     f"their maxima plus upgrade surge need {needed} ({per_node}), {needed - had} more than before. "
                     f"A subnet cannot grow under a running cluster: {lower}, or put the pool on a subnet of its own "
                     "(\"subnet\": \"auto\": aksvend adds one to the VNet when its address space has room)",
                     source=IP_PLANNING)


def largest_maximum(request: ClusterRequest, pool: str, room: int) -> int | None:
    """The largest node count (fixed or autoscale maximum) of `pool` that still fits `room`; None: not even 0."""
    target = next((p for p in request.pools if p.name == pool), None)
    if target is None:
        return None
    others = sum(pool_ips(p, request.network.plugin) for p in request.pools if not p.subnet and p is not target)
    per_node = max_pods(target, request.network.plugin) + 1 if request.network.plugin == "azure" else 1
    best = None
    for nodes in range(0, target.max_nodes + 1):
        if others + (nodes + surge(nodes)) * per_node > room:
            break
        best = nodes
    return best

