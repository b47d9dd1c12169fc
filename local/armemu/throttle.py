"""Token-bucket throttling as AKS and ARM document it (docs/aks-facts.md, "Long-running operations and throttling").

ARM, per subscription: reads 250 burst / 25 per s, writes 200 / 10 per s, deletes 200 / 10 per s, with the remaining
count in `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`. AKS, on top: PUT ManagedCluster 20 burst,
1 per minute per cluster; PUT AgentPool 20, 1 per minute per pool; GET ManagedCluster 60, 1/s; GET operation status
200, 2/s per subscription; anything else 60, 1/s. Refill rates are divided by the time factor (a factor of 0.01 makes
time run 100x faster, so buckets refill 100x faster); a factor of 0 means no throttling at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .armid import ArmPath
from .errors import ArmError

AKS = "microsoft.containerservice"


@dataclass(frozen=True, slots=True)
class BucketSpec:
    name: str
    burst: float
    per_second: float


ARM_READS = BucketSpec("subscription-reads", 250, 25)
ARM_WRITES = BucketSpec("subscription-writes", 200, 10)
ARM_DELETES = BucketSpec("subscription-deletes", 200, 10)
AKS_PUT_CLUSTER = BucketSpec("aks-put-managedcluster", 20, 1 / 60)
AKS_PUT_POOL = BucketSpec("aks-put-agentpool", 20, 1 / 60)
AKS_GET_CLUSTER = BucketSpec("aks-get-managedcluster", 60, 1)
AKS_OPERATION_STATUS = BucketSpec("aks-operation-status", 200, 2)
AKS_OTHER = BucketSpec("aks-other", 60, 1)


class _Bucket:
    __slots__ = ("last", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.last = now


class Throttler:
    def __init__(self, time_factor: Callable[[], float], clock: Callable[[], float] = time.monotonic) -> None:
        self._time_factor = time_factor
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def check(self, method: str, path: ArmPath) -> dict[str, str]:
        """Take a token from every bucket this request falls in; raise a 429 ArmError if one is empty.
        Returns the `x-ms-ratelimit-remaining-*` headers for the response."""
        factor = self._time_factor()
        headers: dict[str, str] = {}
        subscription = path.subscription.lower()
        arm_spec = ARM_READS if method in ("GET", "HEAD") else ARM_DELETES if method == "DELETE" else ARM_WRITES
        remaining = self._take(arm_spec, subscription, factor, arm=True)
        headers[f"x-ms-ratelimit-remaining-{arm_spec.name}"] = str(remaining)
        if path.namespace.lower() == AKS:
            aks_spec, scope = _aks_bucket(method, path)
            self._take(aks_spec, scope, factor, arm=False)
        return headers

    def _take(self, spec: BucketSpec, scope: str, factor: float, *, arm: bool) -> int:
        now = self._clock()
        bucket = self._buckets.get((spec.name, scope))
        if bucket is None:
            bucket = self._buckets[(spec.name, scope)] = _Bucket(spec.burst, now)
        rate = spec.per_second / factor if factor > 0 else math.inf
        bucket.tokens = min(spec.burst, bucket.tokens + (now - bucket.last) * rate)
        bucket.last = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return int(bucket.tokens)
        wait = (1 - bucket.tokens) / rate
        raise _throttled(spec, wait, arm=arm)


def _aks_bucket(method: str, path: ArmPath) -> tuple[BucketSpec, str]:
    types = tuple(t.lower() for t in path.types)
    item_id = path.resource_id.lower()
    if types[:1] == ("locations",) and len(types) == 2 and types[1] in ("operations", "operationresults"):
        return AKS_OPERATION_STATUS, path.subscription.lower()
    if method == "PUT" and types == ("managedclusters",) and not path.is_collection:
        return AKS_PUT_CLUSTER, item_id
    if method == "PUT" and types == ("managedclusters", "agentpools") and not path.is_collection:
        return AKS_PUT_POOL, item_id
    if method == "GET" and types == ("managedclusters",) and not path.is_collection:
        return AKS_GET_CLUSTER, item_id
    return AKS_OTHER, path.subscription.lower()


def _throttled(spec: BucketSpec, wait_seconds: float, *, arm: bool) -> ArmError:
    retry_after = max(1, math.ceil(wait_seconds))
    if arm:
        kind = spec.name.removeprefix("subscription-").rstrip("s")
        error = ArmError(
            429,
            "SubscriptionRequestsThrottled",
            f"Number of '{kind}' requests for subscription exceeded. Please try again after '{retry_after}' seconds "
            "after additional tokens are available.",
        )
        error.headers[f"x-ms-ratelimit-remaining-{spec.name}"] = "0"
    else:
        error = ArmError(
            429, "Throttled", f"The request was throttled by AKS ({spec.name}); retry after {retry_after} s."
        )
    error.headers["Retry-After"] = str(retry_after)
    error.headers["x-emulator-wait-seconds"] = f"{wait_seconds:.6f}"
    return error
