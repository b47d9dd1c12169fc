"""plan(request) -> Plan: the desired Azure resources of a cluster and the step graph that creates them.

Pure and deterministic: the same request gives the same plan, byte for byte (ids, names, bodies, order).
Resources come in dependency order; every resource is created by one step, and a step may start once the
steps of the resources it depends on are done. The managed cluster is one step carrying all initial pools,
so that the cluster sees one mutating operation at creation (AKS refuses a second one with 409).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from shared.domain import arm, armid, byo
from shared.domain.network import LayoutError, SubnetLayout, layout, parse_cidr
from shared.domain.pricing import Estimate, estimate, shipped
from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.access import role_id
from shared.domain.tree import render

Action = Literal["put", "delete"]
ANY_NETWORK = ipaddress.IPv4Network("0.0.0.0/0")


class PlannedResource(NamedTuple):  # a NamedTuple: immutable, and built ~3x faster than a frozen dataclass
    key: str  # stable within a plan: "resourceGroup", "vnet", "dnsZone:blob", "privateEndpoint:data" ...
    type: str  # full ARM type, e.g. "Microsoft.Network/virtualNetworks"
    id: str
    api_version: str
    body: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "id": self.id, "apiVersion": self.api_version,
                "dependsOn": list(self.depends_on), "body": self.body}


_new_tuple = tuple.__new__


class Step(NamedTuple):
    id: str  # "put:vnet"
    action: Action
    resource: str  # PlannedResource.key
    depends_on: tuple[str, ...]
    mutates_cluster: bool  # at most one such step runs per cluster at a time
    estimated_seconds: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "resource": self.resource, "dependsOn": list(self.depends_on),
                "mutatesCluster": self.mutates_cluster, "estimatedSeconds": self.estimated_seconds}


@dataclass(frozen=True, slots=True)
class Plan:
    request: ClusterRequest
    subnets: SubnetLayout
    resources: tuple[PlannedResource, ...]
    steps: tuple[Step, ...]
    critical_path: tuple[str, ...]
    critical_path_seconds: int
    tree: str = field(repr=False)
    estimate: Estimate | None = field(default=None, repr=False)  # the monthly cost (docs/cost.md)

    def resource(self, key: str) -> PlannedResource:
        return next(r for r in self.resources if r.key == key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "resources": [r.to_dict() for r in self.resources],
            "steps": [s.to_dict() for s in self.steps],
            "criticalPath": list(self.critical_path),
            "criticalPathSeconds": self.critical_path_seconds,
            "tree": self.tree,
            "estimate": self.estimate.to_dict() if self.estimate else None,
        }


class PlanningError(ValueError):
    """The request was not validated first: plan() only takes requests without error violations."""


def plan(request: ClusterRequest) -> Plan:
    vnet = parse_cidr(request.network.vnet_address_space)
    if byo.uses_existing_network(request):  # no VNet of aksvend's: the layout is unused (the tree names the subnets)
        vnet = ANY_NETWORK
    subnets = layout(request, vnet) if vnet is not None else None
    if subnets is None or isinstance(subnets, LayoutError):
        raise PlanningError("the network does not fit; validate the request before planning")
    resources = tuple(_resources(request, subnets))
    steps = tuple(_steps(resources))
    path, seconds = critical_path(steps)
    cost = estimate(request, shipped())
    return Plan(request, subnets, resources, steps, path, seconds, render(request, subnets, cost), cost)


def _resources(r: ClusterRequest, subnets: SubnetLayout) -> list[PlannedResource]:
    ids, own = arm.ids(r), own_network(r)

    def res(key: str, type_: arm.ResourceType, id_: str, body: Mapping[str, Any], *deps: str) -> PlannedResource:
        # tuple.__new__ builds what PlannedResource(...) does without the NamedTuple's __new__, a Python function,
        # on each of a plan's resources (planning is hot: bench/bench_plan.py)
        return _new_tuple(PlannedResource, (key, type_.name, id_, type_.api_version, body, deps))

    # an existing identity or network (shared/domain/byo.py) is not the plan's: never made, so never deleted
    out = [res("resourceGroup", arm.RESOURCE_GROUP, ids["resourceGroup"], arm.RESOURCE_GROUP.body(r))]
    grantee = ("identity",) if byo.makes_identity(r) else ()
    if grantee:
        out.append(res("identity", arm.IDENTITY, ids["identity"], arm.IDENTITY.body(r), "resourceGroup"))
    if own:
        out.append(res("vnet", arm.VNET, ids["vnet"], arm.VNET.body(r, subnets), "resourceGroup"))
    node_subnet = arm.node_subnet_id(r)
    node_grant: tuple[str, ...] = ()  # the cluster waits for it
    if grantee and node_subnet is not None:  # AKS needs Network Contributor on the nodes' subnet (docs/request.md)
        node_grant = ("roleAssignment",)
        role_name = arm.role_assignment_name(node_subnet, arm.NETWORK_CONTRIBUTOR, ids["identity"])
        out.append(res("roleAssignment", arm.ROLE_ASSIGNMENT,
                       f"{node_subnet}/providers/Microsoft.Authorization/roleAssignments/{role_name}",
                       arm.ROLE_ASSIGNMENT.body(r), *grantee, *own))
    out += _private_endpoints(r, res)
    out += hub_peering(r, res)
    out += _vnet_rules(r, res, own)
    # a pool's own subnet: the same role
    grants = [pool_grant(r, pool) for pool in r.user_pools if pool.subnet] if grantee else []
    out += [res(key, arm.ROLE_ASSIGNMENT, id_, arm.ROLE_ASSIGNMENT.body(r), *grantee, *own) for key, id_ in grants]
    cluster_deps = [*grantee, *own, *node_grant, *[key for key, _ in grants]]
    api_zone = api_server_dns_zone(r)
    if api_zone is not None and grantee:  # AKS needs Private DNS Zone Contributor on a zone it is given
        zone_role = arm.role_assignment_name(api_zone, arm.PRIVATE_DNS_ZONE_CONTRIBUTOR, ids["identity"])
        out.append(res("roleAssignment:apiServerDnsZone", arm.ROLE_ASSIGNMENT,
                       f"{api_zone}/providers/Microsoft.Authorization/roleAssignments/{zone_role}",
                       arm.role_body(r, arm.PRIVATE_DNS_ZONE_CONTRIBUTOR), "identity"))
        cluster_deps.append("roleAssignment:apiServerDnsZone")
    out.append(res("cluster", arm.CLUSTER, ids["cluster"], arm.CLUSTER.body(r), *cluster_deps))
    for name, window in arm.maintenance_windows(r):  # children of the cluster: after it, each its own step
        out.append(res(f"maintenance:{name}", arm.MAINTENANCE, f"{ids['cluster']}/maintenanceConfigurations/{name}",
                       arm.maintenance_body(window), "cluster"))
    if r.access is not None:  # the owner group's role on the cluster, once the cluster exists (docs/request.md)
        owner = arm.role_assignment_name(ids["cluster"], str(role_id(r.access.role)), r.access.owner_group)
        out.append(res("ownerRoleAssignment", arm.ROLE_ASSIGNMENT,
                       f"{ids['cluster']}/providers/Microsoft.Authorization/roleAssignments/{owner}",
                       arm.owner_role_assignment_body(r), "cluster"))
    return out


def own_network(r: ClusterRequest) -> tuple[str, ...]:
    """("vnet",) when the plan makes the cluster's VNet (what depends on it waits for it), () with an existing one."""
    return () if byo.uses_existing_network(r) else ("vnet",)


