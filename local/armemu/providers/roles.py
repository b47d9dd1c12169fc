"""Microsoft.Authorization/roleDefinitions: the built-in roles that the Azure CLI and aksvend name, read-only.

`az aks create --vnet-subnet-id` (acs `_roleassignments.resolve_role_id`) and `az role assignment create --role
"Network Contributor"` list `{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName eq '<name>'`
and put the id they get into a role assignment; without this route az retries for 100 s and gives up. The GUIDs are
Azure's own (the "Azure built-in roles" reference; the CLI's acs `_consts.py` for Network Contributor and Managed
Identity Operator), the same in every tenant, so the ids a client reads here are the ids it would send to Azure.
As ARM does, a definition read at a scope inside a subscription has the subscription's id
(`/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/<guid>`); at the root, `/providers/...`.
Permissions are not modelled (an empty list): the emulator enforces no RBAC.
"""

from __future__ import annotations

from typing import Any

from ..armid import odata_eq
from ..errors import ArmError, method_not_allowed
from ..world import Call, Reply
from .base import ResourceType

# roleName -> GUID, as Azure publishes them (learn.microsoft.com "Azure built-in roles").
BUILT_IN_ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "DNS Zone Contributor": "befefa01-2a29-4197-83a8-272ff33ce314",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    # Azure RBAC for Kubernetes: what aksvend grants a request's owner group (shared/domain/rules/access.py)
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
}
_BY_GUID = {guid: name for name, guid in BUILT_IN_ROLES.items()}


def is_built_in(role_definition_id: str) -> bool:
    """Whether a role assignment's `roleDefinitionId` (a full id or a bare GUID) names a role this emulator knows."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower() in _BY_GUID


def role_does_not_exist(role_definition_id: str, status: int = 400) -> ArmError:
    """ARM's refusal of an unknown role definition (GET: 404; a role assignment naming one: 400)."""
    return ArmError(
        status,
        "RoleDefinitionDoesNotExist",
        f"The specified role definition with ID '{role_definition_id.rsplit('/', 1)[-1]}' does not exist.",
    )


class RoleDefinitions(ResourceType):
    type_name = "Microsoft.Authorization/roleDefinitions"
    scope_kind = "extension"
    requires_location = False
    has_provisioning_state = False
    patch_mode = None

    def get(self, call: Call) -> Reply:
        guid = call.path.name.lower()
        if guid not in _BY_GUID:
            raise role_does_not_exist(guid, 404)
        return Reply(200, self.definition(call, _BY_GUID[guid]))

    def list(self, call: Call) -> Reply:
        wanted = odata_eq(call.query.get("$filter", ""), "roleName")
        names = [n for n in BUILT_IN_ROLES if wanted is None or n.lower() == wanted]
        return self.page(call, [self.definition(call, n) for n in names])

    def put(self, call: Call) -> Reply:
        raise method_not_allowed(call.method, f"{self.type_name} (built-in roles only)")

    delete = put

    def definition(self, call: Call, name: str) -> dict[str, Any]:
        guid = BUILT_IN_ROLES[name]
        prefix = f"/subscriptions/{call.path.subscription}" if call.path.subscription else ""
        return {
            "id": f"{prefix}/providers/{self.type_name}/{guid}",
            "name": guid,
            "type": self.type_name,
            "properties": {
                "roleName": name,
                "type": "BuiltInRole",
                "description": f"Azure built-in role '{name}' (emulated: permissions are not modelled).",
                "assignableScopes": ["/"],
                "permissions": [],
            },
        }

