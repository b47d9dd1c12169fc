"""Long-running operations: their status resources and when they end.

Nothing runs in the background. Each operation knows the monotonic instant it is due; every request first calls
`settle()`, which pops due operations off a heap and applies their effect (provisioningState -> Succeeded or Failed,
the resource removed for a delete, the cluster lock released). So time is only observed through requests, which is
all a client can see anyway, and the emulator stays deterministic for a given request sequence.

`held`: while set (the control API's `PUT /_emulator/operations/hold`), no operation ends on its own, whatever its due
time; only `finish` ends them. Tests that must find an operation still running at some point (a crash test killing a
worker while the cluster is being created) hold them instead of hoping a duration outlasts the machine's load.
"""

from __future__ import annotations

import heapq
import itertools
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KEEP_FINISHED = 50_000


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True, eq=False)
class Operation:
    """One long-running operation. `running_state` is the provisioningState shown while it runs (Creating, Updating,
    Scaling, Deleting); `on_finish` applies its effect when due; `error`, if set, makes it end Failed."""

    id: str
    namespace: str
    subscription: str
    location: str
    resource_id: str
    kind: str
    running_state: str
    due: float
    on_finish: Callable[[Operation], None]
    error: dict[str, Any] | None = None
    error_status: int = 500
    status: str = "InProgress"
    planned_seconds: float = 0.0  # what the latency model planned, before the time factor (shown by the control API)
    start_time: str = field(default_factory=utc_now_iso)
    end_time: str | None = None

    @property
    def done(self) -> bool:
        return self.status != "InProgress"

    def remaining(self, now: float) -> float:
        return max(0.0, self.due - now)

    def status_body(self, status_url_path: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": status_url_path,
            "name": self.id,
            "status": self.status,
            "startTime": self.start_time,
        }
        if self.end_time:
            body["endTime"] = self.end_time
        if self.status == "Failed" and self.error:
            body["error"] = self.error
        return body


class OperationBook:
    """All operations by id, plus a heap of the running ones ordered by due time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ops: OrderedDict[str, Operation] = OrderedDict()
        self._due: list[tuple[float, int, Operation]] = []
        self._seq = itertools.count()
        self.held = False

    def now(self) -> float:
        return self._clock()

    def start(self, op_fields: dict[str, Any], duration: float) -> Operation:
        op = Operation(id=str(uuid.uuid4()), due=self._clock() + max(0.0, duration), **op_fields)
        self._ops[op.id] = op
        heapq.heappush(self._due, (op.due, next(self._seq), op))
        while len(self._ops) > KEEP_FINISHED:
            oldest_id, oldest = next(iter(self._ops.items()))
            if not oldest.done:
                break
            del self._ops[oldest_id]
        return op

    def get(self, op_id: str) -> Operation | None:
        return self._ops.get(op_id)

    def settle(self) -> int:
        """Finish every operation that is due (none while held). Returns how many finished."""
        if self.held:
            return 0
        now = self._clock()
        finished = 0
        while self._due and self._due[0][0] <= now:
            _, _, op = heapq.heappop(self._due)
            self.finish(op)
            finished += 1
        return finished

    def finish(self, op: Operation) -> None:
        if op.done:
            return
        op.status = "Failed" if op.error else "Succeeded"
        op.end_time = utc_now_iso()
        op.on_finish(op)

    def cancel(self, op: Operation, reason: str = "The operation was canceled by a later delete.") -> None:
        """End a running operation as Canceled without applying its effect (a cluster DELETE preempts it)."""
        if op.done:
            return
        op.status = "Canceled"
        op.end_time = utc_now_iso()
        op.error = {"code": "Canceled", "message": reason}

    def finish_all(self) -> None:
        """End every running operation now (used when saving state and on reset)."""
        while self._due:
            _, _, op = heapq.heappop(self._due)
            self.finish(op)

    def finish_resource(self, resource_id: str) -> int:
        """End the running operations on one resource now (its entry in the heap is skipped once done).
        Returns how many ended."""
        wanted = [op for op in self.running() if op.resource_id.lower() == resource_id.lower()]
        for op in wanted:
            self.finish(op)
        return len(wanted)

    def running(self) -> list[Operation]:
        return [op for _, _, op in self._due if not op.done]

    def clear(self) -> None:
        self._ops.clear()
        self._due.clear()
        self.held = False
