"""The security properties of infra/ that checkov cannot see or cannot evaluate, checked in the parsed Bicep.

checkov reads the resources declared in these files, but not what an expression evaluates to (a public access that
is 'Disabled' unless a development parameter is set), nor which resource a diagnostic setting or a role assignment
is attached to, nor what a custom role or a condition allows. Each check below reads the Bicep as checkov's own
parser (pycep) gives it and returns one `Property` per fact it checked; `infra/check.sh` runs this file after
checkov, adds the two counts, and fails when any property fails. tests/unit/test_infra.py runs every check too,
and shows that each one fails on a template that breaks its property.

Usage: python infra/security_checks.py   (with pycep importable: the venv checkov lives in, .venv-checkov)
Prints one line per failed property and `security properties: N checked, M failed`; exits 1 when M > 0.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INFRA = Path(__file__).resolve().parent
Templates = dict[str, dict[str, Any]]  # path relative to infra/ (e.g. "app/storage.bicep") -> parsed template


@dataclass(frozen=True)
class Property:
    """One security property of one resource: what was checked and whether it holds."""

    name: str
    ok: bool


def _check(name: str, ok: bool) -> Property:
    return Property(name, bool(ok))


# Built-in roles (docs/deploy.md, "Sources", has where each id was verified).
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
# Roles aksvend must never hold anywhere: Owner, Contributor, User Access Administrator, AKS Contributor, and
# Managed Identity Contributor (its federatedIdentityCredentials/write lets the holder trust an outside token issuer
# on any user-assigned identity of the scope, then sign in as that identity from anywhere).
FORBIDDEN_ROLES = {
    "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59": "Managed Identity Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8": "Azure Kubernetes Service Contributor Role",
}
TARGET_ROLES = {NETWORK_CONTRIBUTOR, PRIVATE_DNS_ZONE_CONTRIBUTOR, MANAGED_IDENTITY_OPERATOR}
# Exactly the ARM actions aksvend calls on clusters (shared/domain/arm, shared/services) and its resource groups.
CLUSTER_ACTIONS = {
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Resources/subscriptions/resourceGroups/write",
    "Microsoft.ContainerService/managedClusters/read",
    "Microsoft.ContainerService/managedClusters/write",
    "Microsoft.ContainerService/managedClusters/delete",
    "Microsoft.ContainerService/managedClusters/agentPools/read",
    "Microsoft.ContainerService/managedClusters/agentPools/write",
    "Microsoft.ContainerService/managedClusters/agentPools/delete",
    "Microsoft.ContainerService/managedClusters/upgradeProfiles/read",
    "Microsoft.ContainerService/managedClusters/maintenanceConfigurations/read",
    "Microsoft.ContainerService/managedClusters/maintenanceConfigurations/write",
    "Microsoft.ContainerService/managedClusters/maintenanceConfigurations/delete",
    "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
    "Microsoft.ContainerService/locations/operations/read",
    "Microsoft.ContainerService/locations/operationresults/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
}
NEVER_ACTIONS = {
    "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
    "Microsoft.ContainerService/managedClusters/runCommand/action",
    "Microsoft.ContainerService/managedClusters/abort/action",
    "Microsoft.ContainerService/managedClusters/agentPools/abort/action",
    "Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
}

# Resource types with resource logs, and the categories each must send to Log Analytics.
LOG_CATEGORIES = {
    "Microsoft.KeyVault/vaults": {"AuditEvent"},
    "Microsoft.Storage/storageAccounts/blobServices": {"StorageRead", "StorageWrite", "StorageDelete"},
    "Microsoft.Storage/storageAccounts/queueServices": {"StorageRead", "StorageWrite", "StorageDelete"},
    "Microsoft.Storage/storageAccounts/tableServices": {"StorageRead", "StorageWrite", "StorageDelete"},
    "Microsoft.EventGrid/topics": {"DeliveryFailures", "PublishFailures"},
    "Microsoft.EventGrid/systemTopics": {"DeliveryFailures"},
    "Microsoft.Web/sites": {"FunctionAppLogs"},
    "Microsoft.Network/networkSecurityGroups": {"NetworkSecurityGroupEvent", "NetworkSecurityGroupRuleCounter"},
    "Microsoft.Network/virtualNetworks": {"VMProtectionAlerts"},
    "Microsoft.OperationalInsights/workspaces": {"Audit"},
}
# Types declared here that have no resource log of their own (docs/deploy.md, "Audit"), with the reason.
NO_LOGS = {
    "Microsoft.Storage/storageAccounts": "metrics only; its logs are the blob, queue and table services'",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "logged by the blob service",
    "Microsoft.Storage/storageAccounts/queueServices/queues": "logged by the queue service",
    "Microsoft.Storage/storageAccounts/tableServices/tables": "logged by the table service",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "no resource logs (sign-ins are in Entra ID)",
    "Microsoft.Network/privateDnsZones": "no resource logs",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "no resource logs",
    "Microsoft.Network/privateEndpoints": "no resource logs",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "no resource logs",
    "Microsoft.Web/serverfarms": "the app's logs are collected on the site (FunctionAppLogs)",
    "Microsoft.Web/sites/config": "part of the site",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "part of the site",
    "Microsoft.Insights/components": "workspace-based: its telemetry is stored in the Log Analytics workspace",
    "Microsoft.Insights/diagnosticSettings": "is the logging",
    "Microsoft.Authorization/roleAssignments": "in the Azure activity log",
    "Microsoft.Authorization/roleDefinitions": "in the Azure activity log",
    "Microsoft.Resources/resourceGroups": "in the Azure activity log",
    "Microsoft.EventGrid/systemTopics/eventSubscriptions": "logged by its system topic (DeliveryFailures)",
}


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's own object, under any `if (...)` and `for ... in` wrappers."""
    config = resource.get("config", {})
    while isinstance(config, dict) and "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config if isinstance(config, dict) else {}


