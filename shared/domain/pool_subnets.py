"""A user pool on a subnet of its own (`subnet` of a pool; docs/request.md, "A pool's own subnet").

When the node subnet is full, a pool can go on a new subnet that aksvend adds to the cluster's VNet, sized by the
planner's formula for that pool alone (`network.pool_ips`: its maximum plus surge). `subnet: "auto"` asks aksvend to
pick the prefix: the first block of that size, aligned to it, that overlaps no subnet already in the VNet (the node
and private-endpoint subnets of the plan, or of ARM when it is read, and the other pools' subnets). The prefix is
then kept in the request, so the plan stays a pure function of it and the subnet never moves.

A pool added to a running cluster is checked against the VNet as ARM has it too (`on_arm_vnet`): its prefix must lie
in the VNet's address space and overlap none of its subnets (someone may have added one, or changed the space, since
the plan), else the subnet PUT would fail in ARM after the change was accepted ("Subnets ... must be unique within
the address space of the VNet and can't overlap", learn.microsoft.com/azure/virtual-network/virtual-networks-faq).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.domain.network import LayoutError, layout, parse_cidr, pool_ips, prefix_for
from shared.domain.request import ClusterRequest, Pool
from shared.domain.violations import VNET_FAQ, Violation

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


@dataclass(frozen=True, slots=True)
class ArmVnet:
    """The cluster's VNet as ARM has it: its address space and its subnets by name (those with an IPv4 prefix)."""

    spaces: tuple[ipaddress.IPv4Network, ...] = ()
    subnets: Mapping[str, ipaddress.IPv4Network] = field(default_factory=dict)


def on_arm_vnet(request: ClusterRequest, pool: str, vnet: ArmVnet) -> Violation | None:
    """Why user pool `pool`'s own subnet cannot be added to the VNet ARM has (outside its address space, or
    overlapping a subnet of it); None when it can, when the pool has none, or when ARM's space is not known. The
    pool's own subnet in ARM (`snet-pool-<pool>`, made by an earlier change) with the same prefix is no clash."""
    at = next((i for i, p in enumerate(request.user_pools) if p.name == pool), None)
    net = parse_cidr(request.user_pools[at].subnet or "") if at is not None else None
    if at is None or net is None or not vnet.spaces:
        return None
    path, space = f"/userPools/{at}/subnet", ", ".join(str(s) for s in vnet.spaces)
    if not any(net.subnet_of(s) for s in vnet.spaces):
        return Violation("POOL_SUBNET_OUTSIDE_VNET", path, f"{net} is not inside the address space of the cluster's "
                         f"VNet as ARM has it ({space}): choose a prefix inside it, or \"auto\"", source=VNET_FAQ)
    own = subnet_name(pool)
    clash = next(((name, other) for name, other in sorted(vnet.subnets.items())
                  if net.overlaps(other) and not (name == own and other == net)), None)
    if clash is not None:
        return Violation("POOL_SUBNET_OVERLAP", path, f"{net} overlaps subnet '{clash[0]}' ({clash[1]}) of the "
                         f"cluster's VNet as ARM has it (address space {space}): choose a free prefix, or \"auto\"",
                         source=VNET_FAQ)
    return None