def hub_peering(r: ClusterRequest, res: Callable[..., PlannedResource]) -> list[PlannedResource]:
    """The peering of aksvend's VNet to the hub VNet (`network.hubVnetId`): the spoke side only (docs/request.md)."""
    hub = r.network.hub_vnet_id
    if hub is None or byo.uses_existing_network(r):
        return []
    peering_id = f"{arm.ids(r)['vnet']}/virtualNetworkPeerings/{arm.HUB_PEERING}"
    return [res("hubPeering", arm.VNET_PEERING, peering_id, arm.VNET_PEERING.body(r), "vnet")]


def _private_endpoints(r: ClusterRequest, res: Callable[..., PlannedResource]) -> list[PlannedResource]:
    """Each private DNS zone the endpoints need (one per group id) with its VNet link, then each endpoint with its
    zone group."""
    out: list[PlannedResource] = []
    ids, own, endpoints = arm.ids(r), own_network(r), r.network.private_endpoints
    if not endpoints:
        return out
    rg_id = ids["resourceGroup"]
    groups = list(dict.fromkeys([pe.group_id for pe in endpoints]))
    central = r.network.private_dns_zones  # group id -> an existing (central) zone: not made, linked only if asked
    link = arm.dns_link_name(arm.cluster_vnet_id(r) or ids["vnet"])
    for group in groups:
        zone_id = central.get(group) or f"{rg_id}/providers/Microsoft.Network/privateDnsZones/{arm.dns_zone_for(group)}"
        made = () if group in central else (f"dnsZone:{group}",)
        if made:
            out.append(res(f"dnsZone:{group}", arm.DNS_ZONE, zone_id, arm.DNS_ZONE.body(r), "resourceGroup"))
        if made or r.network.link_private_dns_zones:
            out.append(res(f"dnsLink:{group}", arm.DNS_LINK, f"{zone_id}/virtualNetworkLinks/{link}",
                           arm.DNS_LINK.body(r), *made, *own))
    for pe in endpoints:
        pe_id = f"{rg_id}/providers/Microsoft.Network/privateEndpoints/pe-{pe.name}"
        zone = arm.dns_zone_for(pe.group_id)
        zone_id = central.get(pe.group_id) or f"{rg_id}/providers/Microsoft.Network/privateDnsZones/{zone}"
        out.append(res(f"privateEndpoint:{pe.name}", arm.PRIVATE_ENDPOINT, pe_id,
                       arm.PRIVATE_ENDPOINT.body(r, pe.name, pe.target_resource_id, pe.group_id),
                       *(own or ("resourceGroup",))))  # in the cluster's group, on the VNet when it is aksvend's
        out.append(res(f"dnsZoneGroup:{pe.name}", arm.DNS_ZONE_GROUP, f"{pe_id}/privateDnsZoneGroups/default",
                       arm.DNS_ZONE_GROUP.body(zone_id, zone), f"privateEndpoint:{pe.name}",
                       *(() if pe.group_id in central else (f"dnsZone:{pe.group_id}",))))
    return out