def condition(resource: dict[str, Any]) -> Any:
    config = resource.get("config", {})
    return config.get("condition") if isinstance(config, dict) else None


def declared(templates: Templates) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file, symbolic name, resource) of every resource a file creates (not `existing` references)."""
    for path, template in sorted(templates.items()):
        for name, resource in template.get("resources", {}).items():
            if not resource.get("existing"):
                yield path, name, resource


def of_type(templates: Templates, resource_type: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    return ((p, n, r) for p, n, r in declared(templates) if r.get("type") == resource_type)


def resolve(template: dict[str, Any], value: Any) -> Any:
    """A variable's value for a bare identifier (pycep gives a reference as the name itself), else the value."""
    variables = template.get("variables", {})
    while isinstance(value, str) and value in variables:
        value = variables[value]["value"]
    return value


def interpolate(template: dict[str, Any], text: str) -> str:
    """A string with its ${variable} parts replaced by the variables' string values (and \\' unescaped)."""
    def one(match: re.Match[str]) -> str:
        value = resolve(template, match.group(1))
        return interpolate(template, value) if isinstance(value, str) else match.group(0)
    return re.sub(r"\$\{(\w+)\}", one, text).replace("\\'", "'")


def default_off(template: dict[str, Any], value: Any) -> bool:
    """True when `value` is 'Disabled', or 'Disabled' unless the development parameter devAllowedIpRanges (default
    empty) is set: publicNetworkAccess = !empty(devAllowedIpRanges) ? 'Enabled' : 'Disabled'."""
    value = resolve(template, value)
    if value == "Disabled":
        return True
    operator = value.get("operator", {}) if isinstance(value, dict) else {}
    operands = operator.get("operands", {})
    if operator.get("type") != "conditional" or operands.get("false_value") != "Disabled":
        return False
    test = resolve(template, operands.get("condition"))
    expected = {"operator": {"type": "not", "operands": {"bool_value": {"function": {
        "type": "empty", "parameters": {"item_to_test": "devAllowedIpRanges"}}}}}}
    param = template.get("parameters", {}).get("devAllowedIpRanges", {})
    return test == expected and param.get("default") == []


def role_ids(template: dict[str, Any], properties: dict[str, Any]) -> str:
    """The role id of a roleAssignment's roleDefinitionId (subscriptionResourceId(..., id) or a literal)."""
    role = properties.get("roleDefinitionId")
    if isinstance(role, dict) and "function" in role:
        role = role["function"]["parameters"].get("resource_name_1")
    return str(resolve(template, role))


CheckFunction = Callable[[Templates], list[Property]]
CHECKS: dict[str, CheckFunction] = {}


def check(function: CheckFunction) -> CheckFunction:
    CHECKS[function.__name__] = function
    return function


