"""RFC 9457 problem details: every error the HTTP API returns has this shape, and `STATUS` is the one table from
the services' refusals (shared/refusals.py) to HTTP status codes. Light to import (cold start): the refusals
import nothing but shared.errors."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fastapi.responses import JSONResponse

from shared.refusals import (
    InConflict,
    InvalidInput,
    MalformedInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    Refused,
    TooLarge,
    Unavailable,
    UnsupportedMediaType,
)

PROBLEM_JSON = "application/problem+json"
STATUS: Mapping[type[Refused], int] = MappingProxyType({
    MalformedInput: 400,
    NotAuthenticated: 401,
    NotPermitted: 403,
    NotFound: 404,
    InConflict: 409,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    Unavailable: 503,
    Refused: 400,  # a refusal of no narrower kind: the request, in some way, was not acceptable
})
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
          503: "Service Unavailable"}


def status_of(refusal: Refused) -> int:
    """The status of the refusal's class, or of the nearest class above it in `STATUS`."""
    return next(STATUS[kind] for kind in type(refusal).__mro__ if kind in STATUS)


def problem(status: int, code: str, detail: str, instance: str, *, errors: list[dict] | None = None,
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"type": f"https://aksvend.dev/problems/{code}", "title": TITLES.get(status, "Error"), "status": status,
            "code": code, "detail": detail, "instance": instance}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def problem_from(refusal: Refused, instance: str) -> JSONResponse:
    status = status_of(refusal)
    errors = [v.to_dict() for v in refusal.violations] if refusal.violations or status == 422 else None
    return problem(status, refusal.code, refusal.detail, instance, errors=errors,
                   headers={"Retry-After": "10"} if status == 503 else None)
