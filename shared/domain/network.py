"""Network math: how many addresses a cluster needs, and where its subnets go in the VNet.

The formulas are AKS's (docs/aks-facts.md, Subnet sizing):
- Azure CNI Overlay and kubenet: the node subnet holds node IPs only; every node takes a /24 of the pod CIDR.
- Azure CNI with a flat node subnet ("azure"): every node takes 1 + maxPods IPs from the node subnet.
- Azure reserves 5 addresses in every subnet; the smallest subnet is a /29.
- Upgrades surge: **Decision** plan for max(1, 10% of the pool's maximum) extra nodes, per pool, because
  pools of a cluster may upgrade at once.

Everything is sized for the autoscaler maxima, not the initial counts: a subnet cannot grow in place under
a running cluster.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from dataclasses import dataclass, field

from shared.domain.request import ClusterRequest, Pool

AZURE_RESERVED_IPS = 5
SMALLEST_SUBNET_PREFIX = 29
PE_SUBNET_MIN_PREFIX = 28  # room for 11 private endpoints before anyone has to re-plan
ADDRESSES_PER_NODE_IN_POD_CIDR = 256  # a /24 per node (overlay and kubenet)

DEFAULT_MAX_PODS = {"azure-overlay": 250, "azure": 30, "kubenet": 110}
MAX_PODS_LIMIT = 250
MIN_MAX_PODS = 10
WINDOWS_RECOMMENDED_MAX_PODS = 110


def max_pods(pool: Pool, plugin: str) -> int:
    """The pool's maxPods: its own, else the plugin default (Windows pools default to the recommended 110)."""
    if pool.max_pods is not None:
        return pool.max_pods
    default = DEFAULT_MAX_PODS[plugin]
    return min(default, WINDOWS_RECOMMENDED_MAX_PODS) if pool.os == "Windows" else default


@functools.lru_cache(maxsize=1024)
def surge(pool_max_nodes: int, max_surge: str | None = None) -> int:
    """Extra nodes an upgrade adds: the pool's own maxSurge ("33%" of the maximum rounded up, as AKS does, or a
    node count "3"), else 10%; at least 1. An unreadable value (rule MAX_SURGE_FORMAT refuses it) counts as 10%.
    Cached by those two small values, which most pools share: a plan asks it of every pool twice (the node subnet and
    the pod CIDR) and the cache's hit is cheaper than the checks (planning is hot: bench/bench_plan.py)."""
    if not max_surge:
        return max(1, math.ceil(pool_max_nodes * 0.10))
    if max_surge.endswith("%") and max_surge[:-1].isdigit():
        return max(1, math.ceil(pool_max_nodes * int(max_surge[:-1]) / 100))
    if max_surge.isdigit():
        return max(1, int(max_surge))
    return max(1, math.ceil(pool_max_nodes * 0.10))


def node_subnet_ips(request: ClusterRequest) -> int:
    """Usable IPs the node subnet must hold at the autoscale maxima plus upgrade surge (a pool with a subnet of its
    own is not on it)."""
    plugin = request.network.plugin
    return sum([pool_ips(pool, plugin) for pool in request.pools if not pool.subnet])


def peak_nodes(pool: Pool) -> int:
    """The nodes of a pool at its maximum plus upgrade surge."""
    nodes = pool.max_nodes
    return nodes + surge(nodes, pool.max_surge)


def pool_ips(pool: Pool, plugin: str) -> int:
    """Usable IPs one pool takes at its maximum plus upgrade surge."""
    nodes = peak_nodes(pool)
    return nodes * (max_pods(pool, plugin) + 1) if plugin == "azure" else nodes


def pod_cidr_addresses(request: ClusterRequest) -> int:
    """Addresses the pod CIDR must hold (overlay and kubenet: a /24 per node, surge included)."""
    return sum([peak_nodes(p) for p in request.pools]) * ADDRESSES_PER_NODE_IN_POD_CIDR


