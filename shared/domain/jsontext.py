"""Reading JSON from outside (request bodies, webhook deliveries, the Easy Auth principal header): strict, bounded.

Python's `json.loads` is lenient where an API must not be, and fragile where an attacker can reach:

* it guesses UTF-16 and UTF-32 from a `bytes` body; RFC 8259 section 8.1 says JSON between systems is UTF-8, so a
  body that is not valid UTF-8 (or starts with a byte order mark) is refused;
* it accepts `NaN`, `Infinity` and `-Infinity`, which are not JSON, reads `1e400` as infinity, and raises a bare
  `ValueError` for an integer of more than 4,300 digits: all refused as `NotFinite`, naming the JSON pointer of the
  number (a caller can then be told which field is wrong);
* a duplicate key silently takes the last value (RFC 8259 section 4: names SHOULD be unique; behaviour is then
  unpredictable): refused, naming the key;
* 1,000 nested arrays (2 KB) raise `RecursionError` in the parser or in whatever walks the result later: nesting is
  bounded (`MAX_DEPTH`), checked without recursion;
* `"\\ud800"` decodes to a lone surrogate that no UTF-8 encoder (Table Storage, logs, the response) can write:
  refused.

`loads(body)` returns the value or raises `JsonRefused` with a stable `code` and a message that names the place (line
and column, or the key) and never echoes a value; a number that is not finite has its JSON pointer in `pointer`.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64  # a cluster request nests 5 levels deep; Event Grid events and tickets well under 20
MAX_NUMBER_DIGITS = 309  # an integer of more digits is beyond any double (1.8e308): as infinite as 1e400

__all__ = ["MAX_DEPTH", "JsonRefused", "loads"]


class JsonRefused(ValueError):
    """The text is not JSON aksvend accepts. `code`: MalformedJson, DuplicateKey, TooDeep, NotUtf8 or NotFinite;
    `pointer`: for NotFinite, the JSON pointer (RFC 6901) of the number ("" for the whole document), else None. The
    pointer names the sender's keys, so it is kept apart from the message (which may be logged)."""

    def __init__(self, code: str, message: str, pointer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.pointer = pointer


class _NotFinite:
    """What the parser puts where a number is not finite; the walk after parsing finds it and names its place."""


_NOT_FINITE = _NotFinite()


def loads(body: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    text = _text(body)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                           parse_float=_finite_float, parse_int=_bounded_int)
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


def _no_constant(name: str) -> Any:  # NaN, Infinity, -Infinity: not JSON, and not finite
    return _NOT_FINITE


def _finite_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _NOT_FINITE


def _bounded_int(text: str) -> Any:
    return int(text) if len(text.lstrip("-")) < MAX_NUMBER_DIGITS else _NOT_FINITE


_Path = tuple[Any, str | int] | None  # (parent's path, key or index): built per node without copying lists


def _check_shape(value: Any, max_depth: int) -> None:
    """Depth within the bound, every number finite and every string writable as UTF-8, walked in document order
    with a stack (no recursion)."""
    stack: list[tuple[Any, int, _Path]] = [(value, 1, None)]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            _utf8(item)
            continue
        if item is _NOT_FINITE:
            raise JsonRefused("NotFinite", "a number is not finite (NaN, Infinity, or beyond \u00b11.8e308); numbers "
                                           "must be finite", _pointer(path))
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise JsonRefused("TooDeep", f"the JSON nests deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key in item:
                _utf8(key)
            stack.extend((child, depth + 1, (path, key)) for key, child in reversed(item.items()))
        else:
            stack.extend((item[i], depth + 1, (path, i)) for i in range(len(item) - 1, -1, -1))


def _pointer(path: _Path) -> str:
    """The JSON pointer of a place; each key cut to 64 characters (a pointer names, it does not echo)."""
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append("/" + str(key)[:64].replace("~", "~0").replace("/", "~1"))
    return "".join(reversed(parts))


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused("MalformedJson", "a string holds a lone surrogate (\\ud800-\\udfff), which is not "
                                           "text; send valid Unicode") from None
