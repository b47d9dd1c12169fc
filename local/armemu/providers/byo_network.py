"""What a bring-your-own network needs of the Network RP (issue 18): route tables, NAT gateways and VNet peerings, the
references a subnet makes to a route table or NAT gateway, and AKS's check that the subnets a cluster names exist.

- `routeTables` and `natGateways`: plain long-running resources in a resource group; a subnet (inline in its VNet or
  on its own) may name one (`properties.routeTable.id`, `properties.natGateway.id`), which must exist:
  `InvalidResourceReference` ("Resource ... referenced by resource ... was not found", as Azure/azure-cli#8569 shows).
  AKS's check of UDR and user-assigned NAT egress reads them (aks_features.py).
- `virtualNetworks/{v}/virtualNetworkPeerings`: the remote VNet must exist (the same error); `peeringState` is
  `Connected` once the remote VNet has a peering back, else `Initiated`
  (learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering: a peering is made on each VNet).
- a cluster or pool whose `vnetSubnetID` names a subnet the emulator does not have: 400 `SubnetNotFound`, "Could not
  find subnet {s} in vnet {v} from resource group {rg} of subscription {sub}." (AKS's answer, quoted in
  sassoftware/viya4-iac-azure#163).
"""

from __future__ import annotations

from typing import Any

from ..errors import ArmError
from ..store import Resource
from ..world import Call
from .base import ResourceType

PEERINGS = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"


class NetworkType(ResourceType):
    """How the Network RP answers (as network.py's types, which import this module): long-running PUT and DELETE,
    429 while another operation runs."""

    lro_put = "async"
    lro_delete = "async"
    running_create = "Updating"
    busy_status = 429
    busy_code = "RetryableErrorDueToAnotherOperation"


def missing_reference(world, referenced: str, by: str) -> ArmError | None:
    if world.store.get(referenced) is not None:
        return None
    return ArmError(400, "InvalidResourceReference", f"Resource {referenced} referenced by resource {by} was not "
                    "found. Please make sure that the referenced resource exists, and that both resources are in the "
                    "same region.", target=by)


def check_subnet_references(world, props: dict[str, Any], subnet_id: str) -> None:
    """400 when a subnet names a route table or NAT gateway that does not exist."""
    for field in ("routeTable", "natGateway"):
        ref = (props.get(field) or {}).get("id")
        if ref and (error := missing_reference(world, str(ref), subnet_id)) is not None:
            raise error


def check_subnets_exist(subnets: dict[str, dict[str, Any] | None]) -> None:
    """AKS's `SubnetNotFound` for a `vnetSubnetID` that names no subnet."""
    for subnet_id, stored in subnets.items():
        if stored is None:
            parts = subnet_id.strip("/").split("/")
            named = dict(zip(parts[0::2], parts[1::2], strict=False))
            raise ArmError(400, "SubnetNotFound", f"Could not find subnet {named.get('subnets', subnet_id)} in vnet "
                           f"{named.get('virtualNetworks', '?')} from resource group {named.get('resourceGroups', '?')}"
                           f" of subscription {named.get('subscriptions', '?')}.", target="vnetSubnetID")


class RouteTables(NetworkType):
    type_name = "Microsoft.Network/routeTables"

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["properties"].setdefault("routes", [])
        stored["properties"].setdefault("disableBgpRoutePropagation", False)
        return stored


class NatGateways(NetworkType):
    type_name = "Microsoft.Network/natGateways"

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored.setdefault("sku", {"name": "Standard"})
        stored["properties"].setdefault("idleTimeoutInMinutes", 4)
        return stored


class VirtualNetworkPeerings(NetworkType):
    type_name = PEERINGS
    scope_kind = "child"
    requires_location = False
    patch_mode = None

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        remote = ((body.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id")
        if not remote:
            raise ArmError(400, "InvalidRequestFormat", "properties.remoteVirtualNetwork.id is required.",
                           target="properties.remoteVirtualNetwork")
        if (error := missing_reference(self.world, str(remote), call.path.resource_id)) is not None:
            raise error

    def render(self, resource: Resource) -> dict[str, Any]:
        remote = str(resource.properties.get("remoteVirtualNetwork", {}).get("id", ""))
        own = resource.parent or ""
        back = any(str(p.properties.get("remoteVirtualNetwork", {}).get("id", "")).lower() == own.lower()
                   for p in self.world.store.children(remote, PEERINGS)) if remote else False
        state = "Connected" if back else "Initiated"
        return {**resource.body, "properties": {**resource.properties, "peeringState": state,
                                                "peeringSyncLevel": "FullyInSync" if back else "RemoteNotInSync"}}


TYPES: tuple[type[ResourceType], ...] = (RouteTables, NatGateways, VirtualNetworkPeerings)
