"""Microsoft.Network private endpoints and their private DNS zone groups.

A private endpoint needs an existing subnet (400 `InvalidResourceReference` otherwise, at PUT time). A target
(`privateLinkServiceId`) that does not exist is only found out by the operation, as in Azure: the PUT is accepted and
the operation ends Failed with `ResourceNotFound`, leaving the endpoint in provisioningState Failed. Connections to
existing targets are auto-approved; the endpoint gets a NIC id and a private IP from its subnet.

A container registry is a target only in the Premium SKU ("Private Link with private endpoints" is a Premium feature:
learn.microsoft.com/azure/container-registry/container-registry-skus; Azure Policy's built-in "Container registries
should have SKUs that support Private Links" tests `sku.name` Premium): an endpoint to a Basic or Standard registry
ends Failed like a missing target does, 400 `PrivateEndpointNotSupportedForSku` (the code is this emulator's
assumption, worded like ACR's `DisablingPublicNetworkAccessNotSupported`; the SKU limit is documented).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..armid import derived_uuid, parse
from ..errors import ArmError, invalid, resource_not_found
from ..lro import Operation
from ..store import Resource
from ..world import Call
from .base import ResourceType
from .network import NetworkType

# The public names a private endpoint's group ids stand for (Azure "Private endpoint DNS zone values"): a storage
# group `<name>.<group>.core.windows.net` (zone privatelink.<group>.core.windows.net), `vault` `<name>.vault.azure.net`
# (privatelink.vaultcore.azure.net), `registry` `<name>.azurecr.io` and its data endpoint
# `<name>.<region>.data.azurecr.io` (both in privatelink.azurecr.io).
PUBLIC_SUFFIXES = {"vault": "vault.azure.net", "registry": "azurecr.io"}


def target_fqdns(group: str, name: str, location: str | None) -> list[str]:
    group = group.lower()
    if group == "registry":
        return [f"{name}.azurecr.io", f"{name}.{location or 'westeurope'}.data.azurecr.io"]
    if group == "vault":
        return [f"{name}.vault.azure.net"]
    return [f"{name}.{group}.core.windows.net"]


def record_name(fqdn: str) -> str:
    """The A record's name in the privatelink zone: the fqdn without its public suffix (`myacr.westeurope.data` for
    `myacr.westeurope.data.azurecr.io`), the first label for storage."""
    for suffix in PUBLIC_SUFFIXES.values():
        if fqdn.endswith(f".{suffix}"):
            return fqdn[: -len(suffix) - 1]
    return fqdn.split(".", 1)[0]


def _reference_error(resource_id: str, referenced_by: str) -> Exception:
    return invalid(
        f"Resource {resource_id} referenced by resource {referenced_by} was not found. "
        "Please make sure that the referenced resource exists, and that both resources are in the same region.",
        code="InvalidResourceReference",
    )


def _connections(props: dict[str, Any]) -> list[dict[str, Any]]:
    return list(props.get("privateLinkServiceConnections") or []) + list(
        props.get("manualPrivateLinkServiceConnections") or []
    )


def resource_not_found_error(resource_id: str) -> ArmError:
    path = parse(resource_id)
    if path is None or path.is_collection:
        return resource_not_found("Unknown", resource_id, None)
    return resource_not_found(path.type_name, "/".join(path.names), path.resource_group)


class PrivateEndpoints(NetworkType):
    type_name = "Microsoft.Network/privateEndpoints"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        props = body.get("properties") or {}
        subnet_id = (props.get("subnet") or {}).get("id")
        if not subnet_id:
            raise invalid("A private endpoint needs properties.subnet.id.", "properties.subnet")
        if self.world.store.get(subnet_id) is None:
            raise _reference_error(subnet_id, call.path.resource_id)
        connections = _connections(props)
        if not connections:
            raise invalid(
                "A private endpoint needs one private link service connection.",
                "properties.privateLinkServiceConnections",
            )
        for connection in connections:
            cprops = connection.get("properties") or {}
            if not cprops.get("privateLinkServiceId"):
                raise invalid("privateLinkServiceId is required.", "properties.privateLinkServiceConnections")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        props = stored["properties"]
        rid = call.path.resource_id
        ip = existing.extra["ip"] if existing else self._next_ip(props["subnet"]["id"])
        props["networkInterfaces"] = [
            {
                "id": f"{rid.rsplit('/providers/', 1)[0]}/providers/Microsoft.Network/"
                f"networkInterfaces/{call.path.name}.nic.{derived_uuid(rid, 'nic')}"
            }
        ]
        dns_configs = []
        for kind in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            for connection in props.get(kind) or []:
                connection["id"] = f"{rid}/{kind}/{connection.get('name', 'connection')}"
                connection["type"] = f"{self.type_name}/{kind}"
                cprops = connection.setdefault("properties", {})
                cprops["privateLinkServiceConnectionState"] = {
                    "status": "Approved",
                    "description": "Auto-Approved",
                    "actionsRequired": "None",
                }
                target = self.world.store.get(cprops["privateLinkServiceId"])
                location = target.body.get("location") if target else stored.get("location")
                name = cprops["privateLinkServiceId"].rsplit("/", 1)[-1].lower()
                for group in cprops.get("groupIds") or []:
                    dns_configs += [{"fqdn": fqdn, "ipAddresses": [ip]} for fqdn in target_fqdns(group, name, location)]
        props["customDnsConfigs"] = dns_configs
        stored["extra_ip"] = ip
        return stored

    def _next_ip(self, subnet_id: str) -> str:
        subnet = self.world.store.get(subnet_id)
        prefix = (subnet.properties.get("addressPrefixes") or [subnet.properties.get("addressPrefix")])[0]
        network = ipaddress.ip_network(prefix)
        used = subnet.extra.setdefault("allocated", 0)
        subnet.extra["allocated"] = used + 1
        return str(network.network_address + 4 + used)  # Azure reserves the first four addresses.

    def extra_children(self, resource: Resource) -> None:
        resource.extra["ip"] = resource.body.pop("extra_ip")

    def start(self, call: Call, resource: Resource, kind: str, running: str, finish, before=None) -> Operation:
        op = super().start(call, resource, kind, running, finish, before)
        if kind != "delete" and op.error is None:
            for connection in _connections(resource.properties):
                target = connection["properties"]["privateLinkServiceId"]
                found = self.world.store.get(target)
                refusal = resource_not_found_error(target) if found is None else _sku_refusal(found)
                if refusal is not None:
                    op.error, op.error_status = refusal.to_error(), refusal.status
        return op


def _sku_refusal(target: Resource) -> ArmError | None:
    """A registry below Premium takes no private endpoint (module docstring); other targets: None."""
    if target.type.lower() != "microsoft.containerregistry/registries":
        return None
    sku = str((target.body.get("sku") or {}).get("name", ""))
    if sku == "Premium":
        return None
    return ArmError(400, "PrivateEndpointNotSupportedForSku", f"Private endpoints are not supported for the SKU "
                    f"{sku}. For more information, please visit https://aka.ms/acr/private-link.")


class PrivateDnsZoneGroups(NetworkType):
    type_name = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
    scope_kind = "child"
    requires_location = False
    patch_mode = None

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        configs = (body.get("properties") or {}).get("privateDnsZoneConfigs") or []
        if not configs:
            raise invalid("privateDnsZoneConfigs must name at least one zone.", "properties.privateDnsZoneConfigs")
        for config in configs:
            zone_id = (config.get("properties") or {}).get("privateDnsZoneId", "")
            if self.world.store.get(zone_id) is None:
                raise _reference_error(zone_id, call.path.resource_id)

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        endpoint = self.world.store.get(call.path.parent_id)
        for config in stored["properties"]["privateDnsZoneConfigs"]:
            zone_name = config["properties"]["privateDnsZoneId"].rsplit("/", 1)[-1]
            config["properties"]["recordSets"] = [
                {
                    "recordType": "A",
                    "recordSetName": record_name(dns["fqdn"]),
                    "fqdn": f"{record_name(dns['fqdn'])}.{zone_name}",
                    "ttl": 10,
                    "ipAddresses": dns["ipAddresses"],
                    "provisioningState": "Succeeded",
                }
                for dns in endpoint.properties.get("customDnsConfigs") or []
            ]
        return stored

    def guard(self, call: Call, existing: Resource | None) -> None:
        ResourceType.guard(self, call, existing)
        ResourceType.guard(self, call, self.world.store.get(call.path.parent_id))
