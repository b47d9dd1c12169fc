"""Azure SDK exceptions, built from canned responses as azure-core builds them, mapped to aksvend's errors
(`shared.adapters.sdk_errors`, the one mapping every adapter uses)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
    TooManyRedirectsError,
)
from azure.core.pipeline.transport import HttpRequest, HttpResponse
from azure.data.tables import TableErrorCode

from shared.adapters.sdk_errors import error_code, parse_retry_after, sdk_errors, to_aksvend_error
from shared.errors import ConflictError, FatalError, RetryableError

CLUSTER_URL = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-08-01"
)


class CannedResponse(HttpResponse):
    """A transport response with a fixed status, headers and body: what the pipeline hands to exceptions."""

    def __init__(self, status: int, body: object = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(HttpRequest("PUT", CLUSTER_URL), internal_response=None)
        self.status_code = status
        self.reason = "canned"
        self.headers = headers or {}
        self.content_type = "application/json"
        self._body = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""

    def body(self) -> bytes:
        return self._body


def arm_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: str
) -> HttpResponseError:
    body = {"error": {"code": code, "message": message, **extra}}
    return HttpResponseError(response=CannedResponse(status, body, headers))


def test_a_409_another_operation_in_progress_is_retryable():
    exc = arm_error(409, "OperationNotAllowed", "Another operation (Updating) is in progress, please wait.")

    error = to_aksvend_error(exc)

    assert isinstance(error, RetryableError)
    assert error.code == "OperationNotAllowed"
    assert error.message == "Another operation (Updating) is in progress, please wait."


def test_a_throttled_429_carries_retry_after_seconds():
    error = to_aksvend_error(arm_error(429, "Throttled", "limit exceeded", {"Retry-After": "17"}))

    assert isinstance(error, RetryableError)
    assert error.delay_seconds == 17.0


def test_retry_after_ms_wins_over_retry_after():
    exc = arm_error(429, "Throttled", "limit exceeded", {"retry-after-ms": "1500", "Retry-After": "17"})

    assert to_aksvend_error(exc).delay_seconds == 1.5


def test_a_quota_error_is_fatal_with_code_message_and_target():
    exc = arm_error(409, "QuotaExceeded", "Operation results in exceeding quota limits of Core.", target="vmSize")

    error = to_aksvend_error(exc)

    assert isinstance(error, FatalError)
    assert (error.code, error.message, error.target) == (
        "QuotaExceeded",
        "Operation results in exceeding quota limits of Core.",
        "vmSize",
    )


def test_resource_not_found_subclass_is_fatal():
    body = {"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg' could not be found."}}
    exc = ResourceNotFoundError(response=CannedResponse(404, body))

    error = to_aksvend_error(exc)

    assert isinstance(error, FatalError)
    assert error.code == "ResourceGroupNotFound"


def test_a_503_without_a_json_body_is_retryable_by_status():
    error = to_aksvend_error(HttpResponseError(response=CannedResponse(503, b"<html>Service Unavailable</html>")))

    assert isinstance(error, RetryableError)
    assert error.code == "HTTP503"


def test_a_400_without_a_json_body_is_fatal_by_status():
    assert isinstance(to_aksvend_error(HttpResponseError(response=CannedResponse(400, b"bad"))), FatalError)


def test_a_long_running_operation_that_failed_reports_the_operation_error():
    # azure-core raises HttpResponseError(response=<last poll>, error=OperationFailed) when the LRO ends Failed.
    poll = CannedResponse(200, {"status": "Failed", "error": {"code": "QuotaExceeded", "message": "no cores"}})

    error = to_aksvend_error(HttpResponseError(response=poll, error=RuntimeError("Operation failed or canceled")))

    assert isinstance(error, FatalError)
    assert error.code == "QuotaExceeded"


def test_a_long_running_operation_canceled_by_a_later_one_is_retryable():
    error = {"code": "Canceled", "message": "overridden and canceled by a later operation"}
    poll = CannedResponse(200, {"status": "Canceled", "error": error})

    assert isinstance(to_aksvend_error(HttpResponseError(response=poll)), RetryableError)


def test_a_long_running_operation_canceled_without_an_error_object_is_fatal():
    poll = CannedResponse(200, {"status": "Canceled"})

    error = to_aksvend_error(HttpResponseError(response=poll))

    assert isinstance(error, FatalError)
    assert error.code == "Canceled"


def test_storage_style_error_code_attribute_is_used():
    exc = ResourceExistsError(message="The specified entity already exists.", response=CannedResponse(409, b""))
    exc.error_code = "EntityAlreadyExists"

    error = to_aksvend_error(exc)

    assert isinstance(error, RetryableError)  # a bare 409 retries unless its code is known to be fatal
    assert error.code == "EntityAlreadyExists"


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(ServiceRequestError("Cannot connect to host 127.0.0.1:1"), id="ServiceRequestError"),
        pytest.param(ServiceResponseError("Connection reset by peer"), id="ServiceResponseError"),
        pytest.param(ServiceResponseTimeoutError("read timed out"), id="ServiceResponseTimeoutError"),
        pytest.param(TimeoutError(), id="TimeoutError"),
    ],
)
def test_connection_failures_are_retryable(exc):
    error = to_aksvend_error(exc)

    assert isinstance(error, RetryableError)
    assert error.code == "ConnectionError"


def test_a_decode_error_on_a_200_is_retryable():
    # The body of a successful response was garbled (a proxy, a truncated read); sending again may work.
    exc = DecodeError(message="Unable to deserialize", response=CannedResponse(200, b"{"))

    assert isinstance(to_aksvend_error(exc), RetryableError)


def test_other_sdk_errors_are_fatal_with_their_class_name():
    error = to_aksvend_error(TooManyRedirectsError(history=[]))

    assert isinstance(error, FatalError)
    assert error.code == "TooManyRedirectsError"


def test_aksvend_errors_pass_through():
    original = FatalError("InvalidParameter", "x")

    assert to_aksvend_error(original) is original


def test_non_sdk_exceptions_are_not_disguised():
    with pytest.raises(TypeError):
        to_aksvend_error(KeyError("bug"))


class TestSdkErrors:
    """`with sdk_errors(...)`: what every adapter wraps its SDK calls in."""

    def test_an_sdk_error_in_the_block_leaves_as_the_mapped_error_chained_to_it(self):
        exc = arm_error(429, "TooManyRequests", "slow down", {"Retry-After": "7"})

        with pytest.raises(RetryableError) as raised, sdk_errors():
            raise exc

        assert raised.value.delay_seconds == 7.0 and raised.value.__cause__ is exc

    def test_a_special_mapping_of_the_call_wins_over_the_general_one(self):
        conflict = ConflictError("it exists")

        with pytest.raises(ConflictError) as raised, sdk_errors({ResourceExistsError: lambda _: conflict}):
            raise ResourceExistsError(message="exists", response=CannedResponse(409, b""))

        assert raised.value is conflict

    def test_a_special_mapping_that_returns_none_leaves_the_error_to_the_general_one(self):
        with pytest.raises(FatalError) as raised, sdk_errors({HttpResponseError: lambda _: None}):
            raise arm_error(400, "InvalidParameter", "bad")

        assert raised.value.code == "InvalidParameter"

    def test_special_mappings_only_apply_to_their_exception_classes(self):
        with pytest.raises(RetryableError), sdk_errors({ResourceNotFoundError: lambda _: ConflictError("no")}):
            raise arm_error(503, "ServiceUnavailable", "later")

    def test_without_chaining_the_sdk_error_stays_out_of_the_traceback(self):
        with pytest.raises(FatalError) as raised, sdk_errors(chain=False):
            raise arm_error(403, "AuthorizationFailed", "no role")

        assert raised.value.__cause__ is None and raised.value.__suppress_context__

    def test_errors_that_are_not_from_the_sdk_pass_through_untouched(self):
        bug = KeyError("bug")

        with pytest.raises(KeyError) as raised, sdk_errors():
            raise bug

        assert raised.value is bug

    def test_the_storage_error_code_is_read_from_an_enum_or_a_string(self):
        exc = ResourceExistsError(message="exists", response=CannedResponse(409, b""))
        exc.error_code = TableErrorCode.ENTITY_ALREADY_EXISTS

        assert error_code(exc) == "EntityAlreadyExists"
        assert error_code(arm_error(409, "Conflict", "x")) is None


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            pytest.param({"Retry-After": "30"}, 30.0, id="seconds"),
            pytest.param({"retry-after": "2.5"}, 2.5, id="lowercase-fractional"),
            pytest.param({"x-ms-retry-after-ms": "250"}, 0.25, id="x-ms-retry-after-ms"),
            pytest.param({"Retry-After": "-5"}, 0.0, id="negative-is-now"),
            pytest.param({"Retry-After": "soon"}, None, id="garbage"),
            pytest.param({"Retry-After": "inf"}, None, id="infinite"),
            pytest.param({}, None, id="absent"),
        ],
    )
    def test_numeric_and_missing_values(self, headers, expected):
        assert parse_retry_after(headers) == expected

    def test_an_http_date_is_relative_to_now(self):
        now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

        assert parse_retry_after({"Retry-After": "Thu, 01 Jan 2026 12:00:42 GMT"}, now=now) == 42.0

    def test_an_http_date_in_the_past_means_now(self):
        now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

        assert parse_retry_after({"Retry-After": "Thu, 01 Jan 2026 11:00:00 GMT"}, now=now) == 0.0
