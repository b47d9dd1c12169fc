"""infra/ is checked like code: every Bicep file parses, and the function app sets every setting the code reads.

The Bicep is parsed with checkov's own parser (pycep), so what these tests read is what checkov checks. pycep ships
with checkov, which lives in its own venv (.venv-checkov, created by `make lint`) because its dependency tree
clashes with the app's pins; when pycep is not importable here, the files are parsed by that venv's Python in a
subprocess that prints JSON. Nothing is skipped: without pycep the tests fail and say how to get it.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
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


def _find_config(node: Any, name: str) -> dict[str, Any] | None:
    """The config object named `name` anywhere in an expression (a list literal, or concat(...) of lists)."""
    if isinstance(node, dict):
        if node.get("name") == name and "properties" in node:
            return node
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_config(child, name)
        if found is not None:
            return found
    return None


def _app_setting_names() -> set[str]:
    """Names in the `appsettings` config of the function app module: the keys of the variables it unions."""
    template = _template(APP_SETTINGS_FILE)
    variables = template.get("variables", {})
    configs = [module.get("config", {}).get("params", {}).get("configs") for module in template["modules"].values()]
    config = _find_config(configs, "appsettings")
    assert config is not None, f"no appsettings config in {APP_SETTINGS_FILE.relative_to(ROOT)}"
    properties = config["properties"]
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
def test_registry_modules_are_pinned_azure_verified_modules(path: Path):
    for name, module in _template(path).get("modules", {}).items():
        if module.get("type") != "bicep_registry_alias":
            continue
        detail = module["detail"]
        assert detail["alias"] == "public" and detail["path"].startswith("avm/"), f"{path.name}: {name}"
        assert re.fullmatch(r"\d+\.\d+\.\d+", detail["tag"]), f"{path.name}: {name} is not pinned: {detail['tag']}"


def test_target_scopes_get_the_planned_roles_and_a_constrained_rbac_administrator():
    variables = _template(INFRA / "app" / "targets.bicep")["variables"]
    role_ids = {role["id"] for role in variables["roles"]["value"]}
    network_contributor = "4d97b98b-1d4f-4787-a291-c67834d212e7"
    assert {
        "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",  # Azure Kubernetes Service Contributor Role
        "b12aa53e-6015-4669-85d0-8515ebb3ae7f",  # Private DNS Zone Contributor
        "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",  # Managed Identity Contributor
    } <= role_ids
    assert variables["networkContributorRoleId"]["value"] == network_contributor
    assert variables["rbacAdministratorRoleId"]["value"] == "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
    condition = variables["rbacAdministratorCondition"]["value"]
    assert "GuidEquals {${networkContributorRoleId}}" in condition
    assert "roleAssignments/write" in condition and "roleAssignments/delete" in condition


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
    configs = [module.get("config", {}).get("params", {}).get("configs") for module in template["modules"].values()]
    assert [c for c in configs[0] if c == "authSettings"] == ["authSettings"], "authSettings: not unconditional"
    auth = template["variables"]["authSettings"]["value"]["properties"]
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

    auth = _template(APP_SETTINGS_FILE)["variables"]["authSettings"]["value"]["properties"]
    assert sorted(auth["globalValidation"]["excludedPaths"]) == sorted(EXCLUDED_PATHS)


def test_azure_gets_no_setting_that_only_the_local_stack_may_use():
    """The app refuses, outside local mode, an ARM endpoint that is no Azure cloud's, the emulator's CA and a missing
    Key Vault, and turns /api/events off without its secret: infra/ must give it what Azure needs."""
    settings = _template(APP_SETTINGS_FILE)["variables"]["aksvendSettings"]["value"]
    # the deployment's own cloud (Bicep's value ends with '/', which the app accepts)
    assert settings["AKSVEND_ARM_ENDPOINT"] == {"function": {"type": "environment", "property_name": "resourceManager"}}
    assert settings["AKSVEND_ARM_CA_CERT"] == ""
    # generated passwords go to the deployment's vault: a parameter without a default, passed the vault's URI
    assert settings["AKSVEND_KEY_VAULT_URI"] == "keyVaultUri"
    assert _template(APP_SETTINGS_FILE)["parameters"]["keyVaultUri"]["default"] is None
    passed = _template(INFRA / "main.bicep")["modules"]["api"]["config"]["params"]["keyVaultUri"]
    assert json.dumps(passed) == json.dumps({"operator": {"type": "property_accessor", "operands": {
        "operand_1": "keyVault", "operand_2": {"operator": {"type": "property_accessor", "operands": {
            "operand_1": "outputs", "operand_2": "uri"}}}}}})
    # the events webhook takes no shared secret in Azure (local mode only): Event Grid's tokens need this role
    assert "AKSVEND_EVENTS_WEBHOOK_SECRET" not in settings
    assert settings["AKSVEND_EVENTS_GRID_ROLE"] == "AzureEventGridSecureWebhookSubscriber"
