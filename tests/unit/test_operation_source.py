"""The operation source: one encoder, one parser, and the stored strings of earlier versions read the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.operation_source import OperationSource

STORED = {
    "api": OperationSource("api"),
    "queue": OperationSource("queue"),
    "ticket:jira": OperationSource.ticket("jira"),
    "reaction:spot-fallback:batch": OperationSource.reaction("spot-fallback", "batch"),
    "reaction:fallback-scale-down:batch": OperationSource.reaction("fallback-scale-down", "batch"),
    "reaction:pool-pressure": OperationSource.reaction("pool-pressure"),
    "reaction:upgrade": OperationSource.reaction("upgrade"),
}
NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)


@pytest.mark.parametrize("stored", sorted(STORED))
def test_each_stored_form_parses_to_its_value_and_encodes_back_unchanged(stored):
    assert OperationSource.parse(stored) == STORED[stored]
    assert STORED[stored].encode() == stored


@pytest.mark.parametrize("stored", ["", "api:x", "queue:1", "ticket", "ticket:", "reaction", "reaction:", "cli"])
def test_a_string_this_version_cannot_read_parses_to_none(stored):
    assert OperationSource.parse(stored) is None


@given(rule=NAMES, pool=st.none() | NAMES)
def test_every_reaction_source_survives_encoding(rule, pool):
    source = OperationSource.reaction(rule, pool)
    assert OperationSource.parse(source.encode()) == source
