"""Path parameters for the OpenAPI document. Handlers read them from `request.path_params` rather than as
annotated arguments, because FastAPI's analysis of annotated parameters imports pydantic.v1 at cold start."""

from __future__ import annotations

from typing import Any


def path_parameters(*names: str) -> dict[str, Any]:
    return {"parameters": [{"name": n, "in": "path", "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 256}} for n in names]}
