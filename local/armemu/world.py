"""Everything one emulator knows, in one object handed to every resource type: the store, the operations, the
settings, the latency model, the fault plan, the compute quota and the Kubernetes versions. Request handling is
single-threaded (one asyncio loop), so nothing here needs a lock."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .armid import ArmPath
from .faults import FaultPlan, FaultRule
from .latency import POLL_INTERVAL_SECONDS, LatencyModel
from .lro import OperationBook
from .reqlog import RequestLog
from .settings import EmulatorSettings
from .store import Store
from .throttle import Throttler
from .versions import VersionTable


@dataclass(slots=True)
class Call:
    """One ARM request as the resource types see it."""

    method: str
    path: ArmPath
    api_version: str
    body: dict[str, Any] | None
    base_url: str
    query: dict[str, str] = field(default_factory=dict)
    fault: FaultRule | None = None


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class World:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.store = Store()
        self.ops = OperationBook()
        self.latency = LatencyModel()
        self.faults = FaultPlan(seed=settings.seed)
        self.log = RequestLog()
        self.throttler = Throttler(lambda: self.settings.time_factor)
        self.quota_limits: dict[str, dict[str, int]] = {}
        self.versions = VersionTable()  # the Kubernetes versions AKS offers (versions.py)
        self.subscriptions: dict[str, str] = {settings.subscription_id.lower(): settings.subscription_id}
        self.deliverer: Any = None  # set by the app: a WebhookDeliverer (notifications.py)

    def duration(self, type_name: str, kind: str) -> float:
        return self.latency.seconds(type_name, kind) * self.settings.time_factor

    def poll_hint(self, remaining: float) -> dict[str, str]:
        """The polling hint for a running operation, per the `retryAfter` setting (see settings.py). A held operation's
        due time means nothing, so its hint is the full interval."""
        interval = POLL_INTERVAL_SECONDS * self.settings.time_factor
        wait = interval if self.ops.held else min(interval, remaining)
        return self.retry_after_headers(wait, lro=True)

    def retry_after_headers(self, wait_seconds: float, *, lro: bool) -> dict[str, str]:
        mode = self.settings.retry_after
        if mode == "ms":
            return {"retry-after-ms": str(max(1, math.ceil(wait_seconds * 1000)))}
        if mode == "none" and lro:
            return {}
        return {"Retry-After": str(max(1, math.ceil(wait_seconds)))}

    def note_subscription(self, subscription: str) -> None:
        self.subscriptions.setdefault(subscription.lower(), subscription)

    def reset(self) -> None:
        """Forget all resources, operations, requests, throttling state, faults and overrides; keep the settings."""
        self.store.clear()
        self.ops.clear()
        self.log.clear()
        self.throttler.reset()
        self.faults = FaultPlan(seed=self.settings.seed)
        self.latency.reset()
        self.quota_limits.clear()
        self.versions.reset()
        self.subscriptions = {self.settings.subscription_id.lower(): self.settings.subscription_id}
