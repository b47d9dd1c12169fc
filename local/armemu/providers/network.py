"""Microsoft.Network virtual networks and subnets (inline in the VNet PUT and as child resources).

Both are long-running (201/200 with `Azure-AsyncOperation`, provisioningState `Updating` then `Succeeded`). A VNet
PUT replaces its subnet list, as Azure's full PUT does: subnets left out are deleted, unless something uses them
(`InUseSubnetCannotBeDeleted`). Subnets must lie inside the VNet's address space and must not overlap each other
(400). While an operation runs on a VNet or subnet, the Network RP answers 429 `RetryableErrorDueToAnotherOperation`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..armid import derived_uuid
from ..errors import invalid
from ..store import Resource
from ..world import Call
from .base import ResourceType
from .byo_network import check_subnet_references

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_prefix(prefix: Any, target: str) -> Network:
    try:
        return ipaddress.ip_network(str(prefix), strict=True)
    except ValueError as exc:
        raise invalid(
            f"Address prefix {prefix} is not a valid CIDR block: {exc}.", target, "InvalidAddressPrefix"
        ) from exc


def subnet_prefixes(props: dict[str, Any], target: str) -> list[Network]:
    raw = props.get("addressPrefixes") or ([props["addressPrefix"]] if props.get("addressPrefix") else [])
    if not raw:
        raise invalid("Subnet must have an addressPrefix or addressPrefixes.", target, "InvalidRequestFormat")
    return [parse_prefix(p, target) for p in raw]


def check_subnets(vnet_name: str, space: list[Network], subnets: dict[str, list[Network]]) -> None:
    """400 if a subnet lies outside the VNet's address space or two subnets overlap."""
    for name, prefixes in subnets.items():
        for prefix in prefixes:
            if not any(prefix.version == s.version and prefix.subnet_of(s) for s in space):
                raise invalid(
                    f"Subnet '{name}' is not valid in virtual network '{vnet_name}': {prefix} is outside its "
                    "address space.",
                    target=name,
                    code="NetcfgSubnetRangeOutsideVnet",
                )
    named = [(name, p) for name, ps in subnets.items() for p in ps]
    for i, (name_a, a) in enumerate(named):
        for name_b, b in named[i + 1 :]:
            if a.version == b.version and a.overlaps(b):
                raise invalid(
                    f"Subnet '{name_a}' ({a}) overlaps subnet '{name_b}' ({b}) in virtual network '{vnet_name}'.",
                    target=name_a,
                    code="NetcfgSubnetRangesOverlap",
                )


def subnet_users(world, subnet_id: str, subscription: str) -> list[str]:
    """Ids of what references a subnet: private endpoints and AKS agent pools (`vnetSubnetID`)."""
    wanted = subnet_id.lower()
    users = [
        pe.id
        for pe in world.store.in_subscription(subscription, "Microsoft.Network/privateEndpoints")
        if (pe.properties.get("subnet") or {}).get("id", "").lower() == wanted
    ]
    for cluster in world.store.in_subscription(subscription, "Microsoft.ContainerService/managedClusters"):
        for pool in world.store.children(cluster.id, "Microsoft.ContainerService/managedClusters/agentPools"):
            if str(pool.properties.get("vnetSubnetID", "")).lower() == wanted:
                users.append(pool.id)
    return users


class NetworkType(ResourceType):
    lro_put = "async"
    lro_delete = "async"
    running_create = "Updating"
    busy_status = 429
    busy_code = "RetryableErrorDueToAnotherOperation"


