from __future__ import annotations

import pytest

from shared.config import ZERO_SUBSCRIPTION, ConfigError, Settings


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
