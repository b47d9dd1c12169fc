"""Run-time settings of one emulator, changeable through the control API while it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

RetryAfterMode = Literal["seconds", "ms", "none"]
RETRY_AFTER_MODES: tuple[str, ...] = ("seconds", "ms", "none")

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000e7e7"


@dataclass(slots=True)
class EmulatorSettings:
    """What the control API's `/_emulator/settings` reads and writes.

    `retry_after` decides the polling hint on long-running operations (and on 429s); `none`, the default, is what
    AKS does (its operations never carry one: docs/aks-facts.md, the Azure CLI's recordings):
    - `seconds`: `Retry-After: <n>` with n an integer >= 1, what most ARM resource providers send. azure-core treats
      `Retry-After: 0` as "no hint" and falls back to its 30 s default, so 0 is never sent.
    - `ms`: `retry-after-ms: <n>` only; azure-core honours it (n/1000 s), so scaled intervals under a second stay short.
    - `none`: no polling hint on LROs, as real AKS does (docs/aks-facts.md); clients then use their own
      `polling_interval`.
      A 429 still carries `Retry-After` in this mode, because throttled responses do in Azure.
    """

    time_factor: float = 1.0
    throttling: bool = True
    retry_after: str = "none"
    webhook_url: str | None = None
    seed: int = 0
    subscription_id: str = DEFAULT_SUBSCRIPTION
    tenant_id: str = DEFAULT_TENANT

    def to_json(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in asdict(self).items()}

    def update_from_json(self, patch: dict[str, Any]) -> None:
        """Apply a camelCase patch; unknown keys and bad values are errors (a typo must not pass silently)."""
        by_camel = {_camel(f.name): f.name for f in fields(self)}
        for camel, value in patch.items():
            if camel not in by_camel:
                raise ValueError(f"unknown setting {camel!r}; known: {sorted(by_camel)}")
            setattr(self, by_camel[camel], value)
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.time_factor, int | float) or self.time_factor < 0:
            raise ValueError("timeFactor must be a number >= 0")
        if self.retry_after not in RETRY_AFTER_MODES:
            raise ValueError(f"retryAfter must be one of {RETRY_AFTER_MODES}")
        self.time_factor = float(self.time_factor)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.title() for word in rest)
