"""The VNet rules of a storage account's or Key Vault's firewall (`properties.networkAcls.virtualNetworkRules`), checked
on PUT and PATCH as the two services check them: each rule's subnet must have the service's endpoint
(`Microsoft.Storage` or `Microsoft.Storage.Global` for a storage account, `Microsoft.KeyVault` for a vault), or the
request is refused 400 with the services' codes and wording, as quoted in real answers:

- storage: `NetworkAclsValidationFailure` "Validation of network acls failure: SubnetsHaveNoServiceEndpointsConfigured:
  Subnets <subnet> of virtual network <vnet id> do not have ServiceEndpoints for Microsoft.Storage resources
  configured. Add Microsoft.Storage to subnet's ServiceEndpoints collection before trying to ACL Microsoft.Storage
  resources to these subnets.." (hashicorp/terraform-provider-azurerm#16547, Azure/azure-cli#32434);
- Key Vault: `SubnetsHaveNoServiceEndpointsConfigured` with the same sentence for Microsoft.KeyVault
  (hashicorp/terraform-provider-azurerm#11759, Azure/avdaccelerator#818).

A subnet the emulator does not have is refused the same way (it has no endpoints). PATCH replaces `networkAcls` as a
whole, as both services do (base.py merges `properties` one level deep).
"""

from __future__ import annotations

from typing import Any

from ..errors import ArmError
from ..world import World

STORAGE_SERVICES = ("Microsoft.Storage", "Microsoft.Storage.Global")
VAULT_SERVICES = ("Microsoft.KeyVault",)


def check_vnet_rules(world: World, body: dict[str, Any], services: tuple[str, ...], code: str | None) -> None:
    """Refuse `body`'s VNet rules whose subnets lack all of `services`; `code` None: Key Vault's bare code."""
    acls = (body.get("properties") or {}).get("networkAcls") or {}
    for rule in acls.get("virtualNetworkRules") or []:
        subnet_id = str((rule or {}).get("id", ""))
        subnet = world.store.get(subnet_id)
        have = {str(e.get("service")) for e in (subnet.properties.get("serviceEndpoints") or [])} if subnet else set()
        if have & set(services):
            continue
        vnet, _, name = subnet_id.rpartition("/subnets/")
        sentence = (f"Subnets {name} of virtual network {vnet} do not have ServiceEndpoints for {services[0]} "
                    f"resources configured. Add {services[0]} to subnet's ServiceEndpoints collection before trying "
                    f"to ACL {services[0]} resources to these subnets.")
        if code is None:
            raise ArmError(400, "SubnetsHaveNoServiceEndpointsConfigured", sentence)
        raise ArmError(400, code, f"Validation of network acls failure: SubnetsHaveNoServiceEndpointsConfigured:"
                                  f"{sentence}.")
