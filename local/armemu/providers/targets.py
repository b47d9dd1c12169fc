"""Key Vaults and container registries: enough to be private endpoint targets (group ids `vault` and `registry`,
private DNS zones `privatelink.vaultcore.azure.net` and `privatelink.azurecr.io`, privatelink.py) and to be named by
what aksvend and the Azure CLI build.

- `Microsoft.KeyVault/vaults`: synchronous PUT (ARM answers the vault at once); `properties.tenantId` and
  `properties.sku` (`{family: "A", name: "standard"|"premium"}`) required as the REST reference has them; AKS-style
  defaults filled (`vaultUri` `https://<name>.vault.azure.net/`, soft delete on, 90 days, no access policies);
  `networkAcls.virtualNetworkRules` checked on PUT and PATCH (netacls.py).
  Names: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no `--`: 400
  `VaultNameNotValid`; globally unique: 409 `VaultAlreadyExists` (Key Vault's codes and wording: the Key Vault
  "common error codes" doc and real answers quoted in Azure/azure-powershell#15115).
- `Microsoft.ContainerRegistry/registries`: long-running PUT (201 + `Azure-AsyncOperation`, as ACR creates);
  `sku.name` Basic/Standard/Premium required; `loginServer` `<name lower-cased>.azurecr.io`. Names: 5-50
  alphanumerics ("Resource names may contain alpha numeric characters only and must be between 5 and 50
  characters", the REST pattern `^[a-zA-Z0-9]*$`), 400; globally unique, 409 `AlreadyInUse` "The registry DNS name
  <name>.azurecr.io is already in use." (ACR's wording; its status is an assumption).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ArmError, invalid
from ..lro import utc_now_iso
from ..store import Resource
from ..world import Call, Reply
from .base import ResourceType
from .netacls import VAULT_SERVICES, check_vnet_rules

VAULT_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
REGISTRY_NAME = re.compile(r"^[a-zA-Z0-9]{5,50}$")
VAULT_SKUS = ("standard", "premium")
REGISTRY_SKUS = ("Basic", "Standard", "Premium")


def taken(type_: ResourceType, name: str) -> bool:
    """Whether any subscription the emulator knows has a resource of this type by this name (case-insensitive)."""
    world = type_.world
    return any(other.name.lower() == name.lower() for sub in world.subscriptions.values()
               for other in world.store.in_subscription(sub, type_.type_name))


class KeyVaults(ResourceType):
    type_name = "Microsoft.KeyVault/vaults"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        name = call.path.name
        if not VAULT_NAME.match(name) or "--" in name:
            raise invalid(f"The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric "
                          "characters. The name must begin with a letter, end with a letter or digit, and not "
                          "contain consecutive hyphens.", "name", "VaultNameNotValid")
        if existing is None and taken(self, name):
            raise ArmError(409, "VaultAlreadyExists", f"The vault name '{name}' is already in use. Vault names are "
                           "globally unique so it is possible that the name is already taken.")
        props = body.get("properties") or {}
        if not props.get("tenantId"):
            raise invalid("The tenantId of the vault is required.", "properties.tenantId")
        sku = props.get("sku") or {}
        if str(sku.get("name", "")).lower() not in VAULT_SKUS:
            raise invalid(f"properties.sku.name must be one of {', '.join(VAULT_SKUS)}.", "properties.sku.name")
        check_vnet_rules(self.world, body, VAULT_SERVICES, None)

    def patch(self, call: Call) -> Reply:
        """`Vaults_Update` (`az keyvault update`, `network-rule add`), its VNet rules checked (netacls.py)."""
        check_vnet_rules(self.world, call.body if isinstance(call.body, dict) else {}, VAULT_SERVICES, None)
        return super().patch(call)

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        props = stored["properties"]
        props["sku"] = {"family": "A", **props["sku"]}
        props["vaultUri"] = f"https://{call.path.name.lower()}.vault.azure.net/"
        for key, value in (("accessPolicies", []), ("enableSoftDelete", True), ("softDeleteRetentionInDays", 90),
                           ("enableRbacAuthorization", False), ("publicNetworkAccess", "Enabled")):
            props.setdefault(key, value)
        return stored


class Registries(ResourceType):
    type_name = "Microsoft.ContainerRegistry/registries"
    lro_put = "async"
    patch_mode = "async"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        name = call.path.name
        if not REGISTRY_NAME.match(name):
            raise invalid(f"Registry name '{name}' is invalid: resource names may contain alpha numeric characters "
                          "only and must be between 5 and 50 characters.", "name")
        if existing is None and taken(self, name):
            raise ArmError(409, "AlreadyInUse", f"The registry DNS name {name.lower()}.azurecr.io is already in use.")
        if (body.get("sku") or {}).get("name") not in REGISTRY_SKUS:
            raise invalid(f"sku.name must be one of {', '.join(REGISTRY_SKUS)}.", "sku.name")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        props = stored["properties"]
        stored["sku"] = {"name": stored["sku"]["name"], "tier": stored["sku"]["name"]}
        props["loginServer"] = f"{call.path.name.lower()}.azurecr.io"
        props["creationDate"] = existing.properties.get("creationDate") if existing else utc_now_iso()
        for key, value in (("adminUserEnabled", False), ("publicNetworkAccess", "Enabled"),
                           ("dataEndpointEnabled", False), ("zoneRedundancy", "Disabled")):
            props.setdefault(key, value)
        return stored
