"""Network rules: address ranges, overlaps, the DNS service IP, and whether the subnets fit the VNet."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator

from shared.domain.network import LayoutError, layout, parse_cidr, parse_ip, pod_cidr_addresses
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.violations import IP_PLANNING, KUBENET, OVERLAY, Violation

DEFAULT_POD_CIDR = "192.168.0.0/16"
SERVICE_CIDR_SMALLEST_PREFIX = 13  # the service CIDR must be smaller than a /12
KUBENET_MAX_NODES = 400
KUBENET_RETIREMENT = "2028-03-31"


def pod_cidr(r: ClusterRequest) -> str | None:
    """The pod CIDR in effect: overlay and kubenet give each node a /24 from it; flat Azure CNI has none."""
    if r.network.plugin == "azure":
        return None
    return r.network.pod_cidr or DEFAULT_POD_CIDR


def _ranges(r: ClusterRequest) -> Iterator[tuple[str, str, ipaddress.IPv4Network | None]]:
    if r.network.existing is None:  # an existing network's address space is ARM's, not the request's
        yield "vnetAddressSpace", r.network.vnet_address_space, parse_cidr(r.network.vnet_address_space)
    pods = pod_cidr(r)
    if pods is not None:
        yield "podCidr", pods, parse_cidr(pods)
    yield "serviceCidr", r.network.service_cidr, parse_cidr(r.network.service_cidr)


def cidr_formats(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for field, text, net in _ranges(r):
        if net is None:
            yield Violation("CIDR_FORMAT", f"/network/{field}", f"'{text}' is not an IPv4 CIDR with its host bits "
                            "zero, e.g. 10.40.0.0/16", source=IP_PLANNING)
    if r.network.plugin == "azure" and r.network.pod_cidr is not None:
        yield Violation("POD_CIDR_IGNORED", "/network/podCidr", "plugin 'azure' gives pods IPs from the node subnet; "
                        "podCidr is ignored (use 'azure-overlay' to use it)", severity="warning", source=IP_PLANNING)


def overlaps(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    ranges = [(f, t, n) for f, t, n in _ranges(r) if n is not None]
    for i, j in _overlapping(tuple([t for _f, t, _n in ranges])):
        (field_a, _text_a, a), (field_b, _text_b, b) = ranges[i], ranges[j]
        yield Violation("NETWORK_OVERLAP", f"/network/{field_b}", f"{field_b} {b} overlaps {field_a} {a}; "
                        "the VNet, pod and service ranges must not overlap", source=IP_PLANNING)


@functools.lru_cache(maxsize=4096)
def _overlapping(cidrs: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """The pairs (i, j), i < j, of these CIDRs (all parseable) that overlap, in order. Cached by their text:
    ipaddress's overlaps() is a dozen calls, and most requests keep the default ranges."""
    nets = [parse_cidr(c) for c in cidrs]
    return tuple((i, j) for i, a in enumerate(nets) for j in range(i + 1, len(nets))
                 if a is not None and (b := nets[j]) is not None and a.overlaps(b))


def service_range(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    service = parse_cidr(r.network.service_cidr)
    if service is not None and service.prefixlen < SERVICE_CIDR_SMALLEST_PREFIX:
        yield Violation("SERVICE_CIDR_TOO_LARGE", "/network/serviceCidr", "the service CIDR must be smaller than "
                        f"a /12 (prefix /{SERVICE_CIDR_SMALLEST_PREFIX} or longer)", source=OVERLAY)
    ip = parse_ip(r.network.dns_service_ip)
    if ip is None:
        yield Violation("DNS_SERVICE_IP_FORMAT", "/network/dnsServiceIp", "dnsServiceIp must be an IPv4 address",
                        source=IP_PLANNING)
    elif service is not None and not _usable_dns_ip(r.network.service_cidr, r.network.dns_service_ip):
        yield Violation("DNS_SERVICE_IP_RANGE", "/network/dnsServiceIp", f"dnsServiceIp must lie inside the service "
                        f"range {service} and be neither its network address nor its first address "
                        f"(e.g. {service.network_address + 10})", source=IP_PLANNING)


@functools.lru_cache(maxsize=4096)
def _usable_dns_ip(service_cidr: str, dns_ip: str) -> bool:
    """Whether the DNS service IP lies in the service range (both parseable) and is neither its network address, nor
    its first address, nor its broadcast address. Cached by their text: ipaddress's comparisons are a dozen calls,
    and most requests keep the default ranges (planning is hot: bench/bench_plan.py)."""
    service, ip = parse_cidr(service_cidr), parse_ip(dns_ip)
    if service is None or ip is None:
        return False
    return ip in service and ip not in (service.network_address, service.network_address + 1,
                                        service.broadcast_address)


def sizes(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    vnet = parse_cidr(r.network.vnet_address_space) if r.network.existing is None else None
    if vnet is not None:
        placed = layout(r, vnet)
        if isinstance(placed, LayoutError):
            yield Violation("SUBNET_SPACE_TOO_SMALL", "/network/vnetAddressSpace",
                            f"the node and private-endpoint subnets need {placed.needed_addresses} addresses at the "
                            f"autoscale maxima plus upgrade surge; the VNet must be a /{placed.required_prefix} or "
                            f"larger (it is a /{vnet.prefixlen})", source=IP_PLANNING)
    pods = pod_cidr(r)
    pod_net = parse_cidr(pods) if pods else None
    if pod_net is not None and pod_net.num_addresses < pod_cidr_addresses(r):
        needed = pod_cidr_addresses(r)
        prefix = 32 - (needed - 1).bit_length()
        yield Violation("POD_CIDR_TOO_SMALL", "/network/podCidr", f"each node takes a /24 of the pod CIDR: "
                        f"{needed} addresses at the maxima plus surge, so the pod CIDR must be a /{prefix} or larger",
                        source=OVERLAY)


def kubenet(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if r.network.plugin != "kubenet":
        return
    nodes = sum(p.max_nodes for p in r.pools)
    if nodes > KUBENET_MAX_NODES:
        yield Violation("KUBENET_NODE_LIMIT", "/network/plugin", f"kubenet supports at most {KUBENET_MAX_NODES} "
                        f"nodes; the pools' maxima add up to {nodes}", source=KUBENET)
    yield Violation("KUBENET_RETIRING", "/network/plugin", f"kubenet retires on {KUBENET_RETIREMENT}; prefer "
                    "'azure-overlay'", severity="warning", source=KUBENET)


RULES = (cidr_formats, overlaps, service_range, sizes, kubenet)
