"""The classifier: one case per ARM code and status rule, and the backoff arithmetic."""

from __future__ import annotations

import pytest

from shared.errors import (
    FATAL_CODES,
    RETRYABLE_CODES,
    AksvendError,
    ConflictError,
    FatalError,
    PayloadTooLargeError,
    PreconditionFailedError,
    RetryableError,
    StorageError,
    backoff_delay,
    classify,
)

ANOTHER_OPERATION = (
    "Operation is not allowed: Another operation (Updating) is in progress, please wait for it to finish "
    "before starting a new operation."
)
IN_PROGRESS = (  # current AKS wording (2026)
    "Operation is not allowed because there's an in progress update node pool operation (operation ID: 84d90bcb) on "
    "the agent pool system started on UTC 2026-02-12T03:41:29Z. Please wait for it to finish before starting a new "
    "operation."
)
QUOTA = "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota."

RETRYABLE_CASES = [
    pytest.param(429, "Throttled", "request limit has been exceeded", id="429-Throttled"),
    pytest.param(429, "SubscriptionRequestsThrottled", "", id="429-SubscriptionRequestsThrottled"),
    pytest.param(429, "TooManyRequestsReceived", "", id="429-TooManyRequestsReceived"),
    pytest.param(429, "TooManyRequests", "", id="429-TooManyRequests"),
    pytest.param(429, "RetryableErrorDueToAnotherOperation", "", id="429-RetryableErrorDueToAnotherOperation"),
    pytest.param(409, "RetryableErrorDueToAnotherOperation", "", id="409-RetryableErrorDueToAnotherOperation"),
    pytest.param(409, "OperationNotAllowed", ANOTHER_OPERATION, id="409-OperationNotAllowed-another-operation"),
    pytest.param(400, "OperationNotAllowed", ANOTHER_OPERATION, id="400-OperationNotAllowed-another-operation"),
    pytest.param(400, "OperationNotAllowed", IN_PROGRESS, id="400-OperationNotAllowed-in-progress"),
    pytest.param(409, "OperationNotAllowed", IN_PROGRESS, id="409-OperationNotAllowed-in-progress"),
    pytest.param(409, "OperationNotAllowed", "", id="409-OperationNotAllowed-no-message"),
    pytest.param(409, "AnotherOperationInProgress", "", id="409-AnotherOperationInProgress"),
    pytest.param(409, "Conflict", "Another operation on this or dependent resource is in progress.", id="409-Conflict"),
    pytest.param(409, "AKSOperationPreempted", "preempted by another operation with ID x", id="AKSOperationPreempted"),
    pytest.param(200, "Canceled", "overridden and canceled by a later operation", id="lro-Canceled-by-later-op"),
    pytest.param(409, "OperationCanceled", "canceled by a later operation", id="OperationCanceled-by-later-op"),
    pytest.param(400, "PrincipalNotFound", "Principal x does not exist in the directory", id="PrincipalNotFound"),
    pytest.param(400, "ReferencedResourceNotProvisioned", "", id="ReferencedResourceNotProvisioned"),
    pytest.param(400, "VirtualNetworkNotInSucceededState", "", id="VirtualNetworkNotInSucceededState"),
    pytest.param(500, "InternalServerError", "", id="500-InternalServerError"),
    pytest.param(500, "InternalError", "", id="500-InternalError"),
    pytest.param(503, "ServiceUnavailable", "", id="503-ServiceUnavailable"),
    pytest.param(503, "ServerBusy", "", id="503-ServerBusy"),
    pytest.param(504, "GatewayTimeout", "", id="504-GatewayTimeout"),
    pytest.param(408, "RequestTimeout", "", id="408-RequestTimeout"),
    pytest.param(500, "RetryableError", "", id="RetryableError"),
    pytest.param(502, None, "", id="502-no-code"),
    pytest.param(500, "SomethingNew", "", id="5xx-unknown-code"),
    pytest.param(408, None, "", id="408-no-code"),
    pytest.param(429, None, "", id="429-no-code"),
    pytest.param(412, "PreconditionFailed", "", id="412-etag-changed"),
    pytest.param(200, "SomethingNew", "the operation failed", id="lro-failed-unknown-code"),
    pytest.param(None, None, "Connection refused", id="connection-error"),
]