def load(paths: list[Path] | None = None) -> Templates:
    """Every Bicep file under infra/, parsed with pycep (checkov's parser); raises on a file that does not parse."""
    from pycep import BicepParser  # type: ignore[import-not-found]  # only in .venv-checkov

    parser = BicepParser()
    files = paths or sorted(INFRA.rglob("*.bicep"))
    return {str(p.relative_to(INFRA)): json.loads(json.dumps(parser.parse(file_path=p), default=str)) for p in files}


def run(templates: Templates) -> list[Property]:
    return [prop for function in CHECKS.values() for prop in function(templates)]




# ---- the checks ------------------------------------------------------------------------------------------------


@check
def storage_accounts(templates: Templates) -> list[Property]:
    """Entra ID only, HTTPS and TLS 1.2 only, no anonymous blobs, no public network access by default."""
    out = []
    for path, name, resource in of_type(templates, "Microsoft.Storage/storageAccounts"):
        props, where = body(resource).get("properties", {}), f"{path}:{name}"
        out += [
            _check(f"{where}: allowSharedKeyAccess is false", props.get("allowSharedKeyAccess") is False),
            _check(f"{where}: allowBlobPublicAccess is false", props.get("allowBlobPublicAccess") is False),
            _check(f"{where}: defaultToOAuthAuthentication is true", props.get("defaultToOAuthAuthentication") is True),
            _check(f"{where}: minimumTlsVersion is TLS1_2", props.get("minimumTlsVersion") == "TLS1_2"),
            _check(f"{where}: supportsHttpsTrafficOnly is true", props.get("supportsHttpsTrafficOnly") is True),
            _check(f"{where}: networkAcls.defaultAction is Deny",
                   (props.get("networkAcls") or {}).get("defaultAction") == "Deny"),
            _check(f"{where}: publicNetworkAccess is Disabled by default",
                   default_off(templates[path], props.get("publicNetworkAccess"))),
        ]
    return out


@check
def key_vaults(templates: Templates) -> list[Property]:
    """RBAC only, purge protection, firewall denies, no public network access by default."""
    out = []
    for path, name, resource in of_type(templates, "Microsoft.KeyVault/vaults"):
        props, where = body(resource).get("properties", {}), f"{path}:{name}"
        acls = props.get("networkAcls") or {}
        out += [
            _check(f"{where}: enableRbacAuthorization is true", props.get("enableRbacAuthorization") is True),
            _check(f"{where}: enablePurgeProtection is true", props.get("enablePurgeProtection") is True),
            _check(f"{where}: networkAcls.defaultAction is Deny", acls.get("defaultAction") == "Deny"),
            _check(f"{where}: networkAcls.bypass is None", acls.get("bypass") == "None"),
            _check(f"{where}: publicNetworkAccess is Disabled by default",
                   default_off(templates[path], props.get("publicNetworkAccess"))),
        ]
    return out


@check
def event_grid_topics(templates: Templates) -> list[Property]:
    """Entra ID only (no keys), TLS 1.2, no public network access by default."""
    out = []
    for path, name, resource in of_type(templates, "Microsoft.EventGrid/topics"):
        props, where = body(resource).get("properties", {}), f"{path}:{name}"
        out += [
            _check(f"{where}: disableLocalAuth is true", props.get("disableLocalAuth") is True),
            _check(f"{where}: minimumTlsVersionAllowed is 1.2", props.get("minimumTlsVersionAllowed") == "1.2"),
            _check(f"{where}: publicNetworkAccess is Disabled by default",
                   default_off(templates[path], props.get("publicNetworkAccess"))),
        ]
    return out


