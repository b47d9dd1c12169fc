"""A user pool on a subnet of its own (`subnet` of a pool; docs/request.md, "A pool's own subnet").

When the node subnet is full, a pool can go on a new subnet that aksvend adds to the cluster's VNet, sized by the
planner's formula for that pool alone (`network.pool_ips`: its maximum plus surge). `subnet: "auto"` asks aksvend to
pick the prefix: the first block of that size, aligned to it, that overlaps no subnet already in the VNet (the node
and private-endpoint subnets of the plan, or of ARM when it is read, and the other pools' subnets). The prefix is
then kept in the request, so the plan stays a pure function of it and the subnet never moves.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from shared.domain.network import LayoutError, layout, parse_cidr, pool_ips, prefix_for
from shared.domain.request import ClusterRequest, Pool

AUTO = "auto"
SUBNET_PREFIX = "snet-pool-"


def subnet_name(pool: str) -> str:
    return f"{SUBNET_PREFIX}{pool}"


def planned_subnets(request: ClusterRequest) -> list[ipaddress.IPv4Network]:
    """The node and private-endpoint subnets of the plan, and every pool's own subnet given as a prefix."""
    vnet = parse_cidr(request.network.vnet_address_space)
    placed = layout(request, vnet) if vnet is not None else None
    taken = [] if placed is None or isinstance(placed, LayoutError) else [placed.node_subnet, placed.pe_subnet]
    return taken + [net for p in request.user_pools if p.subnet and (net := parse_cidr(p.subnet)) is not None]


def free_block(vnet: ipaddress.IPv4Network, prefix: int,
               taken: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    """The first block of `prefix` in `vnet`, aligned to its size, that overlaps nothing in `taken`; None: no room."""
    if prefix < vnet.prefixlen:
        return None
    used = list(taken)
    return next((block for block in vnet.subnets(new_prefix=prefix) if not any(block.overlaps(t) for t in used)),
                None)


def place(request: ClusterRequest, taken: Iterable[ipaddress.IPv4Network] = ()) -> ClusterRequest:
    """`request` with each `subnet: "auto"` replaced by a free prefix (left "auto" when the VNet has no room, which
    the rule POOL_SUBNET_NO_ROOM then reports). `taken`: subnets ARM has besides the plan's."""
    vnet = parse_cidr(request.network.vnet_address_space)
    if vnet is None or not any(p.subnet == AUTO for p in request.user_pools):
        return request
    used = [*planned_subnets(request), *taken]
    pools: list[Pool] = []
    for pool in request.user_pools:
        if pool.subnet == AUTO:
            block = free_block(vnet, prefix_for(pool_ips(pool, request.network.plugin)), used)
            if block is not None:
                used.append(block)
                pool = pool.model_copy(update={"subnet": str(block)})
        pools.append(pool)
    return request.model_copy(update={"user_pools": pools})
