from __future__ import annotations

import pytest

from shared.config import ENTRA_AUTHORITY, SETTINGS, ZERO_SUBSCRIPTION, AuthSettings, ConfigError, Settings
from shared.config.names import PLATFORM_SETTINGS
from tests.principals import pid


def test_settings_default_to_the_zero_subscription():
    assert Settings.from_env({}).default_subscription_id == ZERO_SUBSCRIPTION


def test_a_malformed_setting_is_an_error_that_names_it_but_not_its_value():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"AKSVEND_DEFAULT_SUBSCRIPTION_ID": "secret-ish-value"})
    assert "AKSVEND_DEFAULT_SUBSCRIPTION_ID" in str(err.value) and "secret-ish-value" not in str(err.value)


def test_an_identity_based_storage_connection_is_read_like_the_functions_host_reads_it():
    settings = Settings.from_env({"AzureWebJobsStorage__accountName": "staksvend01",
                                  "AzureWebJobsStorage__clientId": "11111111-1111-1111-1111-111111111111"})
    assert (settings.storage_connection, settings.storage_account) == (None, "staksvend01")
    by_uri = Settings.from_env({"AzureWebJobsStorage__tableServiceUri": "https://staksvend02.table.core.windows.net"})
    assert by_uri.storage_account == "staksvend02"


def test_a_bad_storage_account_name_is_refused_by_name():
    with pytest.raises(ConfigError, match="AzureWebJobsStorage__accountName"):
        Settings.from_env({"AzureWebJobsStorage__accountName": "Not_An_Account"})


@pytest.mark.parametrize(("name", "value"), [("AKSVEND_POLL_INTERVAL_SECONDS", "soon"),
                                             ("AKSVEND_LEASE_SECONDS", "-1"), ("AKSVEND_LOG_LEVEL", "LOUD"),
                                             ("AKSVEND_ARM_ENDPOINT", "http://127.0.0.1:1")])
def test_malformed_settings_are_refused_naming_the_setting(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


class Recording(dict[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def test_every_name_the_settings_read_is_in_the_one_settings_list_or_set_by_the_platform():
    env = Recording({"AzureWebJobsStorage__tableServiceUri": "https://staksvend02.table.core.windows.net",
                     "AKSVEND_LOCAL": "1", "AKSVEND_EVENTS_TOPIC_ENDPOINT": "https://topic.example/api/events",
                     "AKSVEND_WEBHOOK_SECRET_SERVICENOW": "a2V5"})
    Settings.from_env(env)
    identity_based = {"AzureWebJobsStorage__accountName", "AzureWebJobsStorage__tableServiceUri",
                      "AzureWebJobsStorage__clientId"}  # the AzureWebJobsStorage connection, spelled NAME__*
    assert env.asked - set(SETTINGS) - identity_based == set(PLATFORM_SETTINGS)
    assert set(PLATFORM_SETTINGS) == {"WEBSITE_INSTANCE_ID", "LEGION_SERVICE_HOST",
                                      "WEBSITE_POD_NAME", "WEBSITE_SKU", "WEBSITE_SITE_NAME", "WEBSITE_AUTH_ENABLED"}


@pytest.mark.parametrize("value", ["1", "true", "TRUE"])
def test_local_mode_is_an_explicit_setting(value):
    assert Settings.from_env({"AKSVEND_LOCAL": value}).local
    assert not Settings.from_env({}).local
    assert not Settings.from_env({"AKSVEND_LOCAL": "0"}).local


def test_local_mode_pointing_at_another_arm_endpoint_is_not_implied():
    settings = Settings.from_env({"AKSVEND_ARM_ENDPOINT": "https://management.usgovcloudapi.net"})
    assert not settings.local  # a sovereign cloud is Azure too


def test_local_mode_is_refused_where_the_platform_says_the_app_runs_in_azure():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"AKSVEND_LOCAL": "1", "WEBSITE_INSTANCE_ID": "a1b2c3"})
    assert "AKSVEND_LOCAL" in str(err.value) and "WEBSITE_INSTANCE_ID" in str(err.value)


def test_a_malformed_local_mode_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match="AKSVEND_LOCAL"):
        Settings.from_env({"AKSVEND_LOCAL": "yes please"})


def test_a_local_caller_without_local_mode_is_refused():
    with pytest.raises(ConfigError, match="AKSVEND_LOCAL_CALLER"):
        Settings.from_env({"AKSVEND_LOCAL_CALLER": pid("dev")})
    with pytest.raises(ConfigError, match="AKSVEND_LOCAL_CALLER"):
        Settings(local_caller=pid("dev"))
    assert Settings.from_env({"AKSVEND_LOCAL": "1", "AKSVEND_LOCAL_CALLER": pid("dev")}).local_caller == pid("dev")


@pytest.mark.parametrize("value", ["dev@local", "queue:cluster-requests", "aksvend/queue:cluster-requests",
                                   "72f988bf-0000-4000-8000-00000000e7e7"])
def test_a_local_caller_is_a_tenant_and_an_object_id(value):
    with pytest.raises(ConfigError, match="AKSVEND_LOCAL_CALLER") as err:
        Settings.from_env({"AKSVEND_LOCAL": "1", "AKSVEND_LOCAL_CALLER": value})
    assert value not in str(err.value)


TENANT = "72f988bf-0000-4000-8000-00000000e7e7"


def test_bearer_validation_is_on_when_tenant_and_audiences_are_set():
    auth = Settings.from_env({"AKSVEND_AUTH_TENANT_ID": TENANT.upper(),
                              "AKSVEND_AUTH_AUDIENCES": " api://aksvend , 1111aaaa-0000-4000-8000-000000000001,"}).auth
    assert (auth.bearer, auth.tenant_id, auth.audiences, auth.authority) == (
        True, TENANT, ("api://aksvend", "1111aaaa-0000-4000-8000-000000000001"), ENTRA_AUTHORITY)
    assert not Settings.from_env({}).auth.bearer
    local = Settings.from_env({"AKSVEND_AUTH_TENANT_ID": TENANT, "AKSVEND_AUTH_AUDIENCES": "api://aksvend",
                               "AKSVEND_LOCAL": "1", "AKSVEND_AUTH_AUTHORITY": "https://127.0.0.1:8443/"}).auth
    assert local.authority == "https://127.0.0.1:8443"


@pytest.mark.parametrize(("env", "name"), [
    ({"AKSVEND_AUTH_TENANT_ID": TENANT}, "AKSVEND_AUTH_AUDIENCES"),
    ({"AKSVEND_AUTH_AUDIENCES": "api://aksvend"}, "AKSVEND_AUTH_TENANT_ID"),
    ({"AKSVEND_AUTH_TENANT_ID": "contoso.onmicrosoft.com", "AKSVEND_AUTH_AUDIENCES": "api://aksvend"},
     "AKSVEND_AUTH_TENANT_ID"),
    ({"AKSVEND_AUTH_TENANT_ID": TENANT, "AKSVEND_AUTH_AUDIENCES": "api://aksvend",
      "AKSVEND_AUTH_AUTHORITY": "http://login.example"}, "AKSVEND_AUTH_AUTHORITY"),
])
def test_malformed_auth_settings_are_refused_naming_the_setting(env, name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


@pytest.mark.parametrize(("value", "on"), [("True", True), ("true", True), ("TRUE", True), ("False", False),
                                           ("", False), ("1", False), ("yes", False)])
def test_easy_auth_is_trusted_only_when_the_platform_says_true(value, on):
    assert Settings.from_env({"WEBSITE_AUTH_ENABLED": value}).auth.easy_auth is on
    assert AuthSettings().easy_auth is False