# AKS's preflight quota refusal (400), also as the error of a long-running operation that ended Failed (200 poll).
AKS_QUOTA = ("Insufficient regional vcpu quota left for location westeurope. left regional vcpu quota 0, requested "
             "quota 8. If you want to increase the quota, please follow this instruction: "
             "https://learn.microsoft.com/en-us/azure/quotas/view-quotas")

FATAL_CASES = [
    pytest.param(400, "InvalidParameter", "", id="InvalidParameter"),
    pytest.param(400, "InvalidParameterValue", "", id="InvalidParameterValue"),
    pytest.param(400, "BadRequest", "", id="BadRequest"),
    pytest.param(400, "BadRequestFormat", "", id="BadRequestFormat"),
    pytest.param(400, "InvalidRequestContent", "", id="InvalidRequestContent"),
    pytest.param(400, "InvalidRequestFormat", "", id="InvalidRequestFormat"),
    pytest.param(400, "InvalidTemplate", "", id="InvalidTemplate"),
    pytest.param(400, "InvalidValuesForRequestParameters", "", id="InvalidValuesForRequestParameters"),
    pytest.param(400, "InvalidResourceGroupLocation", "", id="InvalidResourceGroupLocation"),
    pytest.param(400, "InvalidResourceReference", "", id="InvalidResourceReference"),
    pytest.param(400, "InvalidResourceType", "", id="InvalidResourceType"),
    pytest.param(400, "LocationRequired", "", id="LocationRequired"),
    pytest.param(400, "MissingRequiredParameter", "", id="MissingRequiredParameter"),
    pytest.param(400, "PropertyChangeNotAllowed", "", id="PropertyChangeNotAllowed"),
    pytest.param(400, "ReservedResourceName", "", id="ReservedResourceName"),
    pytest.param(409, "QuotaExceeded", "Operation results in exceeding quota limits of Core.", id="QuotaExceeded"),
    pytest.param(409, "ResourceQuotaExceeded", "", id="ResourceQuotaExceeded"),
    pytest.param(400, "ErrCode_InsufficientVCPUQuota", AKS_QUOTA, id="ErrCode_InsufficientVCPUQuota"),
    pytest.param(200, "ErrCode_InsufficientVCPUQuota", AKS_QUOTA, id="ErrCode_InsufficientVCPUQuota-failed-operation"),
    pytest.param(409, "OperationNotAllowed", QUOTA, id="409-OperationNotAllowed-quota"),
    pytest.param(400, "OperationNotAllowed", "Adding agent pools to an existing cluster is not allowed", id="400-ONA"),
    pytest.param(400, "PublicIPCountLimitReached", "", id="PublicIPCountLimitReached"),
    pytest.param(409, "AllocationFailed", "", id="AllocationFailed"),
    pytest.param(409, "ZonalAllocationFailed", "", id="ZonalAllocationFailed"),
    pytest.param(400, "SkuNotAvailable", "", id="SkuNotAvailable"),
    pytest.param(400, "AKSCapacityHeavyUsage", "", id="AKSCapacityHeavyUsage"),
    pytest.param(403, "RequestDisallowedByPolicy", "", id="RequestDisallowedByPolicy"),
    pytest.param(403, "AuthorizationFailed", "", id="AuthorizationFailed"),
    pytest.param(403, "LinkedAuthorizationFailed", "", id="LinkedAuthorizationFailed"),
    pytest.param(401, "InvalidAuthenticationToken", "", id="InvalidAuthenticationToken"),
    pytest.param(409, "MissingSubscriptionRegistration", "", id="MissingSubscriptionRegistration"),
    pytest.param(409, "ScopeLocked", "", id="ScopeLocked"),
    pytest.param(404, "ResourceNotFound", "", id="ResourceNotFound"),
    pytest.param(404, "ResourceGroupNotFound", "", id="ResourceGroupNotFound"),
    pytest.param(404, "ParentResourceNotFound", "", id="ParentResourceNotFound"),
    pytest.param(404, "NotFound", "", id="NotFound"),
    pytest.param(404, "SubscriptionNotFound", "", id="SubscriptionNotFound"),
    pytest.param(409, "AKSOperationPreemptedByDelete", "preempted by Deleting operation", id="PreemptedByDelete"),
    pytest.param(200, "Canceled", "", id="lro-Canceled-by-abort"),
    pytest.param(400, None, "", id="400-no-code"),
    pytest.param(401, None, "", id="401-no-code"),
    pytest.param(403, None, "", id="403-no-code"),
    pytest.param(404, None, "", id="404-no-code"),
    pytest.param(422, "SomethingNew", "", id="4xx-unknown-code"),
]