VNET_RULE_PREFIX = "vnetRule:"  # the key of an edit of a service endpoint target's rules, not a resource aksvend owns


def target_key(target_id: str) -> str:
    """The plan key of a service endpoint target's rules: `vnetRule:<16 hex>`, a hash of the case-folded full id.
    Neither the type and name (two accounts of one name in two resource groups are two targets) nor the id itself
    (a table key holds no '/') would do: the hash is one key per target, and always a valid table key."""
    return VNET_RULE_PREFIX + hashlib.sha256(armid.fold_case(armid.key(target_id)).encode()).hexdigest()[:16]


def _vnet_rules(r: ClusterRequest, res: Callable[..., PlannedResource], own: tuple[str, ...]) -> list[PlannedResource]:
    """Each service endpoint target's VNet rules for the cluster's subnets, once the VNet has them: an edit of the
    target's rule set (shared/domain/arm/vnet_rules.py), keyed by `target_key`."""
    if not r.network.service_endpoint_targets:
        return []  # the common case, kept free of work (plan throughput, docs/benchmarks.md)
    subnets = arm.cluster_subnets(r)
    out = []
    for target in r.network.service_endpoint_targets:
        parsed = armid.parse(target.target_resource_id)
        if parsed is None:
            raise PlanningError("a service endpoint target is no ARM id; validate the request before planning")
        type_ = arm.resource_type(parsed.resource_type)
        out.append(res(target_key(target.target_resource_id), type_, target.target_resource_id,
                       type_.body(type_.name, subnets), *own))
    return out


def pool_grant(r: ClusterRequest, pool: Pool) -> tuple[str, str]:
    """The key and id of the cluster identity's Network Contributor role on a pool's own subnet."""
    subnet = arm.pool_subnet_id(r, pool)
    name = arm.role_assignment_name(subnet, arm.NETWORK_CONTRIBUTOR, arm.ids(r)["identity"])
    return f"roleAssignment:{pool.name}", f"{subnet}/providers/Microsoft.Authorization/roleAssignments/{name}"


def api_server_dns_zone(r: ClusterRequest) -> str | None:
    """The id of an existing private DNS zone a private cluster's API server is given, if any."""
    zone = r.api_server.private_dns_zone
    return zone if r.api_server.private and zone.lower() not in ("system", "none") else None


def _steps(resources: tuple[PlannedResource, ...]) -> list[Step]:
    return [_put_step(res.key, res.type, res.depends_on) for res in resources]


@functools.lru_cache(maxsize=1024)
def _put_step(key: str, type_name: str, depends_on: tuple[str, ...]) -> Step:
    """The step that puts a resource: a pure function of its key, type and dependencies, which most plans share
    ("put:vnet" after "put:resourceGroup"), so made once (planning is hot: bench/bench_plan.py)."""
    return Step(f"put:{key}", "put", key, tuple([f"put:{d}" for d in depends_on]), type_name == arm.CLUSTER.name,
                arm.resource_type(type_name).seconds["put"])


def critical_path(steps: tuple[Step, ...]) -> tuple[tuple[str, ...], int]:
    """The longest chain of estimated durations through the step DAG (steps come in dependency order)."""
    finish: dict[str, int] = {}
    via: dict[str, str | None] = {}
    at = finish.__getitem__  # the key of both max() below: the same as `lambda d: finish[d]`, without a call each
    for step in steps:
        deps = step.depends_on
        # most steps wait for one step or none: no max() for them (planning is hot: bench/bench_plan.py)
        before = (deps[0] if len(deps) == 1 else max(deps, key=at)) if deps else None
        finish[step.id] = (finish[before] if before else 0) + step.estimated_seconds
        via[step.id] = before
    if not finish:
        return (), 0
    end = max(finish, key=at)
    total = finish[end]
    chain = []
    last: str | None = end
    while last is not None:
        chain.append(last)
        last = via[last]
    return tuple(reversed(chain)), total
