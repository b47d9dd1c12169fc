"""Microsoft.Network private DNS zones and their virtual network links (location `global`; PUT, PATCH and DELETE
long-running with `Azure-AsyncOperation`). A link needs an existing VNet. A zone with links is not deleted: ARM
answers 409 `CannotDeleteResource` "Cannot delete resource while nested resources exist" (as reported in
learntocloud/networking-lab#8 and Azure/deployment-stacks#227)."""

from __future__ import annotations

from typing import Any

from ..errors import ArmError, invalid
from ..store import Resource
from ..world import Call
from .base import ResourceType


class PrivateDnsZones(ResourceType):
    type_name = "Microsoft.Network/privateDnsZones"
    lro_put = "async"
    lro_delete = "async"
    patch_mode = "async"
    requires_location = False

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        if "." not in call.path.name:
            raise invalid(f"The zone name '{call.path.name}' must have at least two labels.", code="BadRequest")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["location"] = "global"
        stored["properties"].update(
            maxNumberOfRecordSets=25000,
            maxNumberOfVirtualNetworkLinks=1000,
            maxNumberOfVirtualNetworkLinksWithRegistration=100,
            numberOfRecordSets=1,
        )
        return stored

    def render(self, resource: Resource) -> dict[str, Any]:
        links = len(self.world.store.children(resource.id, VirtualNetworkLinks.type_name))
        return {**resource.body, "properties": {**resource.properties, "numberOfVirtualNetworkLinks": links}}

    def check_delete(self, resource: Resource) -> None:
        links = self.world.store.children(resource.id, VirtualNetworkLinks.type_name)
        if links:
            nested = ", ".join(f"'{link.id.split('/providers/', 1)[1]}'" for link in links[:3])
            raise ArmError(409, "CannotDeleteResource", "Cannot delete resource while nested resources exist. Some "
                           f"existing nested resource IDs include: {nested}. Please delete all nested resources "
                           "before deleting this resource.")


class VirtualNetworkLinks(ResourceType):
    type_name = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
    scope_kind = "child"
    lro_put = "async"
    lro_delete = "async"
    patch_mode = "async"
    requires_location = False

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        vnet_id = ((body.get("properties") or {}).get("virtualNetwork") or {}).get("id")
        if not vnet_id or self.world.store.get(vnet_id) is None:
            raise invalid(f"Virtual network '{vnet_id}' was not found.", "properties.virtualNetwork", "BadRequest")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["location"] = "global"
        stored["properties"].setdefault("registrationEnabled", False)
        stored["properties"]["virtualNetworkLinkState"] = "Completed"
        return stored
