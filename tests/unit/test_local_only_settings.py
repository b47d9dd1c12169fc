"""Settings that only make sense locally can never weaken production: outside local mode the ARM endpoint is an Azure
cloud's (where the identity's ARM token goes) and its token is for that endpoint, the emulator's CA is refused, the
Key Vault is required, and the platform that refuses local mode is recognised by every variable the Functions host
itself reads (Flex Consumption sets no WEBSITE_INSTANCE_ID)."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from azure.core import AzureClouds
from azure.mgmt.core.tools import get_arm_endpoints

from shared.adapters.arm import AzureArm
from shared.bootstrap import open_engine
from shared.config import ARM_ENDPOINTS, ConfigError, Settings, functions_platform
from shared.errors import FatalError
from shared.platform import FUNCTIONS_PLATFORM_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = "https://127.0.0.1:8443"


# ---- where the ARM token goes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "https://management.azure.com@evil.example",
    "https://management.azure.com.evil.example",
    "https://evil.example",
    "https://user:pass@management.azure.com",
    "https://management.azure.com\\@evil.example",
    "https://management.azure.com:8443",
    "https://management.azure.com/evil",
    "https://management.azure.com?x=1",
    "https://management.azure.com#x",
    "http://management.azure.com",
    " https://management.azure.com",
    EMULATOR,
])
def test_outside_local_mode_the_arm_endpoint_must_be_an_azure_clouds(value):
    with pytest.raises(ConfigError, match="AKSVEND_ARM_ENDPOINT") as refused:
        Settings.from_env({"AKSVEND_ARM_ENDPOINT": value})
    assert value.strip() not in str(refused.value)
    with pytest.raises(ConfigError, match="AKSVEND_ARM_ENDPOINT"):
        Settings(arm_endpoint=value)  # however the settings are built


@pytest.mark.parametrize("endpoint", ARM_ENDPOINTS.values())
def test_each_clouds_endpoint_is_accepted_as_infra_sets_it(endpoint):
    # infra/app/api.bicep: environment().resourceManager, which ends with a slash
    for spelled in (endpoint, endpoint + "/", endpoint.upper() + "/", endpoint + ":443"):
        assert Settings.from_env({"AKSVEND_ARM_ENDPOINT": spelled}).arm_endpoint == endpoint
    assert Settings.from_env({}).arm_endpoint == "https://management.azure.com"


def test_the_clouds_are_the_azure_sdks_own():
    assert set(ARM_ENDPOINTS.values()) == {get_arm_endpoints(cloud)["resource_manager"].rstrip("/")
                                           for cloud in AzureClouds}


def test_in_local_mode_any_https_origin_is_accepted_and_nothing_else():
    local = {"AKSVEND_LOCAL": "1"}
    assert Settings.from_env({**local, "AKSVEND_ARM_ENDPOINT": EMULATOR + "/"}).arm_endpoint == EMULATOR
    assert Settings.from_env({**local, "AKSVEND_ARM_ENDPOINT": "https://[::1]:9443"}).arm_endpoint == \
        "https://[::1]:9443"
    for value in ("http://127.0.0.1:8443", "https://x@127.0.0.1:8443", "https://127.0.0.1:8443/arm"):
        with pytest.raises(ConfigError, match="AKSVEND_ARM_ENDPOINT"):
            Settings.from_env({**local, "AKSVEND_ARM_ENDPOINT": value})


def test_the_emulators_ca_is_refused_outside_local_mode():
    with pytest.raises(ConfigError, match="AKSVEND_ARM_CA_CERT"):
        Settings.from_env({"AKSVEND_ARM_CA_CERT": "/tmp/ca.pem"})
    with pytest.raises(ConfigError, match="AKSVEND_ARM_CA_CERT"):
        Settings(arm_ca_cert="/tmp/ca.pem")
    assert Settings.from_env({"AKSVEND_LOCAL": "1", "AKSVEND_ARM_ENDPOINT": EMULATOR,
                              "AKSVEND_ARM_CA_CERT": "/tmp/ca.pem"}).arm_ca_cert == "/tmp/ca.pem"
    assert Settings.from_env({"AKSVEND_ARM_CA_CERT": ""}).arm_ca_cert is None  # what infra/ sets: unset


class Recording:
    """An async credential that records the scopes it is asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **_: Any) -> Any:
        self.scopes.append(scopes)
        raise AssertionError("no token in this test")

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("endpoint", [*ARM_ENDPOINTS.values(), EMULATOR])
async def test_the_arm_clients_ask_for_the_endpoints_own_token(endpoint):
    async with AzureArm(Recording(), "00000000-0000-0000-0000-000000000000", base_url=endpoint + "/") as arm:
        configs = [client._config for client in arm._clients.values()]
    assert {c.credential_scopes[0] for c in configs} == {f"{endpoint}/.default"}
    assert all(len(c.credential_scopes) == 1 for c in configs)


