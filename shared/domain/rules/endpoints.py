"""Service endpoints and private endpoints: known services, parseable targets, group ids that fit."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from shared.domain import armid
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.violations import ARM_NAMING, PRIVATE_ENDPOINTS, SERVICE_ENDPOINTS, Violation

SERVICE_ENDPOINTS_GA = frozenset({
    "Microsoft.Storage", "Microsoft.Storage.Global", "Microsoft.Sql", "Microsoft.AzureCosmosDB",
    "Microsoft.KeyVault", "Microsoft.ServiceBus", "Microsoft.EventHub", "Microsoft.Web",
})
SERVICE_ENDPOINTS_PREVIEW = frozenset({"Microsoft.ContainerRegistry"})

# groupId -> (target resource type, private DNS zone). One zone per service, never shared across two.
PRIVATE_LINK_GROUPS: Mapping[str, tuple[str, str]] = {
    "blob": ("Microsoft.Storage/storageAccounts", "privatelink.blob.core.windows.net"),
    "file": ("Microsoft.Storage/storageAccounts", "privatelink.file.core.windows.net"),
    "queue": ("Microsoft.Storage/storageAccounts", "privatelink.queue.core.windows.net"),
    "table": ("Microsoft.Storage/storageAccounts", "privatelink.table.core.windows.net"),
    "dfs": ("Microsoft.Storage/storageAccounts", "privatelink.dfs.core.windows.net"),
    "vault": ("Microsoft.KeyVault/vaults", "privatelink.vaultcore.azure.net"),
    "sqlServer": ("Microsoft.Sql/servers", "privatelink.database.windows.net"),
    "registry": ("Microsoft.ContainerRegistry/registries", "privatelink.azurecr.io"),
}
# A service endpoint target's type (lower-cased) -> the service endpoints a subnet needs for its VNet rule: Azure
# refuses a rule naming a subnet without one (400 SubnetsHaveNoServiceEndpointsConfigured, docs/request.md).
VNET_RULE_SERVICES: Mapping[str, tuple[str, ...]] = {
    "microsoft.storage/storageaccounts": ("Microsoft.Storage", "Microsoft.Storage.Global"),
    "microsoft.keyvault/vaults": ("Microsoft.KeyVault",),
}
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9_.]{0,50}[a-zA-Z0-9_])?\Z")
# A service endpoint target's name by its type's naming rule (learn.microsoft.com/azure/azure-resource-manager/
# management/resource-name-rules): a storage account is 3-24 lowercase letters and digits; a Key Vault 3-24
# letters, digits and hyphens, starting with a letter, ending with a letter or digit, with no two hyphens in a row.
# Such a name is one ARM can hold, so the step that edits the target's rules can be keyed, logged and shown.
TARGET_NAMES: Mapping[str, tuple[re.Pattern[str], str]] = {
    "microsoft.storage/storageaccounts": (re.compile(r"^[a-z0-9]{3,24}\Z"),
                                          "a storage account name is 3-24 lowercase letters and digits"),
    "microsoft.keyvault/vaults": (re.compile(r"^(?!.*--)[a-zA-Z][-a-zA-Z0-9]{1,22}[a-zA-Z0-9]\Z"),
                                  "a Key Vault name is 3-24 letters, digits and hyphens, starting with a letter, "
                                  "ending with a letter or digit, without '--'"),
}


def service_endpoints(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    seen: set[str] = set()
    for i, name in enumerate(r.network.service_endpoints):
        if name in SERVICE_ENDPOINTS_GA and name not in seen:
            seen.add(name)
            continue  # the common case, with no pointer to build (planning is hot: bench/bench_plan.py)
        at = f"/network/serviceEndpoints/{i}"
        if name in SERVICE_ENDPOINTS_PREVIEW:
            yield Violation("SERVICE_ENDPOINT_PREVIEW", at, f"{name} service endpoints are in preview",
                            severity="warning", source=SERVICE_ENDPOINTS)
        elif name not in SERVICE_ENDPOINTS_GA:
            yield Violation("SERVICE_ENDPOINT_UNKNOWN", at, f"'{name}' is not a service endpoint; use one of "
                            f"{', '.join(sorted(SERVICE_ENDPOINTS_GA))}", source=SERVICE_ENDPOINTS)
        if name in seen:
            yield Violation("SERVICE_ENDPOINT_DUPLICATE", at, f"{name} is listed twice", source=SERVICE_ENDPOINTS)
        seen.add(name)


def private_endpoints(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    seen: set[str] = set()
    for i, pe in enumerate(r.network.private_endpoints):
        at = f"/network/privateEndpoints/{i}"
        if not ENDPOINT_NAME.fullmatch(pe.name):
            yield Violation("PRIVATE_ENDPOINT_NAME_FORMAT", f"{at}/name", "a private endpoint name is 1-52 letters, "
                            "digits, '-', '_' or '.', starting with a letter or digit", source=ARM_NAMING)
        if pe.name.lower() in seen:
            yield Violation("PRIVATE_ENDPOINT_NAME_DUPLICATE", f"{at}/name", f"private endpoint '{pe.name}' is "
                            "defined twice", source=ARM_NAMING)
        seen.add(pe.name.lower())
        target = armid.parse(pe.target_resource_id)
        if target is None or not target.names or target.resource_group is None:
            yield Violation("ARM_ID_FORMAT", f"{at}/targetResourceId", "targetResourceId must be a full ARM id: "
                            "/subscriptions/{id}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}",
                            source=ARM_NAMING)
            continue
        group = PRIVATE_LINK_GROUPS.get(pe.group_id)
        if group is None:
            yield Violation("PRIVATE_ENDPOINT_GROUP_UNKNOWN", f"{at}/groupId", f"'{pe.group_id}' is not a supported "
                            f"group id; use one of {', '.join(PRIVATE_LINK_GROUPS)}", source=PRIVATE_ENDPOINTS)
        elif group[0].lower() != target.resource_type.lower():
            yield Violation("PRIVATE_ENDPOINT_GROUP_MISMATCH", f"{at}/groupId", f"group id '{pe.group_id}' belongs "
                            f"to {group[0]}, but the target is a {target.resource_type or 'subscription or group'}",
                            source=PRIVATE_ENDPOINTS)


def service_endpoint_targets(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    """Each target is a storage account or Key Vault, named once, whose service endpoint the subnets have."""
    seen: set[str] = set()
    for i, target in enumerate(r.network.service_endpoint_targets):
        at = f"/network/serviceEndpointTargets/{i}/targetResourceId"
        parsed = armid.parse(target.target_resource_id)
        if parsed is None or not parsed.names or parsed.resource_group is None:
            yield Violation("ARM_ID_FORMAT", at, "targetResourceId must be a full ARM id: /subscriptions/{id}/"
                            "resourceGroups/{rg}/providers/{namespace}/{type}/{name}", source=ARM_NAMING)
            continue
        services = VNET_RULE_SERVICES.get(parsed.resource_type.lower())
        if services is None:
            yield Violation("SERVICE_ENDPOINT_TARGET_TYPE", at, f"a service endpoint target is a storage account or "
                            f"a Key Vault (their networkAcls take VNet rules), not a {parsed.resource_type or 'group'}",
                            source=SERVICE_ENDPOINTS)
        elif not (rule := TARGET_NAMES[parsed.resource_type.lower()])[0].fullmatch(parsed.names[-1]):
            yield Violation("SERVICE_ENDPOINT_TARGET_NAME", at, rule[1], source=ARM_NAMING)
        elif not set(services) & set(r.network.service_endpoints):
            yield Violation("SERVICE_ENDPOINT_TARGET_NO_ENDPOINT", at, f"a VNet rule on a {parsed.resource_type} "
                            f"needs the {services[0]} service endpoint on the cluster's subnets: add it to "
                            "network.serviceEndpoints", source=SERVICE_ENDPOINTS)
        if target.target_resource_id.lower() in seen:
            yield Violation("SERVICE_ENDPOINT_TARGET_DUPLICATE", at, "this target is listed twice",
                            source=SERVICE_ENDPOINTS)
        seen.add(target.target_resource_id.lower())


RULES = (service_endpoints, private_endpoints, service_endpoint_targets)
