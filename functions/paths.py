"""Path parameters: what each one may be, checked before anything else is done with a request, and how the OpenAPI
document describes them.

A route reads its parameters with `valid(request, *names)`, which refuses a value that is not a valid name with 400
`InvalidPath`, naming the parameter (never echoing the value), before the caller, the policy or the registry are
asked anything. The rules are those of the request contract (shared/domain/rules/: ARM's and AKS's naming rules), so
a segment that passes is a name aksvend could have created; tests/unit/test_http_paths.py holds the two together.

Handlers take their parameters from `request.path_params` rather than as annotated arguments, because FastAPI's
analysis of annotated parameters imports pydantic.v1 at cold start.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from shared.refusals import MalformedInput

GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# name -> (pattern, what a valid value is). Matched whole (re.fullmatch: a trailing newline never passes for `$`).
RULES: dict[str, tuple[str, str]] = {
    "subscription_id": (GUID, "a subscription id (a GUID)"),
    "resource_group": (r"^[-\w.()]{0,89}[-\w()]$",
                       "a resource group name (1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.')"),
    "name": (r"^[a-zA-Z0-9](?:[-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$",
             "a cluster name (1-63 letters, digits, '-' or '_', starting and ending with a letter or digit)"),
    "pool": (r"^[a-z][a-z0-9]{0,11}$", "a pool name (1-12 lowercase letters and digits, starting with a letter)"),
    "operation_id": (GUID, "an operation id (a GUID)"),
}
_COMPILED = {name: re.compile(pattern) for name, (pattern, _) in RULES.items()}


def valid(request: Request, *names: str) -> tuple[str, ...]:
    """The values of these path parameters, each a valid name, or 400 `InvalidPath` naming the first that is not."""
    values = tuple(str(request.path_params.get(name, "")) for name in names)
    for name, value in zip(names, values, strict=True):
        if not _COMPILED[name].fullmatch(value):
            raise MalformedInput("InvalidPath", f"the path segment {{{name}}} is not {RULES[name][1]}")
    return values


def path_parameters(*names: str) -> dict[str, Any]:
    """The OpenAPI `parameters` of these path parameters: the patterns `valid` checks, or any short string."""
    return {"parameters": [{"name": n, "in": "path", "required": True, "schema": _schema(n)} for n in names]}


def _schema(name: str) -> dict[str, Any]:
    if name not in RULES:
        return {"type": "string", "minLength": 1, "maxLength": 256}
    pattern, what = RULES[name]
    return {"type": "string", "pattern": pattern, "description": what}
