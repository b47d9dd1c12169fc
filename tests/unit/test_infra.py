"""infra/ is checked like code: every Bicep file parses, and the function app sets every setting the code reads.

The Bicep is parsed with checkov's own parser (pycep), so what these tests read is what checkov checks. pycep ships
with checkov, which lives in its own venv (.venv-checkov, created by `make lint`) because its dependency tree
clashes with the app's pins; when pycep is not importable here, the files are parsed by that venv's Python in a
subprocess that prints JSON. Nothing is skipped: without pycep the tests fail and say how to get it.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.config import SETTINGS
from shared.config.names import EVENTS_SECRET_SETTING, LOCAL_SETTING

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CHECKOV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
APP_SETTINGS_FILE = INFRA / "app" / "api.bicep"

_PARSE_SCRIPT = """
import json, sys
from pathlib import Path
from pycep import BicepParser
parser = BicepParser()
parsed = {}
for name in sys.argv[1:]:
    try:
        parsed[name] = {"template": parser.parse(file_path=Path(name))}
    except Exception as exc:
        parsed[name] = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps(parsed, default=str))
"""


def _parse_in_process(paths: list[Path]) -> dict[str, dict[str, Any]]:
    from pycep import BicepParser  # checkov's parser; only in .venv-checkov unless installed here too

    parser = BicepParser()
    parsed: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            parsed[str(path)] = {"template": json.loads(json.dumps(parser.parse(file_path=path), default=str))}
        except Exception as exc:
            parsed[str(path)] = {"error": f"{type(exc).__name__}: {exc}"}
    return parsed


def _parse_in_checkov_venv(paths: list[Path]) -> dict[str, dict[str, Any]]:
    if not CHECKOV_PYTHON.exists():
        pytest.fail(
            f"pycep (checkov's Bicep parser) is not importable here and {CHECKOV_PYTHON.relative_to(ROOT)} is missing; "
            "run `make lint` (or `make unit`), which creates .venv-checkov from requirements-checkov.txt",
            pytrace=False,
        )
    result = subprocess.run(
        [str(CHECKOV_PYTHON), "-c", _PARSE_SCRIPT, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"parsing Bicep with {CHECKOV_PYTHON} failed:\n{result.stderr[-2000:]}", pytrace=False)
    return json.loads(result.stdout)


@functools.cache
def _parsed() -> dict[str, dict[str, Any]]:
    try:
        import pycep  # noqa: F401
    except ImportError:
        return _parse_in_checkov_venv(BICEP_FILES)
    return _parse_in_process(BICEP_FILES)


def _template(path: Path) -> dict[str, Any]:
    entry = _parsed()[str(path)]
    assert "error" not in entry, f"{path.relative_to(ROOT)} does not parse: {entry.get('error', '')[:1500]}"
    return entry["template"]


def _site_config(template: dict[str, Any], name: str) -> dict[str, Any]:
    """The Microsoft.Web/sites/config child resource called `name` (appsettings, authsettingsV2)."""
    found = [r for r in template["resources"].values()
             if r["type"] == "Microsoft.Web/sites/config" and r["config"].get("name") == name]
    assert len(found) == 1, f"one {name} config in {APP_SETTINGS_FILE.relative_to(ROOT)}, found {len(found)}"
    return found[0]


def _app_setting_names() -> set[str]:
    """Names in the function app's `appsettings` config: the keys of the variables it unions."""
    template = _template(APP_SETTINGS_FILE)
    variables = template.get("variables", {})
    properties = _site_config(template, "appsettings")["config"]["properties"]
    if isinstance(properties, dict) and "function" in properties:
        assert properties["function"]["type"] == "union", "appsettings: expected union(var, var, ...)"
        parts = [variables[name]["value"] for name in properties["function"]["parameters"].values()]
    elif isinstance(properties, str):
        parts = [variables[properties]["value"]]
    else:
        parts = [properties]
    names: set[str] = set()
    for part in parts:
        assert isinstance(part, dict), f"appsettings part is not an object literal: {part!r}"
        names.update(part)
    return names


def _is_set(name: str, app_settings: set[str]) -> bool:
    # Identity-based connections are spelled NAME__accountName, NAME__credential, ... (the Functions convention),
    # so a connection the code reads as NAME is set when any NAME__* setting is.
    return name in app_settings or any(setting.startswith(f"{name}__") for setting in app_settings)


def test_there_is_bicep_to_check():
    assert INFRA / "main.bicep" in BICEP_FILES
    assert APP_SETTINGS_FILE in BICEP_FILES


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_bicep_file_parses(path: Path):
    assert _template(path)


