"""Strict, bounded JSON from outside: every hostile body gets a stable code, never an exception of Python's own."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.jsontext import MAX_DEPTH, JsonRefused, loads
from shared.domain.rules import check

SUB = "00000000-0000-0000-0000-000000000000"


def refused(body) -> JsonRefused:
    with pytest.raises(JsonRefused) as caught:
        loads(body)
    return caught.value


def test_plain_json_reads_as_json():
    assert loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_nesting_is_refused_without_recursion_error(depth):
    assert refused(b"[" * depth + b"]" * depth).code == "TooDeep"
    assert refused(b'{"a":' * depth + b"1" + b"}" * depth).code == "TooDeep"


def test_nesting_up_to_the_bound_is_read():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert refused("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).code == "TooDeep"


@pytest.mark.parametrize(("body", "where"), [
    ('{"p": NaN}', "/p"), ('{"p": Infinity}', "/p"), ('{"p": -Infinity}', "/p"), ('{"p": 1e400}', "/p"),
    ("[-1e999]", "/0"), ("NaN", ""), ('{"p": [1, {"q": ' + "9" * 400 + "}]}", "/p/1/q"),
    ("[" + "1" * 5000 + "]", "/0")])
def test_non_finite_numbers_are_refused_naming_their_place(body, where):
    err = refused(body)
    assert err.code == "NotFinite" and "finite" in err.message and err.pointer == where


def test_the_first_non_finite_number_in_document_order_is_named():
    assert refused('{"a": [1, 2, NaN], "b": NaN}').pointer == "/a/2"
    assert refused('{"a/b~c": NaN}').pointer == "/a~1b~0c"


def test_large_but_finite_numbers_are_read():
    assert loads("[1e308, " + "9" * 308 + "]") == [1e308, int("9" * 308)]


def test_a_duplicate_key_is_refused_naming_the_key():
    err = refused(b'{"name": "a", "count": 1, "name": "b"}')
    assert err.code == "DuplicateKey" and "'name'" in err.message


def test_a_utf16_body_is_refused():
    assert refused('{"name": "x"}'.encode("utf-16")).code == "NotUtf8"
    assert refused('{"name": "x"}'.encode("utf-16-le")).code == "NotUtf8"


def test_a_byte_order_mark_is_refused():
    assert refused(b'\xef\xbb\xbf{"a": 1}').code == "NotUtf8"


def test_a_lone_surrogate_is_refused():
    assert refused(b'{"name": "\\ud800"}').code == "MalformedJson"
    assert refused(b'{"\\udfff": 1}').code == "MalformedJson"
    assert loads(b'{"name": "\\ud83d\\ude00"}') == {"name": "\U0001F600"}  # a proper pair is one character


def test_raw_control_characters_in_strings_are_refused():
    assert refused(b'{"name": "a\x01b"}').code == "MalformedJson"


def test_the_message_never_echoes_the_body():
    secret = "s3cr3t-value-that-must-not-leak"
    for body in (f'{{"k": "{secret}", "k": 1}}', f'{{"{secret}": NaN}}', f'[{secret}]'):
        assert secret not in str(refused(body))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                                max_size=4),
                    max_leaves=30))
def test_whatever_json_dumps_writes_is_read_back(value):
    try:
        text = json.dumps(value, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return  # not JSON that could travel (a lone surrogate from st.text)
    assert loads(text.encode()) == value


@pytest.mark.parametrize("count", ["3", True, 3.0])
def test_a_count_must_be_a_json_integer(count):
    request, violations = check({"name": "c1", "resourceGroup": "rg", "location": "westeurope",
                                 "systemPool": {"count": count}}, default_subscription_id=SUB)
    assert request is None
    assert [(v.code, v.path) for v in violations] == [("SCHEMA_TYPE", "/systemPool/count")]


@pytest.mark.parametrize("price", [float("nan"), float("inf"), float("-inf")])
def test_a_spot_max_price_must_be_finite(price):
    raw = {"name": "c1", "resourceGroup": "rg", "location": "westeurope",
           "userPools": [{"name": "batch", "spot": {"maxPrice": price}}]}
    request, violations = check(raw, default_subscription_id=SUB)
    assert request is None
    assert [(v.code, v.path) for v in violations] == [("SCHEMA_TYPE", "/userPools/0/spot/maxPrice")]
    assert "finite" in violations[0].message
