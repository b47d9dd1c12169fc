"""RFC 9457 problem details: every error the HTTP API returns has this shape."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse

from shared.services.problems import Problem

PROBLEM_JSON = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
          503: "Service Unavailable"}


def problem(status: int, code: str, detail: str, instance: str, *, errors: list[dict] | None = None,
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"type": f"https://aksvend.dev/problems/{code}", "title": TITLES.get(status, "Error"), "status": status,
            "code": code, "detail": detail, "instance": instance}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def problem_from(exc: Problem, instance: str) -> JSONResponse:
    errors = [v.to_dict() for v in exc.violations] if exc.violations or exc.status == 422 else None
    return problem(exc.status, exc.code, exc.detail, instance, errors=errors)
