"""Reading JSON from outside (request bodies, webhook deliveries, the Easy Auth principal header): strict, bounded.

Python's `json.loads` is lenient where an API must not be, and fragile where an attacker can reach:

* it guesses UTF-16 and UTF-32 from a `bytes` body; RFC 8259 section 8.1 says JSON between systems is UTF-8, so a
  body that is not valid UTF-8 (or starts with a byte order mark) is refused;
* it accepts `NaN`, `Infinity` and `-Infinity`, which are not JSON, and reads `1e400` as infinity: both refused;
* a duplicate key silently takes the last value (RFC 8259 section 4: names SHOULD be unique; behaviour is then
  unpredictable): refused, naming the key;
* 1,000 nested arrays (2 KB) raise `RecursionError` in the parser or in whatever walks the result later: nesting is
  bounded (`MAX_DEPTH`), checked without recursion;
* `"\\ud800"` decodes to a lone surrogate that no UTF-8 encoder (Table Storage, logs, the response) can write:
  refused.

`loads(body)` returns the value or raises `JsonRefused` with a stable `code` and a message that names the place (line
and column, or the JSON pointer of the key) and never echoes the input.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64  # a cluster request nests 5 levels deep; Event Grid events and tickets well under 20

__all__ = ["MAX_DEPTH", "JsonRefused", "loads"]


class JsonRefused(ValueError):
    """The text is not JSON aksvend accepts. `code`: MalformedJson, DuplicateKey, TooDeep or NotUtf8."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def loads(body: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    text = _text(body)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                           parse_float=_finite_float)
    except JsonRefused:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRefused("MalformedJson", f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                                           f"{exc.colno})") from None
    except RecursionError:
        raise JsonRefused("TooDeep", f"the JSON nests deeper than {max_depth} levels") from None
    _check_shape(value, max_depth)
    return value


def _text(body: bytes | bytearray | str) -> str:
    if isinstance(body, str):
        return body
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRefused("NotUtf8", f"the body is not UTF-8 (byte {exc.start}); send JSON as UTF-8") from None
    if text.startswith("\ufeff"):
        raise JsonRefused("NotUtf8", "the body starts with a byte order mark; send JSON as UTF-8 without one")
    if "\x00" in text:  # never valid in JSON text; the mark of UTF-16 or UTF-32 without a byte order mark
        raise JsonRefused("NotUtf8", "the body holds NUL bytes (UTF-16 or UTF-32?); send JSON as UTF-8")
    return text


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = key[:64].encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            raise JsonRefused("DuplicateKey", f"the key '{shown}' appears twice in one object; each key once")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise JsonRefused("MalformedJson", f"'{name}' is not a JSON value (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused("MalformedJson", "a number is too large to be finite (numbers must be finite)")
    return value


def _check_shape(value: Any, max_depth: int) -> None:
    """Depth within the bound and every string writable as UTF-8, walked with a stack (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _utf8(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise JsonRefused("TooDeep", f"the JSON nests deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _utf8(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused("MalformedJson", "a string holds a lone surrogate (\\ud800-\\udfff), which is not "
                                           "text; send valid Unicode") from None
