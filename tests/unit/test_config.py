from __future__ import annotations

import pytest

from shared.config import ZERO_SUBSCRIPTION, ConfigError, Settings


def test_settings_default_to_the_zero_subscription():
    assert Settings.from_env({}).default_subscription_id == ZERO_SUBSCRIPTION


def test_a_malformed_setting_is_an_error_that_names_it_but_not_its_value():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"AKSVEND_DEFAULT_SUBSCRIPTION_ID": "secret-ish-value"})
    assert "AKSVEND_DEFAULT_SUBSCRIPTION_ID" in str(err.value) and "secret-ish-value" not in str(err.value)