# Settings infra/ must not set. Local mode assumes a caller and, without a caller policy, lets everyone do
# everything: only the local host turns it on (the app refuses it in Azure too, by WEBSITE_INSTANCE_ID).
NOT_IN_AZURE = {LOCAL_SETTING, EVENTS_SECRET_SETTING}  # the events secret: a local convenience (shared/bootstrap.py)


def test_every_setting_the_code_reads_is_set_in_the_function_app():
    app_settings = _app_setting_names()
    missing = sorted(name for name in set(SETTINGS) - NOT_IN_AZURE if not _is_set(name, app_settings))
    assert not missing, f"set these in {APP_SETTINGS_FILE.relative_to(ROOT)} (aksvendSettings): {missing}"


def test_local_mode_is_never_set_in_azure():
    assert not NOT_IN_AZURE & _app_setting_names()
    assert not any(re.search(rf"\b{LOCAL_SETTING}\b", path.read_text()) for path in BICEP_FILES)


def test_functions_host_reaches_storage_and_telemetry_by_identity():
    app_settings = _app_setting_names()
    for name in (
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "AZURE_CLIENT_ID",
    ):
        assert name in app_settings
    variables = _template(APP_SETTINGS_FILE)["variables"]
    assert variables["functionsSettings"]["value"]["AzureWebJobsStorage__credential"] == "managedidentity"
    # A connection string would win over the identity settings; Flex Consumption rejects the worker settings.
    assert not {"AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"} & app_settings


def test_storage_account_has_the_queues_and_tables_aksvend_uses():
    variables = _template(INFRA / "main.bicep")["variables"]
    queues = set(variables["queueNames"]["value"])
    tables = set(variables["tableNames"]["value"])
    from shared.bootstrap import QUEUES, TABLES

    for queue in QUEUES:
        assert {queue, f"{queue}-poison"} <= queues
    assert set(TABLES) <= tables


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_no_secure_parameter_has_a_default(path: Path):
    for name, param in _template(path).get("parameters", {}).items():
        secure = any(decorator.get("type") == "secure" for decorator in param.get("decorators", []))
        assert not (secure and param.get("default") is not None), f"{path.name}: @secure() param {name} has a default"


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_no_output_is_named_like_a_secret(path: Path):
    for name in _template(path).get("outputs", {}):
        assert not re.search(r"secret|password|key", name, re.IGNORECASE), f"{path.name}: output {name}"


def test_main_outputs_are_upper_snake_for_azd():
    outputs = _template(INFRA / "main.bicep")["outputs"]
    assert outputs
    assert [name for name in outputs if not re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", name)] == []


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_resource_is_declared_here_where_checkov_reads_it(path: Path):
    """No registry module: what a module from the Bicep registry creates is invisible to checkov offline."""
    modules = _template(path).get("modules", {})
    assert [name for name, module in modules.items() if module.get("type") != "local"] == []


def test_target_scopes_get_no_built_in_role_with_admin_rights_over_clusters():
    variables = _template(INFRA / "app" / "targets.bicep")["variables"]
    role_ids = {role["id"] for role in variables["roles"]["value"]}
    assert "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8" not in role_ids  # Azure Kubernetes Service Contributor Role
    assert "1e241071-0855-49ea-94dc-649edcd759de" not in role_ids  # EventGrid Contributor: nothing uses it
    assert variables["networkContributorRoleId"]["value"] == "4d97b98b-1d4f-4787-a291-c67834d212e7"
    assert variables["rbacAdministratorRoleId"]["value"] == "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
    # Managed Identity Operator's id, as Azure publishes it (the one used before issue 20 named no role)
    assert "f1a07417-d97a-45cb-824c-7a7467783830" in role_ids
    # Managed Identity Contributor carries federatedIdentityCredentials/write: with it a compromised app could make
    # any user-assigned identity of the scope trust a token issuer of its own and sign in as it from anywhere
    assert "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59" not in role_ids


def test_the_custom_role_covers_every_cluster_call_the_code_makes():
    """Each AKS resource type aksvend PUTs, GETs and DELETEs (shared/domain/arm) needs read, write and delete; the
    upgrade reaction reads upgradeProfiles/default, and the operation status reads go to locations/operations."""
    from shared.domain.arm import TYPES

    actions = set(_template(INFRA / "app" / "targets.bicep")["variables"]["clusterRoleActions"]["value"])
    aks = [t.name for t in TYPES.values() if t.name.startswith("Microsoft.ContainerService/")]
    assert aks, "no AKS resource types in shared/domain/arm"
    for name in aks:
        assert {f"{name}/read", f"{name}/write", f"{name}/delete"} <= actions, name
    assert "Microsoft.ContainerService/managedClusters/upgradeProfiles/read" in actions
    assert {"Microsoft.ContainerService/locations/operations/read",
            "Microsoft.ContainerService/locations/operationresults/read"} <= actions
    # the cluster's identity: the custom role, not Managed Identity Contributor (no federated credentials)
    from shared.domain.arm import IDENTITY

    assert {f"{IDENTITY.name}/read", f"{IDENTITY.name}/write", f"{IDENTITY.name}/delete"} <= actions
    # the other types the code writes are covered by the built-in roles of targets.bicep or by the custom role, but for
    # the service endpoint targets (other teams' storage accounts and vaults, whose VNet rules aksvend edits): their
    # owners grant the write per target (docs/deploy.md, "Roles"), never the role on a whole scope
    covered = ("Microsoft.Network/", "Microsoft.ManagedIdentity/", "Microsoft.Authorization/roleAssignments",
               "Microsoft.Resources/resourceGroups", "Microsoft.ContainerService/")
    per_target = {"Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"}
    assert [t.name for t in TYPES.values() if not t.name.startswith(covered) and t.name not in per_target] == []
    assert [a for a in actions if a.startswith(("Microsoft.Storage/", "Microsoft.KeyVault/"))] == []


def _decorators(param: dict[str, Any]) -> dict[str, Any]:
    return {d["type"]: d.get("argument") for d in param.get("decorators", [])}


@pytest.mark.parametrize("path", [INFRA / "main.bicep", APP_SETTINGS_FILE], ids=["main.bicep", "app/api.bicep"])
def test_there_is_no_deployment_without_authentication(path: Path):
    param = _template(path)["parameters"]["authClientId"]
    assert param.get("default") is None, f"{path.name}: authClientId must be required (no default)"
    assert _decorators(param).get("min_length") == 36  # a client id (GUID): an empty value fails the deployment
    azd = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]["authClientId"]["value"]
    assert azd == "${AKSVEND_AUTH_CLIENT_ID}"  # no `=` default: unset, the deployment fails on the empty value


