"""The path parameters of the HTTP API (functions/paths.py) are the names of the request contract: a segment that
passes is a name aksvend could have created, and one aksvend could have created passes. Names are matched whole:
Python's `$` also matches before a final newline, so `c1\\n` was a valid cluster name in a request."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.paths import RULES
from shared.domain.rules import check

SUB = "00000000-0000-0000-0000-000000000001"
BASE = {"name": "c1", "resourceGroup": "rg-a", "location": "westeurope", "subscriptionId": SUB}
CONTRACT_FIELD = {"subscription_id": "/subscriptionId", "resource_group": "/resourceGroup", "name": "/name",
                  "pool": "/userPools/0/name"}
NAMES = st.text(alphabet=st.sampled_from("aZ09-_.()é\n/ \x00"), min_size=1, max_size=95)


def contract_accepts(parameter: str, value: str) -> bool:
    """No rule of the request contract (its schema's bounds or a naming rule) refuses the name in its field."""
    where = CONTRACT_FIELD[parameter]
    raw = {**BASE, "userPools": [{"name": value}]} if parameter == "pool" else {**BASE, where[1:]: value}
    _, violations = check(raw, default_subscription_id=SUB)
    return not [v for v in violations if v.path == where and v.severity == "error"]


def path_accepts(parameter: str, value: str) -> bool:
    return re.fullmatch(RULES[parameter][0], value) is not None


@pytest.mark.parametrize("parameter", CONTRACT_FIELD)
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_a_path_segment_is_valid_exactly_when_the_request_contract_accepts_the_name(parameter, data):
    pattern = RULES[parameter][0]
    value = data.draw(st.one_of(NAMES, st.from_regex(pattern, fullmatch=True)))
    assert path_accepts(parameter, value) == contract_accepts(parameter, value), repr(value)


@pytest.mark.parametrize(("parameter", "value"), [("name", "c1\n"), ("resource_group", "rg-a\n"), ("pool", "apps\n"),
                                                  ("subscription_id", SUB + "\n")])
def test_a_name_with_a_final_newline_is_refused_by_both(parameter, value):
    assert not path_accepts(parameter, value) and not contract_accepts(parameter, value)
