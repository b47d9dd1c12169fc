"""Map Azure SDK exceptions to aksvend's error tree (`shared.errors`), at the adapter edge: the one place that does.

Every adapter (ARM, tables, queues, Event Grid, Key Vault) runs its SDK calls inside ``with sdk_errors(...):``,
so that services and the engine see only aksvend's errors, never azure-core types. A call whose SDK exceptions
mean something particular names them: ``sdk_errors({ResourceExistsError: conflict})`` turns an insert that
finds the entity into `ConflictError`; a stale etag or pop receipt becomes `PreconditionFailedError`. Everything
else goes through `to_aksvend_error`, whose decision is `shared.errors.classify`; this module only extracts its
inputs:

* `HttpResponseError` (and its subclasses, including the one azure-core raises when a long-running operation
  ends Failed/Canceled, whose status is the 200 of the last poll): status, ARM code, message, target, and the
  server's retry hint (``retry-after-ms``, ``x-ms-retry-after-ms``, then ``Retry-After`` in seconds or as an
  HTTP date).
* `ServiceRequestError` / `ServiceResponseError` (no response, or a connection dropped mid-response) and
  `TimeoutError`: status None, a connection error.
* Any other `AzureError`, and an `HttpResponseError` without a response, is fatal with the exception's class
  name as code: the SDK refused the call locally (a serialization or redirect problem), which retrying the
  same call cannot fix.

Anything that is not an Azure SDK error (a bug in aksvend) is not mapped: it raises TypeError, so that bugs
never masquerade as ARM outcomes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError

from shared.errors import AksvendError, FatalError, classify

__all__ = ["Special", "error_code", "parse_retry_after", "sdk_errors", "to_aksvend_error"]

# What one call makes of one SDK exception class: an aksvend error, or None for the general mapping.
Special = Callable[[Any], AksvendError | None]


@contextmanager
def sdk_errors(on: Mapping[type[AzureError], Special] | None = None, *, chain: bool = True) -> Iterator[None]:
    """Run the block; an Azure SDK exception raised in it leaves as an aksvend error.

    `on`: exception classes that mean something particular to this call, tried in order (by isinstance) before
    `to_aksvend_error`; a function returning None leaves the exception to the general mapping. `chain=False`
    raises the aksvend error `from None`, for calls whose SDK exception should not ride along in tracebacks.
    Anything that is not an `AzureError` (aksvend's own errors, bugs) passes through untouched.
    """
    try:
        yield
    except AzureError as exc:
        mapped = _special(exc, on or {}) or to_aksvend_error(exc)
        if chain:
            raise mapped from exc
        raise mapped from None


def _special(exc: AzureError, on: Mapping[type[AzureError], Special]) -> AksvendError | None:
    for kind, special in on.items():
        if isinstance(exc, kind):
            mapped = special(exc)
            if mapped is not None:
                return mapped
    return None


def error_code(exc: BaseException) -> str | None:
    """The service's error code the SDK put on the exception: the storage SDKs set `error_code` from the
    x-ms-error-code header, as an enum (StorageErrorCode, TableErrorCode) or a string."""
    code = getattr(exc, "error_code", None)
    code = getattr(code, "value", code)
    return code if isinstance(code, str) else None


def to_aksvend_error(exc: BaseException) -> AksvendError:
    """Return the aksvend error an Azure SDK exception stands for (see the module docstring)."""
    if isinstance(exc, AksvendError):
        return exc
    if isinstance(exc, HttpResponseError):
        return _from_http_response_error(exc)
    if isinstance(exc, ServiceRequestError | ServiceResponseError | TimeoutError):
        return classify(None, None, _first_line(exc) or type(exc).__name__)
    if isinstance(exc, AzureError):
        return FatalError(type(exc).__name__, _first_line(exc))
    raise TypeError(f"not an Azure SDK error: {type(exc).__name__}") from exc


def _from_http_response_error(exc: HttpResponseError) -> AksvendError:
    if exc.response is None and exc.status_code is None:
        # Raised by the SDK itself, without a response (too many redirects, a client-side check).
        return FatalError(type(exc).__name__, _first_line(exc))
    code, message, target = _error_fields(exc)
    headers: Mapping[str, str] = getattr(exc.response, "headers", None) or {}
    return classify(exc.status_code, code, message, parse_retry_after(headers), target)


def _error_fields(exc: HttpResponseError) -> tuple[str | None, str, str | None]:
    """(code, message, target) from the ARM error body, else from what the SDK put on the exception."""
    if exc.error is not None:
        return exc.error.code, exc.error.message or "", exc.error.target
    code = error_code(exc)
    status = _json_body(exc).get("status")
    if code is None and isinstance(status, str):
        code = status  # an LRO poll {"status": "Canceled"} without an error object
    return code, _first_line(exc), None


def _json_body(exc: HttpResponseError) -> Mapping[str, object]:
    try:
        body = json.loads(exc.response.text()) if exc.response is not None else {}
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return str(text).strip().splitlines()[0] if str(text).strip() else ""


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, or None when it said nothing usable."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        seconds = _number(lowered.get(name))
        if seconds is not None:
            return max(0.0, seconds / 1000.0)
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