def test_app_service_authentication_is_always_on_and_refuses_the_unauthenticated():
    template = _template(APP_SETTINGS_FILE)
    config = _site_config(template, "authsettingsV2")["config"]
    assert "condition" not in config and config["properties"] == "authSettings", "authSettings: not unconditional"
    auth = template["variables"]["authSettings"]["value"]
    assert auth["platform"]["enabled"] is True
    assert auth["globalValidation"]["requireAuthentication"] is True
    assert auth["globalValidation"]["unauthenticatedClientAction"] == "Return401"
    entra = auth["identityProviders"]["azureActiveDirectory"]
    assert entra["enabled"] is True and entra["registration"]["clientId"] == "authClientId"
    assert entra["validation"]["allowedAudiences"] == ["api://${authClientId}", "authClientId"]
    assert entra["validation"]["defaultAuthorizationPolicy"]["allowedPrincipals"] == "allowedPrincipals"


def test_the_app_validates_bearer_tokens_for_the_same_registration():
    settings = _template(APP_SETTINGS_FILE)["variables"]["aksvendSettings"]["value"]
    assert settings["AKSVEND_AUTH_AUDIENCES"] == "api://${authClientId},${authClientId}"
    assert settings["AKSVEND_AUTH_TENANT_ID"]["function"]["type"] == "tenant"
    assert "loginEndpoint" in json.dumps(settings["AKSVEND_AUTH_AUTHORITY"])
    assert settings["AKSVEND_LOCAL_CALLER"] == ""


def test_the_local_host_plays_easy_auth_with_the_paths_infra_excludes():
    from local.host.easyauth import EXCLUDED_PATHS

    auth = _template(APP_SETTINGS_FILE)["variables"]["authSettings"]["value"]
    assert sorted(auth["globalValidation"]["excludedPaths"]) == sorted(EXCLUDED_PATHS)


