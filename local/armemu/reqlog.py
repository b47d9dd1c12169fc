"""The request log and counters behind `/_emulator/requests` and `/_emulator/counters`.

The log is a bounded deque (the newest 20,000 requests) so a long benchmark cannot grow memory without end;
counters are exact totals since the last reset, by method and by resource type (`Microsoft.X/type` or a label such
as `operationStatus`, `control`, `metadata`).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    time: float
    method: str
    path: str
    status: int
    duration_ms: float
    resource_type: str
    fault: str | None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "resourceType": self.resource_type,
        }
        if self.fault:
            entry["fault"] = self.fault
        return entry


class RequestLog:
    def __init__(self) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)
        self.by_method: Counter[str] = Counter()
        self.by_type: dict[str, Counter[str]] = {}
        self.by_status: Counter[int] = Counter()

    def record(
        self, method: str, path: str, status: int, duration_ms: float, resource_type: str, fault: str | None = None
    ) -> None:
        self.entries.append(LoggedRequest(time.time(), method, path, status, duration_ms, resource_type, fault))
        self.by_method[method] += 1
        self.by_status[status] += 1
        per_type = self.by_type.get(resource_type)
        if per_type is None:
            per_type = self.by_type[resource_type] = Counter()
        per_type[method] += 1

    def counters(self) -> dict[str, Any]:
        return {
            "total": sum(self.by_method.values()),
            "byMethod": dict(self.by_method),
            "byStatus": {str(k): v for k, v in self.by_status.items()},
            "byResourceType": {t: dict(c) for t, c in self.by_type.items()},
        }

    def tail(self, limit: int) -> list[dict[str, Any]]:
        items = list(self.entries)[-limit:] if limit > 0 else list(self.entries)
        return [e.to_json() for e in items]

    def clear(self) -> None:
        self.entries.clear()
        self.by_method.clear()
        self.by_type.clear()
        self.by_status.clear()