@check
def function_apps(templates: Templates) -> list[Property]:
    """HTTPS only, TLS 1.2, FTP and basic publishing off, VNet-integrated, user-assigned identity only, Easy Auth."""
    out = []
    for path, name, resource in of_type(templates, "Microsoft.Web/sites"):
        template, config, where = templates[path], body(resource), f"{path}:{name}"
        props = config.get("properties", {})
        site = props.get("siteConfig", {})
        children = {body(r).get("name"): body(r) for _, _, r in declared({path: template})
                    if body(r).get("parent") == name}
        auth = resolve(template, children.get("authsettingsV2", {}).get("properties")) or {}
        validation = auth.get("globalValidation", {})
        out += [
            _check(f"{where}: httpsOnly is true", props.get("httpsOnly") is True),
            _check(f"{where}: siteConfig.minTlsVersion is 1.2", site.get("minTlsVersion") == "1.2"),
            _check(f"{where}: siteConfig.scmMinTlsVersion is 1.2", site.get("scmMinTlsVersion") == "1.2"),
            _check(f"{where}: siteConfig.ftpsState is Disabled", site.get("ftpsState") == "Disabled"),
            _check(f"{where}: siteConfig.remoteDebuggingEnabled is false", site.get("remoteDebuggingEnabled") is False),
            _check(f"{where}: virtualNetworkSubnetId is set (VNet integration)",
                   bool(props.get("virtualNetworkSubnetId"))),
            _check(f"{where}: identity is user-assigned only",
                   config.get("identity", {}).get("type") == "UserAssigned"),
            _check(f"{where}: FTP basic publishing credentials are off",
                   children.get("ftp", {}).get("properties", {}).get("allow") is False),
            _check(f"{where}: SCM basic publishing credentials are off",
                   children.get("scm", {}).get("properties", {}).get("allow") is False),
            _check(f"{where}: App Service authentication is on",
                   auth.get("platform", {}).get("enabled") is True and validation.get("requireAuthentication") is True),
            _check(f"{where}: unauthenticated requests get 401",
                   validation.get("unauthenticatedClientAction") == "Return401"),
        ]
    return out


def _endpoint_groups(template: dict[str, Any]) -> set[str]:
    """The private link groups a file's private-endpoint.bicep modules create endpoints for."""
    groups: set[str] = set()
    for module in template.get("modules", {}).values():
        if module.get("detail", {}).get("path") != "private-endpoint.bicep":
            continue
        group = body(module).get("params", {}).get("groupId")
        loop = module.get("config", {}).get("loop_type", {}).get("detail", {})
        if loop and group == loop.get("item_name"):
            groups |= set(resolve(template, loop.get("array_name")) or [])
        elif isinstance(group, str):
            groups.add(group)
    return groups


@check
def private_endpoints(templates: Templates) -> list[Property]:
    """Storage (blob, queue, table), every vault and every topic have a private endpoint in the same file."""
    wanted = {"Microsoft.Storage/storageAccounts": {"blob", "queue", "table"}, "Microsoft.KeyVault/vaults": {"vault"},
              "Microsoft.EventGrid/topics": {"topic"}}
    out = []
    for path, name, resource in declared(templates):
        groups = wanted.get(resource.get("type", ""))
        if groups:
            have = _endpoint_groups(templates[path])
            out += [_check(f"{path}:{name}: private endpoint for {g}", g in have) for g in sorted(groups)]
    return out


def _diagnostic_categories(template: dict[str, Any], setting: dict[str, Any]) -> set[str]:
    logs = resolve(template, setting.get("properties", {}).get("logs")) or []
    return {str(entry.get("category")) for entry in logs if isinstance(entry, dict) and entry.get("enabled") is True}


@check
def diagnostics(templates: Templates) -> list[Property]:
    """Every resource with resource logs sends the audit-relevant categories to the Log Analytics workspace; every
    other type declared here is a known type without logs (a new type fails until it is classified)."""
    out = []
    for path, name, resource in declared(templates):
        kind, template = resource.get("type", ""), templates[path]
        if kind in NO_LOGS:
            continue
        wanted = LOG_CATEGORIES.get(kind)
        if wanted is None:
            out.append(_check(f"{path}:{name}: {kind} is classified (LOG_CATEGORIES or NO_LOGS)", False))
            continue
        settings = [body(r) for _, _, r in of_type({path: template}, "Microsoft.Insights/diagnosticSettings")
                    if body(r).get("scope") == name]
        to_workspace = [s for s in settings if s.get("properties", {}).get("workspaceId")]
        got = set().union(*(_diagnostic_categories(template, s) for s in to_workspace)) if to_workspace else set()
        out.append(_check(f"{path}:{name}: diagnostic setting to Log Analytics", bool(to_workspace)))
        out += [_check(f"{path}:{name}: logs {category}", category in got) for category in sorted(wanted)]
    return out


