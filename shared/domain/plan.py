"""plan(request) -> Plan: the desired Azure resources of a cluster and the step graph that creates them.

Pure and deterministic: the same request gives the same plan, byte for byte (ids, names, bodies, order).
Resources come in dependency order; every resource is created by one step, and a step may start once the
steps of the resources it depends on are done. The managed cluster is one step carrying all initial pools,
so that the cluster sees one mutating operation at creation (AKS refuses a second one with 409).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.domain import arm
from shared.domain.network import LayoutError, SubnetLayout, layout, parse_cidr
from shared.domain.pricing import Estimate, estimate, shipped
from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.access import role_id
from shared.domain.tree import render

Action = Literal["put", "delete"]


@dataclass(frozen=True, slots=True)
class PlannedResource:
    key: str  # stable within a plan: "resourceGroup", "vnet", "dnsZone:blob", "privateEndpoint:data" ...
    type: str  # full ARM type, e.g. "Microsoft.Network/virtualNetworks"
    id: str
    api_version: str
    body: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "id": self.id, "apiVersion": self.api_version,
                "dependsOn": list(self.depends_on), "body": self.body}


@dataclass(frozen=True, slots=True)
class Step:
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
    subnets = layout(request, vnet) if vnet is not None else None
    if subnets is None or isinstance(subnets, LayoutError):
        raise PlanningError("the network does not fit; validate the request before planning")
    resources = tuple(_resources(request, subnets))
    steps = tuple(_steps(resources))
    path, seconds = critical_path(steps)
    cost = estimate(request, shipped())
    return Plan(request, subnets, resources, steps, path, seconds, render(request, subnets, cost), cost)


def _resources(r: ClusterRequest, subnets: SubnetLayout) -> list[PlannedResource]:
    ids = arm.ids(r)

    def res(key: str, type_: arm.ResourceType, id_: str, body: Mapping[str, Any], *deps: str) -> PlannedResource:
        return PlannedResource(key, type_.name, id_, type_.api_version, body, tuple(deps))

    out = [
        res("resourceGroup", arm.RESOURCE_GROUP, ids["resourceGroup"], arm.RESOURCE_GROUP.body(r)),
        res("identity", arm.IDENTITY, ids["identity"], arm.IDENTITY.body(r), "resourceGroup"),
        res("vnet", arm.VNET, ids["vnet"], arm.VNET.body(r, subnets), "resourceGroup"),
    ]
    role_name = arm.role_assignment_name(ids["nodeSubnet"], arm.NETWORK_CONTRIBUTOR, ids["identity"])
    out.append(res("roleAssignment", arm.ROLE_ASSIGNMENT,
                   f"{ids['nodeSubnet']}/providers/Microsoft.Authorization/roleAssignments/{role_name}",
                   arm.ROLE_ASSIGNMENT.body(r), "identity", "vnet"))
    out += _private_endpoints(r, res)
    grants = [pool_grant(r, pool) for pool in r.user_pools if pool.subnet]  # a pool's own subnet: the same role
    out += [res(key, arm.ROLE_ASSIGNMENT, id_, arm.ROLE_ASSIGNMENT.body(r), "identity", "vnet") for key, id_ in grants]
    cluster_deps = ["identity", "vnet", "roleAssignment", *(key for key, _ in grants)]
    api_zone = api_server_dns_zone(r)
    if api_zone is not None:  # AKS needs Private DNS Zone Contributor on a zone it is given (private-clusters.md)
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


def _private_endpoints(r: ClusterRequest, res: Callable[..., PlannedResource]) -> list[PlannedResource]:
    """Each private DNS zone the endpoints need (one per group id) with its VNet link, then each endpoint with its
    zone group."""
    out: list[PlannedResource] = []
    rg_id = arm.ids(r)["resourceGroup"]
    groups = list(dict.fromkeys(pe.group_id for pe in r.network.private_endpoints))
    for group in groups:
        zone = arm.dns_zone_for(group)
        zone_id = f"{rg_id}/providers/Microsoft.Network/privateDnsZones/{zone}"
        out.append(res(f"dnsZone:{group}", arm.DNS_ZONE, zone_id, arm.DNS_ZONE.body(r), "resourceGroup"))
        out.append(res(f"dnsLink:{group}", arm.DNS_LINK, f"{zone_id}/virtualNetworkLinks/link-{arm.vnet_name(r)}",
                       arm.DNS_LINK.body(r), f"dnsZone:{group}", "vnet"))
    for pe in r.network.private_endpoints:
        pe_id = f"{rg_id}/providers/Microsoft.Network/privateEndpoints/pe-{pe.name}"
        zone = arm.dns_zone_for(pe.group_id)
        out.append(res(f"privateEndpoint:{pe.name}", arm.PRIVATE_ENDPOINT, pe_id,
                       arm.PRIVATE_ENDPOINT.body(r, pe.name, pe.target_resource_id, pe.group_id), "vnet"))
        out.append(res(f"dnsZoneGroup:{pe.name}", arm.DNS_ZONE_GROUP, f"{pe_id}/privateDnsZoneGroups/default",
                       arm.DNS_ZONE_GROUP.body(f"{rg_id}/providers/Microsoft.Network/privateDnsZones/{zone}", zone),
                       f"privateEndpoint:{pe.name}", f"dnsZone:{pe.group_id}"))
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
    cluster = arm.CLUSTER.name
    return [
        Step(f"put:{res.key}", "put", res.key, tuple([f"put:{d}" for d in res.depends_on]),
             res.type == cluster, _put_seconds(res.type))
        for res in resources
    ]


@functools.lru_cache(maxsize=64)
def _put_seconds(type_name: str) -> int:
    """A type's typical PUT duration (a handful of types, asked for on every plan)."""
    return arm.resource_type(type_name).seconds["put"]


def critical_path(steps: tuple[Step, ...]) -> tuple[tuple[str, ...], int]:
    """The longest chain of estimated durations through the step DAG (steps come in dependency order)."""
    finish: dict[str, int] = {}
    via: dict[str, str | None] = {}
    at = finish.__getitem__  # the key of both max() below: the same as `lambda d: finish[d]`, without a call each
    for step in steps:
        before = max(step.depends_on, key=at, default=None)
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