def prefix_for(usable_ips: int, *, minimum: int = SMALLEST_SUBNET_PREFIX) -> int:
    """The longest prefix (smallest subnet) whose usable addresses (size - 5 reserved) hold `usable_ips`."""
    return max(0, min(32 - _bits(usable_ips + AZURE_RESERVED_IPS), minimum))


def _bits(addresses: int) -> int:
    """Host bits of the smallest block holding `addresses` addresses."""
    return (addresses - 1).bit_length()


def pe_subnet_prefix(endpoint_count: int) -> int:
    return prefix_for(endpoint_count, minimum=PE_SUBNET_MIN_PREFIX)


@functools.lru_cache(maxsize=4096)
def parse_cidr(text: str) -> ipaddress.IPv4Network | None:
    """An IPv4 network in canonical form (no host bits), else None."""
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


@functools.lru_cache(maxsize=4096)
def parse_ip(text: str) -> ipaddress.IPv4Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip if isinstance(ip, ipaddress.IPv4Address) else None


@dataclass(frozen=True, slots=True)
class SubnetLayout:
    node_subnet: ipaddress.IPv4Network
    pe_subnet: ipaddress.IPv4Network
    node_ips_needed: int
    pe_ips_needed: int
    # the subnets' texts, which the VNet body and the tree write: made once with the layout (`_place` caches it),
    # where ipaddress would build them anew, and a cache of them would hash the networks (a Python-level hash) on
    # each look-up (planning is hot: bench/bench_plan.py)
    node_cidr: str = field(init=False, repr=False, compare=False)
    pe_cidr: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "node_cidr", str(self.node_subnet))
        object.__setattr__(self, "pe_cidr", str(self.pe_subnet))


@dataclass(frozen=True, slots=True)
class LayoutError:
    """The subnets do not fit: `required_prefix` is the largest VNet prefix (smallest space) that would do."""

    needed_addresses: int
    required_prefix: int


_last_layout: tuple[ClusterRequest, ipaddress.IPv4Network, SubnetLayout | LayoutError] | None = None


def layout(request: ClusterRequest, vnet: ipaddress.IPv4Network) -> SubnetLayout | LayoutError:
    """Place the node subnet at the start of the VNet and the private-endpoint subnet in the next free
    aligned block. Both are sized by the formulas above. The rules and the plan ask it of the same (frozen) request
    in turn: the last answer is kept for that very object (an identity check, so no other request ever gets it)."""
    global _last_layout
    last = _last_layout
    # `is` first: parse_cidr's cache hands out one object a text, and an IPv4Network's == is Python code
    if last is not None and last[0] is request and (last[1] is vnet or last[1] == vnet):
        return last[2]
    result = _layout(request, vnet)
    _last_layout = (request, vnet, result)
    return result


def _layout(request: ClusterRequest, vnet: ipaddress.IPv4Network) -> SubnetLayout | LayoutError:
    return _place(vnet, node_subnet_ips(request), len(request.network.private_endpoints))


@functools.lru_cache(maxsize=1024)
def _place(vnet: ipaddress.IPv4Network, node_ips: int, pe_ips: int) -> SubnetLayout | LayoutError:
    """The subnets for these needs in this VNet. Cached by those immutable inputs (the answer is frozen): building
    the networks is most of the layout's cost, and most requests share a handful of VNets and sizes."""
    node_prefix = prefix_for(node_ips)
    pe_prefix = pe_subnet_prefix(pe_ips)
    node_size, pe_size = 2 ** (32 - node_prefix), 2 ** (32 - pe_prefix)
    # The PE block goes right after the node block, aligned up to its own size.
    pe_offset = math.ceil(node_size / pe_size) * pe_size
    needed = pe_offset + pe_size
    if node_prefix < vnet.prefixlen or needed > vnet.num_addresses:
        return LayoutError(needed, 32 - _bits(needed))
    base = int(vnet.network_address)
    node_net = ipaddress.IPv4Network((base, node_prefix))
    pe_net = ipaddress.IPv4Network((base + pe_offset, pe_prefix))
    return SubnetLayout(node_net, pe_net, node_ips, pe_ips)