@check
def log_retention(templates: Templates) -> list[Property]:
    """Log Analytics keeps the logs for a parameter's days, 90 by default."""
    main = templates.get("main.bicep", {})
    param = main.get("parameters", {}).get("logRetentionDays", {})
    out = [_check("main.bicep: logRetentionDays defaults to 90", param.get("default") == 90)]
    for path, name, resource in of_type(templates, "Microsoft.OperationalInsights/workspaces"):
        retention = body(resource).get("properties", {}).get("retentionInDays")
        default = templates[path].get("parameters", {}).get(str(retention), {}).get("default")
        out.append(_check(f"{path}:{name}: retentionInDays is a parameter (default 90)", default == 90))
    return out


def _assignments(templates: Templates) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    for path, name, resource in of_type(templates, "Microsoft.Authorization/roleAssignments"):
        yield path, name, resource, body(resource).get("properties", {})


@check
def no_data_plane_role_for_the_deployer(templates: Templates) -> list[Property]:
    """azd's AZURE_PRINCIPAL_ID (whoever deploys) reaches no parameter; a user gets a role only through the
    development-only devDataPrincipalId (default empty), and only when it is set."""
    main = templates.get("main.bicep", {})
    mapping = (INFRA / "main.parameters.json").read_text()
    out = [
        _check("main.parameters.json: AZURE_PRINCIPAL_ID is passed to no parameter",
               "AZURE_PRINCIPAL_ID" not in mapping),
        _check("main.bicep: devDataPrincipalId defaults to empty",
               main.get("parameters", {}).get("devDataPrincipalId", {}).get("default") == ""),
        _check("main.bicep: no principalId parameter", "principalId" not in main.get("parameters", {})),
    ]
    for path, name, resource, props in _assignments(templates):
        if props.get("principalType") == "User":
            guarded = condition(resource) == {"operator": {"type": "not", "operands": {"bool_value": {"function": {
                "type": "empty", "parameters": {"item_to_test": props.get("principalId")}}}}}}
            out.append(_check(f"{path}:{name}: a user's role only for devDataPrincipalId, only when set",
                              props.get("principalId") == "devDataPrincipalId" and guarded))
    return out


@check
def role_scopes(templates: Templates) -> list[Property]:
    """In aksvend's resource group each role is on its one resource; no forbidden role anywhere; the vaults get
    Secrets User (webhooks) and Secrets Officer (generated) on their own vault only; the targets get exactly the
    planned built-in roles, the custom cluster role and the constrained RBAC Administrator."""
    out = []
    text = "\n".join((INFRA / path).read_text() for path in templates)
    for role, label in FORBIDDEN_ROLES.items():
        out.append(_check(f"infra/: {label} is assigned nowhere", role not in text))
    for path, name, resource, props in _assignments(templates):
        if path == "app/rbac.bicep":
            out.append(_check(f"{path}:{name}: scoped to one resource", bool(body(resource).get("scope"))))
        else:
            out.append(_check(f"{path}:{name}: assigned to the app's identity as a service principal",
                              props.get("principalId") == "principalId"
                              and props.get("principalType") == "ServicePrincipal"))
    rbac = templates.get("app/rbac.bicep", {})
    by_scope = {(body(r).get("scope"), role_ids(rbac, props))
                for _, _, r, props in _assignments({"app/rbac.bicep": rbac})}
    out += [
        _check("app/rbac.bicep: webhook vault: Secrets User only",
               {r for s, r in by_scope if s == "webhookVault"} == {KEY_VAULT_SECRETS_USER}),
        _check("app/rbac.bicep: generated vault: Secrets Officer only",
               {r for s, r in by_scope if s == "generatedVault"} == {KEY_VAULT_SECRETS_OFFICER}),
    ]
    targets = templates.get("app/targets.bicep", {})
    roles = {str(resolve(targets, role.get("id"))) for role in resolve(targets, "roles") or []}
    out.append(_check("app/targets.bicep: target roles are exactly Network Contributor, Private DNS Zone "
                      "Contributor and Managed Identity Operator", roles == TARGET_ROLES))
    return out


PRINCIPAL_TYPE = ("@Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
                  "ForAnyOfAnyValues:StringEqualsIgnoreCase")


def _allowed_assignments(source: str) -> str:
    """The assignments the condition allows, read from the request (write) or the existing assignment (delete)."""
    attribute = f"@{source}[Microsoft.Authorization/roleAssignments:"
    pairs = ((NETWORK_CONTRIBUTOR, "ServicePrincipal"), (AKS_RBAC_CLUSTER_ADMIN, "Group"))
    return " OR ".join(f"({attribute}RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{role}}} AND "
                       f"{attribute}PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'{kind}'}})"
                       for role, kind in pairs)