@pytest.mark.parametrize("poll_url", [
    "https://evil.example/subscriptions/s/operations/1",
    "https://management.azure.com.evil.example/subscriptions/s/operations/1",
    "https://management.azure.com@evil.example/subscriptions/s/operations/1",
    "http://management.azure.com/subscriptions/s/operations/1",
    "https://management.azure.com:8443/subscriptions/s/operations/1",
    "//evil.example/subscriptions/s/operations/1",
    "https://management.usgovcloudapi.net/subscriptions/s/operations/1",
])
async def test_a_poll_url_off_the_arm_endpoint_is_refused_before_anything_is_sent(poll_url):
    credential = Recording()
    async with AzureArm(credential, "00000000-0000-0000-0000-000000000000") as arm:
        with pytest.raises(FatalError) as refused:
            await arm.poll("Microsoft.ContainerService/managedClusters", poll_url)
    assert refused.value.code == "UntrustedUrl" and "evil" not in str(refused.value)
    assert credential.scopes == []  # no token was even asked for


# ---- generated secrets go to the Key Vault ----------------------------------------------------------------------
async def test_outside_local_mode_the_engine_does_not_open_without_a_key_vault():
    settings = Settings(storage_connection="UseDevelopmentStorage=true")
    async with AsyncExitStack() as stack:
        with pytest.raises(ConfigError, match="AKSVEND_KEY_VAULT_URI"):
            await open_engine(settings, stack, credential=Recording())


# ---- where local mode is refused --------------------------------------------------------------------------------
@pytest.mark.parametrize("variable", FUNCTIONS_PLATFORM_VARIABLES)
def test_local_mode_is_refused_wherever_the_functions_platform_says_it_runs(variable):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"AKSVEND_LOCAL": "1", variable: "a1b2c3"})
    assert "AKSVEND_LOCAL" in str(refused.value) and variable in str(refused.value)
    assert "a1b2c3" not in str(refused.value)
    assert functions_platform({variable: "a1b2c3"}) == variable
    assert functions_platform({variable: ""}) is None  # present but empty: not set, as the host reads it
    assert Settings.from_env({"AKSVEND_LOCAL": "1", variable: ""}).local


def test_flex_consumption_is_the_functions_platform_without_website_instance_id():
    # what a Flex Consumption ("Legion") instance has, as the Functions host recognises it
    assert functions_platform({"CONTAINER_NAME": "c", "LEGION_SERVICE_HOST": "10.0.0.1"}) == "LEGION_SERVICE_HOST"
    assert functions_platform({"WEBSITE_POD_NAME": "p", "LEGION_SERVICE_HOST": "10.0.0.1"}) == "LEGION_SERVICE_HOST"
    assert functions_platform({"WEBSITE_SKU": "FlexConsumption"}) == "WEBSITE_SKU"
    assert functions_platform({}) is None


def test_the_local_stack_never_sets_a_variable_of_the_platform():
    pattern = re.compile(r"\b(" + "|".join(FUNCTIONS_PLATFORM_VARIABLES) + r")\b")
    setters = [path.relative_to(ROOT) for path in (ROOT / "local").rglob("*.py") if pattern.search(path.read_text())]
    assert setters == []


def test_a_container_name_alone_is_not_the_functions_platform():
    """Container runtimes and sandboxes set CONTAINER_NAME too: the demo must run there (every plan that sets it
    also sets WEBSITE_SITE_NAME, which is read)."""
    assert functions_platform({"CONTAINER_NAME": "sandbox-1"}) is None
    assert functions_platform({"CONTAINER_NAME": "c", "WEBSITE_SITE_NAME": "func-api-x"}) == "WEBSITE_SITE_NAME"


@pytest.mark.parametrize("authority", ["https://login.evil.example", "https://login.microsoftonline.com@evil.example",
                                       "https://login.microsoftonline.com.evil.example"])
def test_bearer_tokens_are_checked_only_against_a_clouds_entra_id_outside_local_mode(authority):
    """Another authority publishes keys of its own: tokens it signs would be accepted as genuine."""
    from shared.config import ConfigError, Settings

    env = {"AKSVEND_AUTH_TENANT_ID": "72f988bf-0000-4000-8000-00000000e7e7", "AKSVEND_AUTH_AUDIENCES": "api://aksvend",
           "AKSVEND_KEY_VAULT_URI": "https://kv-x.vault.azure.net"}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**env, "AKSVEND_AUTH_AUTHORITY": authority})
    assert "AKSVEND_AUTH_AUTHORITY" in str(refused.value) and "evil" not in str(refused.value)
    assert Settings.from_env({**env, "AKSVEND_AUTH_AUTHORITY": "https://login.microsoftonline.us/"}).auth.bearer
    assert Settings.from_env({**env, "AKSVEND_LOCAL": "1", "AKSVEND_AUTH_AUTHORITY": "https://127.0.0.1:4443"}).local
