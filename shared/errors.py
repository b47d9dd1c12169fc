"""aksvend's exceptions, and the one place that decides whether an ARM failure is worth retrying.

Our exception hierarchy::

    AksvendError
    ├── RetryableError ........... an ARM (or storage) call failed for a reason that passes: throttling, 5xx,
    │                              a dropped connection, another operation in progress on the same resource.
    │                              `delay_seconds` is the server's Retry-After when it sent one, else None
    │                              (the caller picks a delay with `backoff_delay`).
    ├── FatalError ............... an ARM call failed for a reason that retrying cannot fix: invalid input,
    │                              quota, policy, missing permission, a required target that does not exist.
    │                              The step fails with `code` and `message`; the operation reports them.
    ├── StorageError ............. the state store or the step queue refused a request on our own data.
    │   ├── ConflictError ........ insert of an entity that already exists (someone else created it first).
    │   ├── PreconditionFailedError  the etag or pop receipt we hold is stale: another writer changed or
    │   │                          deleted the entity, or the message was received again by someone else.
    │   └── PayloadTooLargeError . an entity or message does not fit the Azure Storage limits.
    └── Refused .................. what a caller asked for is turned down (shared/refusals.py): a stable `code`,
        │                          a `detail` sentence, the `violations` of invalid input. Services raise them;
        │                          the HTTP edge maps each class to its status (functions/problems.py, STATUS):
        ├── InvalidInput ......... 422  the request breaks rules of the request contract
        ├── MalformedInput ....... 400  not readable: JSON syntax, a header, an event delivery, a handshake
        ├── NotAuthenticated ..... 401  no secret, or a wrong or stale signature
        ├── NotPermitted ......... 403  the caller policy does not allow it
        ├── NotFound ............. 404  no such cluster, pool, operation, ticketing system
        ├── InConflict ........... 409  a name another request owns, a reused key, the system pool, a busy cluster
        ├── TooLarge ............. 413  a body over the limit
        ├── UnsupportedMediaType . 415  a body that is not JSON
        └── Unavailable .......... 503  what the answer needs from ARM could not be read now (try again)

Refusals are classes by what the caller got wrong, not HTTP statuses: the services speak the domain, and the ways
in that are not HTTP (the cluster-requests queue, ticketing, event reactions) catch the classes they care about.

Why two outcome kinds and not one per HTTP status: the engine only ever asks "wait and try again, or give
up and tell the caller?". Keeping that decision in `classify`, a pure function of (status, code, message,
retry_after), lets the domain-free services use it, and lets one table-driven test cover every code.
SDK exceptions are mapped to these at the adapter edge (`shared.adapters.sdk_errors`), never here: this
module imports nothing from Azure.

Classification choices (ARM codes from the ARM and AKS troubleshooting docs and Azure Service Operator's
error classifier; where they disagree, the reason is given):

* A known code decides before the HTTP status does: ARM puts the same code on different statuses
  (OperationNotAllowed comes as 400 and as 409), and a failed long-running operation reports its code in a
  200 status poll.
* `OperationNotAllowed` is read by its message: "another operation ... in progress" is retryable, a quota
  message ("exceeding approved ... quota") is fatal, otherwise the status decides (409 retry, 400 fatal).
* `AKSOperationPreempted` / `Canceled` "by a later operation" are retryable: someone else's operation won,
  ours is still wanted. `AKSOperationPreemptedByDelete` is fatal: the cluster is going away. A plain
  `Canceled` (an abort) is fatal: someone stopped it on purpose.
* `PrincipalNotFound` is retryable: a freshly created managed identity takes a while to replicate before a
  role assignment can name it. `ReferencedResourceNotProvisioned` and `VirtualNetworkNotInSucceededState`
  are retryable: a parallel step is still updating the VNet.
* Quota is fatal whichever code says it: `QuotaExceeded`, `ResourceQuotaExceeded`, and AKS's current
  `ErrCode_InsufficientVCPUQuota` (listed, so that a long-running operation failing with it is not retried as a
  200 would be); the message ("Insufficient ... vcpu quota ... requested ..., remaining ...") tells the requester
  what to ask for.
* Capacity (`AllocationFailed`, `ZonalAllocationFailed`, `SkuNotAvailable`, `AKSCapacityHeavyUsage`) is
  fatal, unlike in Azure Service Operator (which reconciles forever): shortages last hours, and the requester
  must learn it now and choose another size or region rather than wait out the step deadline.
* `AuthorizationFailed`, `LinkedAuthorizationFailed` are fatal: aksvend's own identity lacks a role, and no
  retry grants it. So are `ScopeLocked` (a resource lock, which Azure Service Operator retries very slowly)
  and `MissingSubscriptionRegistration`: both need a human, and the requester should hear so at once.
* 404 codes are fatal: a required target is missing. Callers that expect a 404 (a delete that already
  happened, an existence check) handle it before classifying.
* Unknown codes fall back on the status: 408, 409, 412, 429 and 5xx retry; other 4xx are fatal. A failed
  long-running operation (2xx poll with an error code we do not know) retries: such a failure is often
  transient, an operation that succeeds when sent again (tests/integration/test_engine.py injects one), and
  the per-step deadline bounds the cost.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "CONNECTION_ERROR_CODE",
    "FATAL_CODES",
    "RETRYABLE_CODES",
    "AksvendError",
    "ConflictError",
    "FatalError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "RetryableError",
    "StorageError",
    "backoff_delay",
    "classify",
]

CONNECTION_ERROR_CODE = "ConnectionError"


class AksvendError(Exception):
    """Base of every error aksvend raises on purpose."""


class RetryableError(AksvendError):
    """A failure that passes; try again after `delay_seconds` (None: the caller's backoff decides)."""

    def __init__(self, code: str, message: str = "", delay_seconds: float | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.delay_seconds = delay_seconds


class FatalError(AksvendError):
    """A failure that retrying cannot fix; `code` and `message` are reported to the requester as ARM gave them."""

    def __init__(self, code: str, message: str = "", target: str | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.target = target


class StorageError(AksvendError):
    """The state store or step queue refused a request on aksvend's own data."""


class ConflictError(StorageError):
    """An insert found the entity already there."""


class PreconditionFailedError(StorageError):
    """The etag or pop receipt held by the caller is stale; re-read before deciding anything."""


class PayloadTooLargeError(StorageError):
    """An entity, property or message exceeds an Azure Storage size limit; nothing was written."""


# Codes that mean "wait, it will pass" whatever the status says.
RETRYABLE_CODES = frozenset(
    {
        "AKSOperationPreempted",
        "AnotherOperationInProgress",
        "Conflict",
        "GatewayTimeout",
        "InternalError",
        "InternalServerError",
        "PrincipalNotFound",
        "ReferencedResourceNotProvisioned",
        "RequestTimeout",
        "RetryableError",
        "RetryableErrorDueToAnotherOperation",
        "ServerBusy",
        "ServiceUnavailable",
        "SubscriptionRequestsThrottled",
        "Throttled",
        "TooManyRequests",
        "TooManyRequestsReceived",
        "VirtualNetworkNotInSucceededState",
    }
)

# Codes that mean "stop and tell the requester" whatever the status says.
FATAL_CODES = frozenset(
    {
        # invalid input
        "BadRequest",
        "BadRequestFormat",
        "InvalidParameter",
        "InvalidParameterValue",
        "InvalidRequestContent",
        "InvalidRequestFormat",
        "InvalidResourceGroupLocation",
        "InvalidResourceReference",
        "InvalidResourceType",
        "InvalidTemplate",
        "InvalidValuesForRequestParameters",
        "LocationRequired",
        "MissingRequiredParameter",
        "PropertyChangeNotAllowed",
        "ReservedResourceName",
        # quota and capacity
        "AKSCapacityHeavyUsage",
        "AllocationFailed",
        "ErrCode_InsufficientVCPUQuota",
        "PublicIPCountLimitReached",
        "QuotaExceeded",
        "ResourceQuotaExceeded",
        "SkuNotAvailable",
        "ZonalAllocationFailed",
        # policy, registration, permissions
        "AuthorizationFailed",
        "InvalidAuthenticationToken",
        "LinkedAuthorizationFailed",
        "MissingSubscriptionRegistration",
        "RequestDisallowedByPolicy",
        "ScopeLocked",
        # a required target is missing, or is going away
        "AKSOperationPreemptedByDelete",
        "NotFound",
        "ParentResourceNotFound",
        "ResourceGroupNotFound",
        "ResourceNotFound",
        "SubscriptionNotFound",
    }
)

_CANCELED_CODES = frozenset({"Canceled", "OperationCanceled"})
_QUOTA_HINTS = ("quota",)
_BUSY_HINTS = ("another operation", "in progress", "later operation", "preempted")


def _mentions(message: str, hints: tuple[str, ...]) -> bool:
    lowered = message.lower()
    return any(hint in lowered for hint in hints)


def _retryable_status(status: int) -> bool:
    return status in (408, 409, 412, 429) or status >= 500 or 200 <= status < 300


def classify(
    status: int | None,
    code: str | None,
    message: str = "",
    retry_after: float | None = None,
    target: str | None = None,
) -> RetryableError | FatalError:
    """Decide whether an ARM failure is retryable or fatal.

    `status` is the HTTP status (None: no response at all, a connection error; 2xx: a long-running operation
    that ended Failed or Canceled), `code` the ARM error code, `retry_after` the server's Retry-After in
    seconds. The module docstring lists the choices and why.
    """
    message = message or ""
    delay = max(0.0, retry_after) if retry_after is not None else None

    def retry(chosen_code: str) -> RetryableError:
        return RetryableError(chosen_code, message, delay)

    def fatal(chosen_code: str) -> FatalError:
        return FatalError(chosen_code, message, target)

    if status is None:
        return retry(code or CONNECTION_ERROR_CODE)
    fallback_code = code or f"HTTP{status}"
    if code == "OperationNotAllowed":
        if _mentions(message, _QUOTA_HINTS):
            return fatal(code)
        if _mentions(message, _BUSY_HINTS):
            return retry(code)
    elif code in _CANCELED_CODES:
        return retry(code) if _mentions(message, _BUSY_HINTS) else fatal(code)
    elif code in FATAL_CODES:
        return fatal(code)
    elif code in RETRYABLE_CODES:
        return retry(code)
    return retry(fallback_code) if _retryable_status(status) else fatal(fallback_code)


def backoff_delay(
    attempt: int,
    random: Callable[[], float],
    *,
    base_seconds: float = 2.0,
    cap_seconds: float = 300.0,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    Exponential with "equal jitter": half of min(cap, base * 2**attempt) is fixed, the other half is scaled
    by `random()` (a value in [0, 1), injected so tests are exact). Equal rather than full jitter because a
    409 from a busy cluster never clears in milliseconds; the fixed half keeps retries from hammering it,
    the random half keeps a fleet of workers from retrying in step. The server's Retry-After is a floor,
    never capped: ARM answers requests sent earlier with another 429 and a new Retry-After.
    """
    exponential = min(cap_seconds, base_seconds * 2.0 ** min(max(attempt, 0), 62))
    jittered = exponential / 2.0 + random() * exponential / 2.0
    if retry_after is not None:
        return max(jittered, retry_after, 0.0)
    return jittered