@pytest.mark.parametrize(("status", "code", "message"), RETRYABLE_CASES)
def test_transient_failures_are_retryable(status, code, message):
    outcome = classify(status, code, message)

    assert isinstance(outcome, RetryableError)
    assert outcome.message == message


@pytest.mark.parametrize(("status", "code", "message"), FATAL_CASES)
def test_permanent_failures_are_fatal_and_keep_the_arm_code(status, code, message):
    outcome = classify(status, code, message, target="properties.agentPoolProfiles[0].vmSize")

    assert isinstance(outcome, FatalError)
    assert outcome.code == (code or f"HTTP{status}")
    assert outcome.message == message
    assert outcome.target == "properties.agentPoolProfiles[0].vmSize"


def test_every_listed_code_has_a_case():
    covered = {case.values[1] for case in RETRYABLE_CASES + FATAL_CASES}

    assert not (RETRYABLE_CODES | FATAL_CODES) - covered


def test_no_code_is_both_retryable_and_fatal():
    assert not RETRYABLE_CODES & FATAL_CODES


def test_retry_after_becomes_the_delay():
    outcome = classify(429, "Throttled", "slow down", retry_after=17.0)

    assert isinstance(outcome, RetryableError)
    assert outcome.delay_seconds == 17.0


def test_without_retry_after_the_delay_is_left_to_the_caller():
    outcome = classify(409, "OperationNotAllowed", ANOTHER_OPERATION)

    assert isinstance(outcome, RetryableError)
    assert outcome.delay_seconds is None


def test_a_negative_retry_after_means_now():
    outcome = classify(503, None, retry_after=-3)

    assert isinstance(outcome, RetryableError)
    assert outcome.delay_seconds == 0.0


def test_connection_errors_get_a_code_for_the_status_report():
    outcome = classify(None, None, "Connection refused")

    assert outcome.code == "ConnectionError"


def test_a_retryable_code_on_a_fatal_status_stays_retryable():
    # AKS answers 400 for some throttling paths; the code is the better witness.
    assert isinstance(classify(400, "Throttled"), RetryableError)


def test_a_fatal_code_on_a_retryable_status_stays_fatal():
    assert isinstance(classify(500, "InvalidParameter"), FatalError)


def test_the_exception_tree():
    for kind in (RetryableError, FatalError, StorageError):
        assert issubclass(kind, AksvendError)
    for kind in (ConflictError, PreconditionFailedError, PayloadTooLargeError):
        assert issubclass(kind, StorageError)


def test_the_message_names_code_and_text():
    assert str(FatalError("QuotaExceeded", "no cores")) == "QuotaExceeded: no cores"
    assert str(RetryableError("Throttled")) == "Throttled"


class TestBackoff:
    @pytest.mark.parametrize(
        ("attempt", "random_value", "expected"),
        [
            pytest.param(0, 0.0, 1.0, id="first-retry-lowest"),
            pytest.param(0, 0.999, 1.999, id="first-retry-highest"),
            pytest.param(1, 0.5, 3.0, id="second-retry-middle"),
            pytest.param(3, 0.0, 8.0, id="fourth-retry-lowest"),
            pytest.param(20, 0.0, 150.0, id="capped-lowest"),
            pytest.param(20, 1.0, 300.0, id="capped-highest"),
            pytest.param(10_000, 0.5, 225.0, id="huge-attempt-does-not-overflow"),
            pytest.param(-1, 0.0, 1.0, id="negative-attempt-is-first"),
        ],
    )
    def test_grows_exponentially_with_equal_jitter_up_to_the_cap(self, attempt, random_value, expected):
        assert backoff_delay(attempt, lambda: random_value) == pytest.approx(expected)

    def test_retry_after_is_a_floor(self):
        assert backoff_delay(0, lambda: 0.0, retry_after=30.0) == 30.0

    def test_retry_after_is_not_capped(self):
        assert backoff_delay(0, lambda: 0.0, cap_seconds=10.0, retry_after=600.0) == 600.0

    def test_a_short_retry_after_does_not_shorten_the_backoff(self):
        assert backoff_delay(5, lambda: 0.0, retry_after=1.0) == 32.0

    def test_base_and_cap_are_parameters(self):
        assert backoff_delay(2, lambda: 1.0, base_seconds=0.5, cap_seconds=1.5) == 1.5