class VirtualNetworks(NetworkType):
    type_name = "Microsoft.Network/virtualNetworks"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        props = body.get("properties") or {}
        raw_space = (props.get("addressSpace") or {}).get("addressPrefixes") or []
        if not raw_space:
            raise invalid("addressSpace.addressPrefixes must name at least one prefix.", "properties.addressSpace")
        space = [parse_prefix(p, "properties.addressSpace") for p in raw_space]
        inline = {
            s.get("name", ""): subnet_prefixes(s.get("properties") or {}, s.get("name", ""))
            for s in props.get("subnets") or []
        }
        check_subnets(call.path.name, space, inline)
        for spec in props.get("subnets") or []:  # a route table or NAT gateway a subnet names must exist
            check_subnet_references(self.world, spec.get("properties") or {},
                                                f"{call.path.resource_id}/subnets/{spec.get('name', '')}")
        if existing is not None:
            kept = {name.lower() for name in inline}
            for subnet in self.world.store.children(existing.id, Subnets.type_name):
                if subnet.name.lower() not in kept and subnet_users(self.world, subnet.id, call.path.subscription):
                    raise invalid(
                        f"Subnet {subnet.name} is in use and cannot be deleted.",
                        subnet.name,
                        "InUseSubnetCannotBeDeleted",
                    )

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["properties"]["resourceGuid"] = derived_uuid(call.path.resource_id, "resourceGuid")
        stored["extra_inline_subnets"] = stored["properties"].pop("subnets", None) or []
        return stored

    def extra_children(self, resource: Resource) -> None:
        inline = resource.body.pop("extra_inline_subnets", [])
        wanted = {s["name"].lower(): s for s in inline}
        for subnet in self.world.store.children(resource.id, Subnets.type_name):
            if subnet.name.lower() not in wanted:
                self.world.store.remove(subnet.id)
        for spec in inline:
            subnet_id = f"{resource.id}/subnets/{spec['name']}"
            existing = self.world.store.get(subnet_id)
            props = {**(spec.get("properties") or {}), "provisioningState": resource.properties["provisioningState"]}
            body = {
                "id": subnet_id,
                "name": spec["name"],
                "type": Subnets.type_name,
                "properties": _subnet_defaults(props),
            }
            if existing is None:
                self.world.store.add(
                    Resource(subnet_id, Subnets.type_name, body, resource.id, resource.subscription, False)
                )
            else:
                existing.body = body

    def on_created(self, resource: Resource, op) -> None:
        for subnet in self.world.store.children(resource.id, Subnets.type_name):
            subnet.properties["provisioningState"] = "Succeeded"

    def render(self, resource: Resource) -> dict[str, Any]:
        subnets = [s.body for s in self.world.store.children(resource.id, Subnets.type_name)]
        return {**resource.body, "properties": {**resource.properties, "subnets": subnets}}


class Subnets(NetworkType):
    type_name = "Microsoft.Network/virtualNetworks/subnets"
    scope_kind = "child"
    requires_location = False
    patch_mode = None

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        vnet = self.world.store.get(call.path.parent_id)
        space = [parse_prefix(p, "addressSpace") for p in vnet.properties["addressSpace"]["addressPrefixes"]]
        siblings = {
            s.name: subnet_prefixes(s.properties, s.name)
            for s in self.world.store.children(vnet.id, self.type_name)
            if s.name.lower() != call.path.name.lower()
        }
        siblings[call.path.name] = subnet_prefixes(body.get("properties") or {}, "properties.addressPrefix")
        check_subnets(vnet.name, space, siblings)
        check_subnet_references(self.world, body.get("properties") or {}, call.path.resource_id)

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["properties"] = _subnet_defaults(stored["properties"])
        return stored

    def guard(self, call: Call, existing: Resource | None) -> None:
        super().guard(call, existing)
        super().guard(call, self.world.store.get(call.path.parent_id))

    def check_delete(self, resource: Resource) -> None:
        if subnet_users(self.world, resource.id, resource.subscription):
            raise invalid(
                f"Subnet {resource.name} is in use and cannot be deleted.", resource.name, "InUseSubnetCannotBeDeleted"
            )


def _subnet_defaults(props: dict[str, Any]) -> dict[str, Any]:
    props.setdefault("privateEndpointNetworkPolicies", "Disabled")
    props.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    for endpoint in props.get("serviceEndpoints") or []:
        endpoint.setdefault("provisioningState", "Succeeded")
    return props
