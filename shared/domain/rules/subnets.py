"""Rules of a pool's own subnet (`userPools[i].subnet`; docs/request.md, "A pool's own subnet")."""

from __future__ import annotations

from collections.abc import Iterator

from shared.domain.byo import is_subnet_id
from shared.domain.network import AZURE_RESERVED_IPS, LayoutError, layout, parse_cidr, pool_ips, prefix_for
from shared.domain.pool_subnets import AUTO
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.violations import IP_PLANNING, VNET_FAQ, Violation


def pool_subnets(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if r.system_pool.subnet:
        yield Violation("POOL_SUBNET_USER_ONLY", "/systemPool/subnet",
                        "the system pool stays on the node subnet; give a user pool a subnet of its own",
                        source=IP_PLANNING)
    if r.network.existing is not None:
        return  # no VNet of aksvend's: rules/byo.py checks the pools' existing subnets
    if not any(pool.subnet for pool in r.user_pools):
        return  # most requests: no layout to look at (planning is hot: bench/bench_plan.py)
    vnet = parse_cidr(r.network.vnet_address_space)
    placed = layout(r, vnet) if vnet is not None else None
    if vnet is None or placed is None or isinstance(placed, LayoutError):
        return  # the network rules report the VNet itself
    seen = [("the node subnet", placed.node_subnet), ("the private-endpoint subnet", placed.pe_subnet)]
    for i, pool in enumerate(r.user_pools):
        if not pool.subnet or is_subnet_id(pool.subnet):
            continue  # an existing subnet (rules/byo.py): its size is ARM's, not the plan's
        path, need = f"/userPools/{i}/subnet", pool_ips(pool, r.network.plugin)
        if pool.subnet == AUTO:
            yield Violation("POOL_SUBNET_NO_ROOM", path,
                            f"the VNet {vnet} has no free /{prefix_for(need)} for pool '{pool.name}' ({need} addresses "
                            "at its maximum plus surge): lower the pool's maximum, or use a cluster with a larger "
                            "vnetAddressSpace", source=VNET_FAQ)
            continue
        net = parse_cidr(pool.subnet)
        if net is None or not net.subnet_of(vnet):
            yield Violation("POOL_SUBNET_OUTSIDE_VNET", path,
                            f"subnet must be \"auto\" or a prefix inside the VNet {vnet} (e.g. "
                            f"{next(vnet.subnets(new_prefix=min(32, max(vnet.prefixlen, 26))))})", source=VNET_FAQ)
            continue
        clash = next((name for name, other in seen if net.overlaps(other)), None)
        if clash is not None:
            yield Violation("POOL_SUBNET_OVERLAP", path, f"{net} overlaps {clash}", source=VNET_FAQ)
        if net.num_addresses - AZURE_RESERVED_IPS < need:
            yield Violation("POOL_SUBNET_TOO_SMALL", path,
                            f"{net} has {net.num_addresses - AZURE_RESERVED_IPS} usable addresses; pool '{pool.name}' "
                            f"needs {need} at its maximum plus surge. A subnet cannot grow under a running cluster: "
                            "lower the pool's maximum, or put a new pool on a larger subnet", source=IP_PLANNING)
        seen.append((f"pool '{pool.name}'s subnet", net))


RULES = (pool_subnets,)