# The whole condition: every other roleAssignments action is unconstrained (the role has only write and delete),
# write allows the two pairs of the request, delete the same two pairs of the assignment being deleted.
EXPECTED_CONDITION = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (" + _allowed_assignments("Request")
    + ")) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR ("
    + _allowed_assignments("Resource") + "))")


def _matches(action: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


@check
def custom_cluster_role(templates: Templates) -> list[Property]:
    """The custom role has exactly the actions aksvend calls, no wildcard, and none of the never-actions."""
    targets = templates.get("app/targets.bicep", {})
    actions = set(resolve(targets, "clusterRoleActions") or [])
    not_actions = set(resolve(targets, "clusterRoleNotActions") or [])
    out = [
        _check("app/targets.bicep: cluster role actions are exactly those aksvend calls", actions == CLUSTER_ACTIONS),
        _check("app/targets.bicep: cluster role actions have no wildcard", not any("*" in a for a in actions)),
        _check("app/targets.bicep: no cluster role action is also a notAction",
               not any(_matches(a, n) or _matches(n, a) for a in actions for n in not_actions)),
    ]
    out += [_check(f"app/targets.bicep: notActions name {never.rsplit('/', 2)[-2]}/{never.rsplit('/', 1)[-1]}",
                   never in not_actions and not any(_matches(never, a) for a in actions))
            for never in sorted(NEVER_ACTIONS)]
    # the deployment's own scope: subscription().id, or resourceGroup().id (no arguments: not another one's)
    own_scope = {"app/targets.bicep": {"function": {"type": "subscription", "parameters": {"subscription_id": None},
                                                    "property_name": "id"}},
                 "app/targets-rg.bicep": {"function": {"type": "resource_group", "parameters": {
                     "resource_group_name": None, "subscription_id": None}, "property_name": "id"}}}
    for path in ("app/targets.bicep", "app/targets-rg.bicep"):
        for _, name, resource in of_type({path: templates.get(path, {})}, "Microsoft.Authorization/roleDefinitions"):
            perms = body(resource).get("properties", {}).get("permissions", [{}])[0]
            scopes = body(resource).get("properties", {}).get("assignableScopes", [])
            out.append(_check(f"{path}:{name}: uses the checked actions and notActions",
                              perms.get("actions") == "clusterRoleActions"
                              and perms.get("notActions") == "clusterRoleNotActions"))
            out.append(_check(f"{path}:{name}: assignable only at its own target scope", scopes == [own_scope[path]]))
    return out


@check
def endpoint_subnet_inbound(templates: Templates) -> list[Property]:
    """The private endpoints' subnet admits the app's subnet only (HTTPS), and denies everything else: no other
    network, peered or not, reaches storage, the vaults or the topic privately (docs/deploy.md, "Operator access")."""
    path = "app/network.bicep"
    out = []
    for _, name, resource in of_type({path: templates.get(path, {})}, "Microsoft.Network/networkSecurityGroups"):
        rules = [r.get("properties", {}) for r in body(resource).get("properties", {}).get("securityRules", [])]
        allows = [r for r in rules if r.get("direction") == "Inbound" and r.get("access") == "Allow"]
        to_endpoints = any(r.get("destinationAddressPrefix") == "endpointSubnetPrefix" for r in allows)
        if name != "endpointNsg" and not to_endpoints:
            continue
        out += [
            _check(f"{path}:{name}: inbound allowed only from the app subnet, on 443",
                   bool(allows) and all(r.get("sourceAddressPrefix") == "appSubnetPrefix"
                                        and r.get("destinationPortRange") == "443" and r.get("protocol") == "Tcp"
                                        and not r.get("sourceAddressPrefixes") for r in allows)),
            _check(f"{path}:{name}: denies all other inbound",
                   any(r.get("direction") == "Inbound" and r.get("access") == "Deny"
                       and r.get("sourceAddressPrefix") == "*" and r.get("destinationPortRange") == "*"
                       for r in rules)),
        ]
    out.append(_check(f"{path}: the private endpoints' subnet has a network security group", bool(out)))
    return out


QUOTA_READER_ACTIONS = ["Microsoft.Compute/locations/usages/read"]


@check
def quota_reader_role(templates: Templates) -> list[Property]:
    """The quota pre-check's subscription-level read: a custom role with that one action, assignable and assigned at
    the subscription only, deployed for every target subscription (main.bicep's targetSubscriptionIds)."""
    path = "app/quota-reader.bicep"
    template = templates.get(path, {})
    subscription_id = {"function": {"type": "subscription", "parameters": {"subscription_id": None},
                                    "property_name": "id"}}
    out = [_check(f"{path}: the quota reader role's actions are exactly usages/read",
                  resolve(template, "quotaReaderActions") == QUOTA_READER_ACTIONS)]
    definitions = list(of_type({path: template}, "Microsoft.Authorization/roleDefinitions"))
    out.append(_check(f"{path}: declares one role definition", len(definitions) == 1))
    for _, name, resource in definitions:
        props = body(resource).get("properties", {})
        perms = props.get("permissions", [{}])
        out.append(_check(f"{path}:{name}: one permission block with the checked actions and no notActions",
                          len(perms) == 1 and perms[0].get("actions") == "quotaReaderActions"
                          and not perms[0].get("notActions") and not perms[0].get("dataActions")))
        out.append(_check(f"{path}:{name}: assignable only at its subscription",
                          props.get("assignableScopes") == [subscription_id]))
    assignments = list(_assignments({path: template}))
    out.append(_check(f"{path}: one assignment, of the quota reader role, at the deployment's subscription",
                      len(assignments) == 1 and not body(assignments[0][2]).get("scope")
                      and str(assignments[0][3].get("roleDefinitionId")).count("quotaReaderRole") == 1))
    module = templates.get("main.bicep", {}).get("modules", {}).get("quotaReaders", {})
    loop = (module.get("config") or {}).get("loop_type") or {}
    out.append(_check("main.bicep: the quota reader is deployed on every target subscription, at its scope",
                      module.get("detail", {}).get("path") == "app/quota-reader.bicep"
                      and loop.get("detail", {}).get("array_name") == "targetSubscriptionIds"
                      and body(module).get("scope") == {"function": {"type": "subscription", "parameters": {
                          "subscription_id": loop.get("detail", {}).get("item_name")}}}))
    return out


@check
def rbac_administrator_condition(templates: Templates) -> list[Property]:
    """RBAC Administrator only with its condition: write and delete limited to Network Contributor for service
    principals and AKS RBAC Cluster Admin for groups."""
    targets = templates.get("app/targets.bicep", {})
    text = interpolate(targets, str(resolve(targets, "rbacAdministratorCondition")))
    guids = set(re.findall(r"GuidEquals \{([0-9a-f-]{36})\}", text))
    types = set(re.findall(r"StringEqualsIgnoreCase \{'(\w+)'\}", text))
    out = [
        _check("condition: constrains roleAssignments/write",
               "ActionMatches{'Microsoft.Authorization/roleAssignments/write'}" in text),
        _check("condition: constrains roleAssignments/delete",
               "ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}" in text),
        _check("condition: roles are only Network Contributor and AKS RBAC Cluster Admin",
               guids == {NETWORK_CONTRIBUTOR, AKS_RBAC_CLUSTER_ADMIN}),
        _check("condition: principal types are only ServicePrincipal and Group",
               types == {"ServicePrincipal", "Group"}),
        _check("condition: Network Contributor only for service principals",
               f"GuidEquals {{{NETWORK_CONTRIBUTOR}}} AND {PRINCIPAL_TYPE} {{'ServicePrincipal'}}" in text),
        _check("condition: AKS RBAC Cluster Admin only for groups",
               f"GuidEquals {{{AKS_RBAC_CLUSTER_ADMIN}}} AND {PRINCIPAL_TYPE} {{'Group'}}" in text),
        # the checks above find their parts anywhere; this one pins how they combine, delete's side included
        _check("condition: is exactly write and delete of those two pairs",
               " ".join(text.split()) == EXPECTED_CONDITION),
    ]
    for path in ("app/targets.bicep", "app/targets-rg.bicep"):
        template = templates.get(path, {})
        for _, name, _resource, props in _assignments({path: template}):
            if role_ids(template, props) == "rbacAdministratorRoleId":
                out.append(_check(f"{path}:{name}: has the condition, version 2.0",
                                  props.get("condition") == "rbacAdministratorCondition"
                                  and props.get("conditionVersion") == "2.0"))
    return out


@check
def authentication_required(templates: Templates) -> list[Property]:
    """authClientId has no default (a deployment without authentication fails)."""
    out = []
    for path in ("main.bicep", "app/api.bicep"):
        param = templates.get(path, {}).get("parameters", {}).get("authClientId", {})
        out.append(_check(f"{path}: authClientId is required", bool(param) and param.get("default") is None))
    return out


# checkov checks whose pass adds no property to the count: each repeats one that a check above counts, or
# passes on something that is no restriction. infra/check.sh prints them, and adds only checkov's other passes.
_REPEATS_OWN = "repeats a property security_checks.py counts"
CHECKOV_NOT_COUNTED = {
    "CKV_AZURE_3": f"storage supportsHttpsTrafficOnly: {_REPEATS_OWN}",
    "CKV_AZURE_35": f"storage networkAcls.defaultAction: {_REPEATS_OWN}",
    "CKV_AZURE_44": f"storage minimumTlsVersion: {_REPEATS_OWN}",
    "CKV_AZURE_59": f"storage public network access (passes on the expression): {_REPEATS_OWN}",
    "CKV_AZURE_36": "rewards the storage firewall's trusted-services bypass, an exception, not a restriction",
    "CKV_AZURE_43": "storage account naming rules, not a security property",
    "CKV_AZURE_182": "VNet DNS servers, not a security property here",
    "CKV_AZURE_183": "VNet DNS servers, not a security property here",
    "CKV_AZURE_14": f"site httpsOnly: {_REPEATS_OWN}",
    "CKV_AZURE_153": f"site httpsOnly: {_REPEATS_OWN}",
    "CKV_AZURE_70": f"site httpsOnly (also passed on the sites/config children): {_REPEATS_OWN}",
    "CKV_AZURE_15": f"site minTlsVersion: {_REPEATS_OWN}",
    "CKV_AZURE_145": f"site minTlsVersion: {_REPEATS_OWN}",
    "CKV_AZURE_72": f"site remoteDebuggingEnabled: {_REPEATS_OWN}",
    "CKV_AZURE_155": f"site remoteDebuggingEnabled: {_REPEATS_OWN}",
    "CKV_AZURE_78": f"site ftpsState: {_REPEATS_OWN}",
    "CKV_AZURE_16": f"site managed identity: {_REPEATS_OWN}",
    "CKV_AZURE_71": f"site managed identity: {_REPEATS_OWN}",
    "CKV_AZURE_56": f"App Service authentication (passed on the sites/config children): {_REPEATS_OWN}",
    "CKV_AZURE_18": "HTTP version: repeats CKV_AZURE_67",
    "CKV_AZURE_62": "CORS: repeats CKV_AZURE_57",
    "CKV_AZURE_109": f"Key Vault networkAcls.defaultAction: {_REPEATS_OWN}",
    "CKV_AZURE_110": f"Key Vault purge protection: {_REPEATS_OWN}",
    "CKV_AZURE_42": "Key Vault recoverable: repeats CKV_AZURE_111 and purge protection",
    "CKV_AZURE_192": f"topic disableLocalAuth: {_REPEATS_OWN}",
    "CKV_AZURE_191": "rewards the topic's system-assigned identity, which holds no role: not a restriction",
}


def checkov_passes(report: Any) -> tuple[list[str], list[str]]:
    """checkov's passed checks from its JSON report ("ID resource"), split into counted and not counted."""
    reports = report if isinstance(report, list) else [report]
    passed = [f"{c['check_id']} {c['resource']}"
              for r in reports for c in r.get("results", {}).get("passed_checks", [])]
    counted = [p for p in passed if p.split()[0] not in CHECKOV_NOT_COUNTED]
    return counted, [p for p in passed if p.split()[0] in CHECKOV_NOT_COUNTED]


def main(argv: list[str]) -> int:
    """`security_checks.py [checkov JSON report]`: with a report, also says which of checkov's passes count."""
    results = run(load())
    failed = [p for p in results if not p.ok]
    for prop in failed:
        print(f"FAILED: {prop.name}")
    if argv:
        counted, not_counted = checkov_passes(json.loads(Path(argv[0]).read_text()))
        for entry in not_counted:
            print(f"checkov pass not counted: {entry}: {CHECKOV_NOT_COUNTED[entry.split()[0]]}")
        print(f"checkov: {len(counted) + len(not_counted)} passed, {len(counted)} counted")
    print(f"security properties: {len(results)} checked, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

