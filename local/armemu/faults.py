"""Fault injection, reproducible by seed.

A fault plan is `{"seed": N, "rules": [...]}` (from `--faults FILE` or `PUT /_emulator/faults`). A rule matches on
`method` (one or a list), `resourceType` (e.g. `Microsoft.ContainerService/managedClusters/agentPools`) and
`pathRegex`, fires with probability `rate` (default 1) at most `limit` times, and does one `action`:

- `status`: answer `status` (500, 503, 429 ...) with an ARM error body (`code`, `message`; 429/503 get `retryAfter`).
- `reset`: drop the connection; `phase: "after"` does the work first and then drops it (the client cannot know that
  its PUT landed: the case idempotent retries exist for).
- `lro-fail`: accept the PUT/DELETE, then end its long-running operation Failed with `code`/`message`.
- `quota`: refuse a PUT with 400 `ErrCode_InsufficientVCPUQuota`, as if the regional vCPU quota were used up.
- `conflict`: refuse with 409 `OperationNotAllowed` as if a background operation (`runningOperation`) were running.
- `slow`: answer `delaySeconds` (real seconds, not scaled by the time factor) late: `phase: "before"` (default) waits
  and then handles the request; `phase: "after"` handles it first and then holds the answer (the write has landed,
  the client is still waiting: what a slow ARM front door looks like to a client whose read times out).

`durationSeconds` (any action) keeps a rule active for that long after the plan was set, then it stops matching;
`limit` counts instead.

Each rule draws from its own `random.Random(f"{seed}:{index}")`, and only when it matches, so the same seed and the
same request sequence give the same faults, whatever other rules do.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .armid import ArmPath

ACTIONS = ("status", "reset", "lro-fail", "quota", "conflict", "slow")
RULE_KEYS = {
    "name",
    "method",
    "resourceType",
    "pathRegex",
    "rate",
    "limit",
    "action",
    "status",
    "code",
    "message",
    "retryAfter",
    "phase",
    "runningOperation",
    "family",
    "delaySeconds",
    "durationSeconds",
}


@dataclass(slots=True, eq=False)
class FaultRule:
    spec: dict[str, Any]
    rng: random.Random
    methods: frozenset[str] | None
    resource_type: str | None
    path_regex: re.Pattern[str] | None
    rate: float
    limit: int | None
    until: float | None = None  # time.monotonic() after which it no longer matches (durationSeconds)
    hits: int = 0

    @property
    def action(self) -> str:
        return self.spec["action"]

    @property
    def delay_seconds(self) -> float:
        return float(self.spec.get("delaySeconds", 0.0))

    def matches(self, method: str, path: str, arm_path: ArmPath | None) -> bool:
        if self.until is not None and time.monotonic() > self.until:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if self.resource_type is not None and (arm_path is None or arm_path.type_key != self.resource_type):
            return False
        return self.path_regex is None or bool(self.path_regex.search(path))


@dataclass(slots=True)
class FaultPlan:
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)

    @classmethod
    def from_json(cls, plan: dict[str, Any], default_seed: int = 0) -> FaultPlan:
        seed = int(plan.get("seed", default_seed))
        unknown = set(plan) - {"seed", "rules"}
        if unknown:
            raise ValueError(f"unknown fault plan keys {sorted(unknown)}")
        return cls(seed, [_rule(spec, seed, i) for i, spec in enumerate(plan.get("rules", []))])

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [{**r.spec, "hits": r.hits} for r in self.rules]}

    def pick(self, method: str, path: str, arm_path: ArmPath | None) -> FaultRule | None:
        """The first rule that matches and fires for this request, if any."""
        for rule in self.rules:
            if not rule.matches(method, path, arm_path):
                continue
            if rule.limit is not None and rule.hits >= rule.limit:
                continue
            if rule.rng.random() < rule.rate:
                rule.hits += 1
                return rule
        return None


def _rule(spec: dict[str, Any], seed: int, index: int) -> FaultRule:
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise ValueError(f"fault rule {index}: unknown keys {sorted(unknown)}")
    if spec.get("action") not in ACTIONS:
        raise ValueError(f"fault rule {index}: action must be one of {ACTIONS}")
    if spec["action"] == "status" and not isinstance(spec.get("status"), int):
        raise ValueError(f"fault rule {index}: action 'status' needs an integer 'status'")
    delay, duration = spec.get("delaySeconds"), spec.get("durationSeconds")
    if spec["action"] == "slow" and not (isinstance(delay, int | float) and 0 < delay <= 600):
        raise ValueError(f"fault rule {index}: action 'slow' needs 'delaySeconds' in (0, 600]")
    if duration is not None and not (isinstance(duration, int | float) and duration > 0):
        raise ValueError(f"fault rule {index}: 'durationSeconds' must be a positive number")
    method = spec.get("method")
    methods = frozenset(m.upper() for m in ([method] if isinstance(method, str) else method)) if method else None
    rate = float(spec.get("rate", 1.0))
    if not 0 <= rate <= 1:
        raise ValueError(f"fault rule {index}: rate must be within [0, 1]")
    resource_type = spec.get("resourceType")
    regex = spec.get("pathRegex")
    return FaultRule(
        spec=dict(spec),
        rng=random.Random(f"{seed}:{index}"),
        methods=methods,
        resource_type=resource_type.lower() if resource_type else None,
        path_regex=re.compile(regex, re.IGNORECASE) if regex else None,
        rate=rate,
        limit=int(spec["limit"]) if spec.get("limit") is not None else None,
        until=time.monotonic() + float(duration) if duration is not None else None,
    )
