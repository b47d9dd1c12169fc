"""Named ticket fields to request values: ServiceNow sends every variable as a string, Jira select fields as
`{"value": ...}` objects and numbers as floats. `convert(value, type)` returns the value the request field
wants, or `Invalid(rule)` saying what was expected (never echoing the value: it is caller input).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["FieldType", "Invalid", "convert", "scalar"]

FieldType = Literal["auto", "string", "integer", "number", "boolean", "list", "json"]


@dataclass(frozen=True, slots=True)
class Invalid:
    rule: str


def scalar(value: Any) -> str | None:
    """A string or number as trimmed text (3.0 -> "3"); None for anything else or blank."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


def convert(value: Any, kind: FieldType) -> Any:
    """A payload value as the request field wants it (ServiceNow sends every variable as a string)."""
    if kind == "auto":
        return value
    if kind == "list":
        if isinstance(value, list):
            # Jira multi-select fields are lists of {"value": ...}.
            return [v["value"] if isinstance(v, dict) and "value" in v else v for v in value]
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return Invalid("expected a list or a comma-separated string")
    if kind == "json":
        if isinstance(value, dict | list):
            return value
        try:
            return json.loads(value) if isinstance(value, str) else Invalid("expected JSON text")
        except (json.JSONDecodeError, RecursionError):
            return Invalid("expected JSON text")
    if isinstance(value, dict) and "value" in value:
        value = value["value"]  # Jira single-select fields are {"value": "production", "id": "10020"}
    if kind == "string":
        text = scalar(value)
        return text if text is not None else Invalid("expected a string")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = value.strip().lower() if isinstance(value, str) else None
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        return Invalid("expected true or false")
    return _number(value, integer=kind == "integer")


def _number(value: Any, *, integer: bool) -> Any:
    wrong = Invalid("expected a whole number" if integer else "expected a number")
    if isinstance(value, bool):
        return wrong
    if isinstance(value, str):
        try:
            value = float(value.strip()) if not integer or not value.strip().lstrip("+-").isdigit() \
                else int(value.strip())
        except ValueError:
            return wrong
    if isinstance(value, float) and integer:
        return int(value) if value.is_integer() else wrong
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    return wrong
