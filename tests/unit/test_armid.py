from __future__ import annotations

import pytest

from shared.domain import armid
from tests.requests import STORAGE, SUB


def test_a_storage_account_id_parses_into_its_parts():
    parsed = armid.parse(STORAGE)
    assert (parsed.subscription_id, parsed.resource_group, parsed.resource_type, parsed.name) == (
        SUB, "rg-data", "Microsoft.Storage/storageAccounts", "stdata")
    assert str(parsed) == STORAGE


def test_child_resources_keep_all_their_types():
    child = armid.parse(STORAGE.replace("storageAccounts/stdata", "privateDnsZones/z/virtualNetworkLinks/l"))
    assert child.types == ("privateDnsZones", "virtualNetworkLinks") and child.names == ("z", "l")


@pytest.mark.parametrize("bad", ["", "subscriptions/x", "/subscriptions/not-a-guid", f"/subscriptions/{SUB}/x",
                                 f"/subscriptions/{SUB}/resourceGroups", f"/subscriptions/{SUB}/resourceGroups/rg/"
                                 "providers/Microsoft.Storage/storageAccounts", "/subscriptions/.../x",
                                 f"/subscriptions/{SUB}/resourceGroups/rg name/providers/A/b/c"])
def test_malformed_ids_do_not_parse(bad):
    assert armid.parse(bad) is None


@pytest.mark.parametrize("segment", ["a b", "a\u2003b", "a\x1cb", "a?b", "a#b", "x" * 261, ""])
def test_a_segment_with_whitespace_a_query_character_or_over_260_characters_does_not_parse(segment):
    assert armid.parse(STORAGE.replace("rg-data", segment)) is None
    assert armid.parse(STORAGE.replace("rg-data", "x" * 260)) is not None


def test_keys_compare_ids_case_insensitively():
    assert armid.key(STORAGE.upper()) == armid.key(STORAGE + "/")