def test_azure_gets_no_setting_that_only_the_local_stack_may_use():
    """The app refuses, outside local mode, an ARM endpoint that is no Azure cloud's, the emulator's CA and a missing
    Key Vault, and turns /api/events off without its secret: infra/ must give it what Azure needs."""
    settings = _template(APP_SETTINGS_FILE)["variables"]["aksvendSettings"]["value"]
    # the deployment's own cloud (Bicep's value ends with '/', which the app accepts)
    assert settings["AKSVEND_ARM_ENDPOINT"] == {"function": {"type": "environment", "property_name": "resourceManager"}}
    assert settings["AKSVEND_ARM_CA_CERT"] == ""
    # generated secrets go to the vault for them (not the webhook secrets' vault): a parameter without a default,
    # passed that vault's URI
    assert settings["AKSVEND_KEY_VAULT_URI"] == "generatedVaultUri"
    assert _template(APP_SETTINGS_FILE)["parameters"]["generatedVaultUri"]["default"] is None
    passed = _template(INFRA / "main.bicep")["modules"]["api"]["config"]["params"]["generatedVaultUri"]
    assert json.dumps(passed) == json.dumps({"operator": {"type": "property_accessor", "operands": {
        "operand_1": "generatedVault", "operand_2": {"operator": {"type": "property_accessor", "operands": {
            "operand_1": "outputs", "operand_2": "uri"}}}}}})
    # the webhook secrets are read from the other vault only
    assert "${webhookVaultName}" in _template(APP_SETTINGS_FILE)["variables"]["webhookSecretReference"]["value"]
    # the events webhook takes no shared secret in Azure (local mode only): Event Grid's tokens need this role
    assert "AKSVEND_EVENTS_WEBHOOK_SECRET" not in settings
    assert settings["AKSVEND_EVENTS_GRID_ROLE"] == "AzureEventGridSecureWebhookSubscriber"


# ---- the security properties infra/check.sh counts (infra/security_checks.py) ------------------------------------


