"""Settings that only make sense locally can never weaken production: the platform that refuses local mode is
recognised by every variable the Functions host itself reads (Flex Consumption sets no WEBSITE_INSTANCE_ID)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.config import ConfigError, Settings, functions_platform
from shared.platform import FUNCTIONS_PLATFORM_VARIABLES

ROOT = Path(__file__).resolve().parents[2]


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
    assert functions_platform({"CONTAINER_NAME": "c", "LEGION_SERVICE_HOST": "10.0.0.1"}) == "CONTAINER_NAME"
    assert functions_platform({"WEBSITE_POD_NAME": "p", "LEGION_SERVICE_HOST": "10.0.0.1"}) == "LEGION_SERVICE_HOST"
    assert functions_platform({"WEBSITE_SKU": "FlexConsumption"}) == "WEBSITE_SKU"
    assert functions_platform({}) is None


def test_the_local_stack_never_sets_a_variable_of_the_platform():
    pattern = re.compile(r"\b(" + "|".join(FUNCTIONS_PLATFORM_VARIABLES) + r")\b")
    setters = [path.relative_to(ROOT) for path in (ROOT / "local").rglob("*.py") if pattern.search(path.read_text())]
    assert setters == []