def _security_checks() -> Any:
    """infra/security_checks.py as a module (it is a script of infra/, not a package; it needs pycep only to parse)."""
    spec = importlib.util.spec_from_file_location("infra_security_checks", INFRA / "security_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


SECURITY = _security_checks()


def _templates() -> dict[str, dict[str, Any]]:
    """Every Bicep file's parsed template, keyed as security_checks.py keys them (relative to infra/); a copy."""
    return copy.deepcopy({str(path.relative_to(INFRA)): _template(path) for path in BICEP_FILES})


def _failures(check: str, templates: dict[str, dict[str, Any]]) -> list[str]:
    return [p.name for p in SECURITY.CHECKS[check](templates) if not p.ok]


@pytest.mark.parametrize("check", sorted(SECURITY.CHECKS))
def test_every_security_property_holds(check: str):
    properties = SECURITY.CHECKS[check](_templates())
    assert properties, f"{check} checked nothing: did the resources it reads move?"
    assert [p.name for p in properties if not p.ok] == []


def test_the_security_properties_checked_are_more_than_checkov_alone_sees():
    assert len(SECURITY.run(_templates())) >= 100


def _set_var(templates: dict[str, Any], path: str, name: str, value: Any) -> None:
    templates[path]["variables"][name]["value"] = value


def test_public_network_access_on_by_default_is_caught():
    templates = _templates()
    _set_var(templates, "app/storage.bicep", "publicNetworkAccess", "Enabled")
    templates["app/keyvault.bicep"]["parameters"]["devAllowedIpRanges"]["default"] = ["0.0.0.0/0"]
    default_off = "publicNetworkAccess is Disabled by default"
    assert _failures("storage_accounts", templates) == [f"app/storage.bicep:storage: {default_off}"]
    assert _failures("key_vaults", templates) == [f"app/keyvault.bicep:vault: {default_off}"]


def test_a_weakened_storage_account_or_site_is_caught():
    templates = _templates()
    storage = templates["app/storage.bicep"]["resources"]["storage"]["config"]["properties"]
    storage["allowSharedKeyAccess"] = True
    storage["minimumTlsVersion"] = "TLS1_0"
    templates["app/api.bicep"]["resources"]["ftpPublishing"]["config"]["properties"]["allow"] = True
    del templates["app/api.bicep"]["resources"]["functionApp"]["config"]["properties"]["virtualNetworkSubnetId"]
    assert sorted(_failures("storage_accounts", templates)) == [
        "app/storage.bicep:storage: allowSharedKeyAccess is false",
        "app/storage.bicep:storage: minimumTlsVersion is TLS1_2"]
    assert sorted(_failures("function_apps", templates)) == [
        "app/api.bicep:functionApp: FTP basic publishing credentials are off",
        "app/api.bicep:functionApp: virtualNetworkSubnetId is set (VNet integration)"]


def test_a_missing_diagnostic_setting_or_category_or_an_unclassified_type_is_caught():
    templates = _templates()
    del templates["app/keyvault.bicep"]["resources"]["diagnostics"]
    _set_var(templates, "app/storage.bicep", "dataPlaneLogs", [{"category": "StorageWrite", "enabled": True}])
    templates["app/network.bicep"]["resources"]["zones"]["type"] = "Microsoft.Cache/redis"
    failures = _failures("diagnostics", templates)
    assert "app/keyvault.bicep:vault: diagnostic setting to Log Analytics" in failures
    assert "app/keyvault.bicep:vault: logs AuditEvent" in failures
    assert "app/storage.bicep:queueService: logs StorageRead" in failures
    assert "app/storage.bicep:tableService: logs StorageDelete" in failures
    assert "app/network.bicep:zones: Microsoft.Cache/redis is classified (LOG_CATEGORIES or NO_LOGS)" in failures


def test_a_private_endpoint_missing_is_caught():
    templates = _templates()
    del templates["app/eventgrid.bicep"]["modules"]["endpoint"]
    _set_var(templates, "app/storage.bicep", "services", ["blob", "table"])
    assert sorted(_failures("private_endpoints", templates)) == [
        "app/eventgrid.bicep:topic: private endpoint for topic",
        "app/storage.bicep:storage: private endpoint for queue"]


def test_a_data_plane_role_for_the_deploying_user_is_caught():
    templates = _templates()
    dev = templates["app/rbac.bicep"]["resources"]["storageRoleAssignmentsDev"]["config"]
    dev["condition"] = None  # assigned whether or not the development parameter is set
    templates["main.bicep"]["parameters"]["principalId"] = {"type": "string", "default": ""}
    assert sorted(_failures("no_data_plane_role_for_the_deployer", templates)) == [
        "app/rbac.bicep:storageRoleAssignmentsDev: a user's role only for devDataPrincipalId, only when set",
        "main.bicep: no principalId parameter"]


def test_wider_cluster_rights_or_a_looser_condition_are_caught():
    templates = _templates()
    actions = templates["app/targets.bicep"]["variables"]["clusterRoleActions"]["value"]
    actions.append("Microsoft.ContainerService/managedClusters/*")
    _set_var(templates, "app/targets.bicep", "rbacAdministratorCondition",
             "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
             "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
             "ForAnyOfAnyValues:GuidEquals {8e3af657-a8ff-443c-a75c-2fe8c4bcb635}))")
    role_failures = _failures("custom_cluster_role", templates)
    assert "app/targets.bicep: cluster role actions have no wildcard" in role_failures
    assert "app/targets.bicep: notActions name listClusterAdminCredential/action" in role_failures
    assert "app/targets.bicep: notActions name runCommand/action" in role_failures
    condition_failures = _failures("rbac_administrator_condition", templates)
    assert "condition: constrains roleAssignments/delete" in condition_failures
    assert "condition: roles are only Network Contributor and AKS RBAC Cluster Admin" in condition_failures


def test_federated_credentials_on_the_scope_s_identities_are_caught():
    """Managed Identity Contributor, or its federatedIdentityCredentials/write in the custom role, would let a
    compromised app add a credential of its own to any user-assigned identity of the scope and sign in as it."""
    templates = _templates()
    roles = templates["app/targets.bicep"]["variables"]["roles"]["value"]
    roles.append({"id": "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59", "name": "Managed Identity Contributor"})
    actions = templates["app/targets.bicep"]["variables"]["clusterRoleActions"]["value"]
    actions.append("Microsoft.ManagedIdentity/userAssignedIdentities/*")
    failures = _failures("role_scopes", templates)
    assert "app/targets.bicep: target roles are exactly Network Contributor, Private DNS Zone Contributor and " \
           "Managed Identity Operator" in failures
    assert _failures("custom_cluster_role", templates) == [
        "app/targets.bicep: cluster role actions are exactly those aksvend calls",
        "app/targets.bicep: cluster role actions have no wildcard",
        "app/targets.bicep: no cluster role action is also a notAction",
        "app/targets.bicep: notActions name federatedIdentityCredentials/write"]


def test_a_condition_that_lets_delete_remove_any_assignment_is_caught():
    """The delete side names the same roles with a negation: every role id and principal type found in the text is
    still one of the two, but any other assignment of the scope (an Owner's) could now be deleted."""
    templates = _templates()
    condition = templates["app/targets.bicep"]["variables"]["rbacAdministratorCondition"]["value"]
    start = condition.index("(${deleteAllowed})")
    loose = ("(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidNotEquals "
             "{${networkContributorRoleId}, ${aksRbacClusterAdminRoleId}})")
    _set_var(templates, "app/targets.bicep", "rbacAdministratorCondition",
             condition[:start] + loose + condition[start + len("(${deleteAllowed})"):])
    assert _failures("rbac_administrator_condition", templates) == [
        "condition: is exactly write and delete of those two pairs"]


def test_a_custom_role_assignable_beyond_its_target_scope_is_caught():
    """One assignable scope is not enough: '/' (the whole tenant) is one scope too."""
    templates = _templates()
    role = templates["app/targets-rg.bicep"]["resources"]["clusterRole"]["config"]["properties"]
    role["assignableScopes"] = ["/"]
    assert _failures("custom_cluster_role", templates) == [
        "app/targets-rg.bicep:clusterRole: assignable only at its own target scope"]


def test_a_wider_quota_reader_or_one_missing_from_a_target_subscription_is_caught():
    """The quota reader holds on whole subscriptions, so it must stay the one read: a second action, a wider
    assignable scope, or a main.bicep that no longer deploys it per target subscription each fail."""
    templates = _templates()
    templates["app/quota-reader.bicep"]["variables"]["quotaReaderActions"]["value"].append("Microsoft.Compute/*/read")
    role = templates["app/quota-reader.bicep"]["resources"]["quotaReaderRole"]["config"]["properties"]
    role["assignableScopes"] = ["/"]
    del templates["main.bicep"]["modules"]["quotaReaders"]
    assert _failures("quota_reader_role", templates) == [
        "app/quota-reader.bicep: the quota reader role's actions are exactly usages/read",
        "app/quota-reader.bicep:quotaReaderRole: assignable only at its subscription",
        "main.bicep: the quota reader is deployed on every target subscription, at its scope"]
    assert _failures("quota_reader_role", _templates()) == []


def test_a_private_endpoint_subnet_opened_to_another_network_is_caught():
    """An operator's network let into the private endpoints' subnet is a route to every vault and the storage: it
    must be a deliberate change of the check, not a quiet NSG rule."""
    templates = _templates()
    nsg = templates["app/network.bicep"]["resources"]["endpointNsg"]["config"]["properties"]["securityRules"]
    nsg.insert(0, {"name": "allow-operators", "properties": {
        "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefix": "10.0.0.0/8", "sourcePortRange": "*",
        "destinationAddressPrefix": "endpointSubnetPrefix", "destinationPortRange": "443"}})
    assert _failures("endpoint_subnet_inbound", templates) == [
        "app/network.bicep:endpointNsg: inbound allowed only from the app subnet, on 443"]
    assert _failures("endpoint_subnet_inbound", _templates()) == []


def test_a_secrets_officer_on_the_webhook_vault_is_caught():
    templates = _templates()
    _set_var(templates, "app/rbac.bicep", "keyVaultSecretsUserRoleId", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7")
    assert _failures("role_scopes", templates) == ["app/rbac.bicep: webhook vault: Secrets User only"]


def test_the_script_check_sh_runs_reports_the_count_and_passes():
    """infra/check.sh runs infra/security_checks.py with the Python of checkov's venv and reads its last line."""
    if not CHECKOV_PYTHON.exists():
        pytest.fail(f"{CHECKOV_PYTHON.relative_to(ROOT)} is missing; run `make lint` (or `make unit`)", pytrace=False)
    result = subprocess.run([str(CHECKOV_PYTHON), str(INFRA / "security_checks.py")], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.fullmatch(r"security properties: (\d+) checked, 0 failed", result.stdout.strip())
    assert summary is not None, result.stdout
    assert int(summary.group(1)) == len(SECURITY.run(_templates()))


def test_checkov_passes_that_repeat_a_counted_property_are_not_counted_again():
    """check.sh adds checkov's passes to security_checks.py's count only where they check something it does not:
    three checkov checks of the site's httpsOnly are not three more properties."""
    report = {"check_type": "bicep", "results": {"passed_checks": [
        {"check_id": "CKV_AZURE_70", "resource": "Microsoft.Web/sites.functionApp"},
        {"check_id": "CKV_AZURE_14", "resource": "Microsoft.Web/sites.functionApp"},
        {"check_id": "CKV_AZURE_36", "resource": "Microsoft.Storage/storageAccounts.storage"},
        {"check_id": "CKV_AZURE_34", "resource": "Microsoft.Storage/storageAccounts/blobServices/containers.c"}]}}
    counted, not_counted = SECURITY.checkov_passes(report)
    assert counted == ["CKV_AZURE_34 Microsoft.Storage/storageAccounts/blobServices/containers.c"]
    assert len(not_counted) == 3
    # each one not counted for repeating a property names one that security_checks.py does check
    names = " ".join(p.name for p in SECURITY.run(_templates()))
    for repeated in ("httpsOnly", "minTlsVersion", "remoteDebuggingEnabled", "ftpsState", "defaultAction",
                     "supportsHttpsTrafficOnly", "minimumTlsVersion", "enablePurgeProtection", "disableLocalAuth",
                     "user-assigned only", "App Service authentication is on", "publicNetworkAccess"):
        assert repeated in names, repeated


# Built-in role ids infra/ assigns, with the names docs/deploy.md's *Roles* tables give them.
ROLE_NAMES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
}


def _doc_roles_table(heading: str) -> dict[str, str]:
    """The rows (role -> the rest of the row) of the docs/deploy.md table under the paragraph starting `heading`."""
    lines = (ROOT / "docs" / "deploy.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    rows = {}
    for line in lines[start + 4:]:
        if not line.startswith("| "):
            break
        role, rest = line[2:].split(" | ", 1)
        rows[re.sub(r"[*`]", "", role).removesuffix(", with a condition").strip()] = rest
    return rows


def test_the_roles_tables_of_the_deploy_docs_match_the_bicep():
    """docs/deploy.md says which roles the identity holds: exactly those rbac.bicep and targets.bicep assign, and
    the custom role's row names each of its actions' and notActions' operations."""
    rbac = _template(INFRA / "app" / "rbac.bicep")["variables"]
    home = {ROLE_NAMES[v["value"]] for name, v in rbac.items() if name.endswith("RoleId")}
    assert set(_doc_roles_table("**aksvend's identity in its own resource group**")) == home
    targets = _template(INFRA / "app" / "targets.bicep")["variables"]
    doc = _doc_roles_table("**aksvend's identity on each target scope**")
    custom = sorted(role for role in doc if role.startswith("custom "))
    assert [c.split(" (")[0] for c in custom] == ["custom aksvend clusters", "custom aksvend quota reader"]
    assert set(doc) - set(custom) == {r["name"] for r in targets["roles"]["value"]} | {
        "Role Based Access Control Administrator"}
    row = doc[custom[0]]
    for action in targets["clusterRoleActions"]["value"] + targets["clusterRoleNotActions"]["value"]:
        operation = action.split("/")[-2]  # the resource type of read/write/delete, the name of an /action
        assert re.search(rf"\b{operation}\b", row), action
    # the quota reader: its one action in full, on the subscription (a resource group's role would not cover it)
    quota = _template(INFRA / "app" / "quota-reader.bicep")["variables"]["quotaReaderActions"]["value"]
    assert quota == ["Microsoft.Compute/locations/usages/read"]
    assert f"`{quota[0]}` only" in doc[custom[1]] and doc[custom[1]].startswith("the **subscription**")
    assert quota[0] not in targets["clusterRoleActions"]["value"]


def _local_modules() -> list[tuple[Path, str, Path, dict[str, Any]]]:
    """(file, module name, the module's file, the params passed) of every local module call."""
    calls = []
    for path in BICEP_FILES:
        for name, module in _template(path).get("modules", {}).items():
            target = (path.parent / module["detail"]["path"]).resolve()
            calls.append((path, name, target, SECURITY.body(module).get("params", {})))
    return calls


@pytest.mark.parametrize("call", _local_modules(), ids=lambda c: f"{c[0].relative_to(INFRA)}:{c[1]}")
def test_every_module_call_passes_exactly_parameters_its_module_declares(call: tuple[Path, str, Path, dict[str, Any]]):
    """What a Bicep build would refuse and nothing here can build: an unknown parameter, or a required one missing."""
    path, _name, target, passed = call
    assert target in BICEP_FILES, f"{path.name} calls a module that is not in infra/: {target}"
    declared = _template(target).get("parameters", {})
    assert sorted(set(passed) - set(declared)) == [], f"unknown parameters for {target.name}"
    required = {name for name, param in declared.items() if param.get("default") is None}
    assert sorted(required - set(passed)) == [], f"required parameters of {target.name} not passed"


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_module_output_read_is_one_the_module_declares(path: Path):
    modules = {name: (path.parent / module["detail"]["path"]).resolve()
               for name, module in _template(path).get("modules", {}).items() if module.get("type") == "local"}
    missing = [f"{module}.outputs.{output}"
               for module, output in re.findall(r"\b(\w+)(?:\[\w+\])?\.outputs\.(\w+)", path.read_text())
               if module in modules and output not in _template(modules[module]).get("outputs", {})]
    assert missing == []


def _ignore_patterns(path: Path) -> set[str]:
    """The patterns of a gitignore-syntax file, without comments and with a directory's trailing `/` dropped."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line.removesuffix("/") for line in lines if line and not line.startswith("#")}


def test_the_deployment_package_leaves_out_everything_git_ignores():
    """`azd deploy` zips the project root minus .funcignore: whatever git ignores (virtual environments such as
    `.venv-azcli`, hundreds of MB; caches; the emulators' keys and data; local settings) must be left out too, and
    so must the caches that ignore themselves (mypy writes its own .gitignore into .mypy_cache)."""
    git = _ignore_patterns(ROOT / ".gitignore")
    func = _ignore_patterns(ROOT / ".funcignore")
    missing = {p for p in git if p not in func and p.lstrip("/") not in func}
    assert missing == set(), f".funcignore lacks what .gitignore ignores: {sorted(missing)}"
    assert {".venv", ".venv-checkov", ".venv-azcli", "node_modules", ".mypy_cache", "tests", "local", "infra"} <= func
    # nothing the app needs at run time is left out
    for needed in ("function_app.py", "host.json", "requirements.txt", "shared", "functions"):
        assert needed not in func and f"/{needed}" not in func, needed


APP_INSIGHTS_RETENTION_DAYS = [30, 60, 90, 120, 180, 270, 365, 550, 730]


def test_log_retention_allows_only_what_application_insights_accepts():
    """The one retention goes to Log Analytics and to Application Insights' RetentionInDays, which takes only these
    values: anything else must be refused at parameter validation, not half-way through a deployment."""
    main = _decorators(_template(INFRA / "main.bicep")["parameters"]["logRetentionDays"])
    module = _decorators(_template(INFRA / "app" / "monitoring.bicep")["parameters"]["retentionInDays"])
    for decorators in (main, module):
        assert decorators.get("allowed") == APP_INSIGHTS_RETENTION_DAYS, decorators
        assert "minValue" not in decorators and "maxValue" not in decorators
    resources = _template(INFRA / "app" / "monitoring.bicep")["resources"]
    assert [r["config"]["properties"]["RetentionInDays"] for r in resources.values()
            if r["type"] == "Microsoft.Insights/components"] == ["retentionInDays"]


def _azd_substitute(text: str, env: dict[str, str]) -> str:
    """What azd does to infra/main.parameters.json (envsubst.Eval, docs/deploy.md "Sources"): each `${NAME}` or
    `${NAME=default}` is replaced by the variable's text as it is, no JSON escaping; the file is parsed afterwards."""
    return re.sub(r"\$\{(\w+)(?:=([^}]*))?\}", lambda m: env.get(m.group(1), m.group(2) or ""), text)


def _documented_env_sets() -> dict[str, list[str]]:
    """Every `azd env set NAME '<value>'` of docs/deploy.md (single-quoted: the shell passes the text unchanged)."""
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r"azd env set\s+(\w+)\s+'([^']*)'", (ROOT / "docs" / "deploy.md").read_text()):
        found.setdefault(name, []).append(value)
    return found


def test_every_documented_azd_env_value_survives_azd_s_substitution_and_means_what_it_should():
    """A JSON value put unescaped into `"value": "${...}"` breaks the parameters file (azd fails before deploying);
    escaped, the array parameters get a string ARM reads as a JSON array, and the caller policy a string the app
    parses. Each documented example must come through whole: the file parses, the arrays are arrays of strings, the
    policy is one the app accepts."""
    from shared.domain.policy import Policy

    documented = _documented_env_sets()
    assert {"AKSVEND_TARGET_SCOPES", "AKSVEND_CALLER_POLICY", "AKSVEND_DEV_ALLOWED_IP_RANGES"} <= set(documented)
    template = (INFRA / "main.parameters.json").read_text()
    params = _template(INFRA / "main.bicep")["parameters"]
    for name, values in documented.items():
        for value in values:
            substituted = json.loads(_azd_substitute(template, {"AKSVEND_AUTH_CLIENT_ID": "x", name: value}))
            slot = next(p for p, v in substituted["parameters"].items() if f"${{{name}" in json.dumps(
                json.loads(template)["parameters"][p]))
            text = substituted["parameters"][slot]["value"]
            if params[slot]["type"] == "array":
                parsed = json.loads(text)
                assert isinstance(parsed, list) and parsed and all(isinstance(v, str) for v in parsed), (name, text)
            if slot == "callerPolicy":
                assert Policy.parse(text).rules, text
    # and the unescaped form, which the docs showed before, is what breaks: the check above can fail
    with pytest.raises(json.JSONDecodeError):
        json.loads(_azd_substitute(template, {"AKSVEND_TARGET_SCOPES": '["/subscriptions/a"]'}))


def test_the_deploy_docs_name_every_path_that_needs_no_token():
    """docs/deploy.md's list of the routes App Service authentication lets through without a token is exactly
    api.bicep's `excludedPaths`: a path left out of the docs is an open door nobody reviews."""
    bicep = APP_SETTINGS_FILE.read_text()
    excluded = re.findall(r"'(/[^']+)'", bicep[bicep.index("excludedPaths: ["):].split("]", 1)[0])
    assert "/runtime/webhooks/EventGrid" in excluded and "/api/health" in excluded
    doc = (ROOT / "docs" / "deploy.md").read_text()
    paragraph = doc[doc.index("Reachable without a token"):].split("\n\n", 1)[0]
    named = set(re.findall(r"`(/[\w/|]+)`", paragraph))
    expanded = {f"{p.rsplit('/', 1)[0]}/{leaf}" for p in named for leaf in p.rsplit("/", 1)[1].split("|")}
    assert expanded == set(excluded)
