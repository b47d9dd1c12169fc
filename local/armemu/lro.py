"""Long-running operations: their status resources and when they end.

Nothing runs in the background. Each operation knows the monotonic instant it is due; every request first calls
`settle()`, which pops due operations off a heap and applies their effect (provisioningState -> Succeeded or Failed,
the resource removed for a delete, the cluster lock released). So time is only observed through requests, which is
all a client can see anyway, and the emulator stays deterministic for a given request sequence.

`held`: while set (the control API's `PUT /_emulator/operations/hold`), no operation ends on its own, whatever its due
time; only `finish` ends them. Tests that must find an operation still running at some point (a crash test killing a
worker while the cluster is being created) hold them instead of hoping a duration outlasts the machine's load.

Stages: an operation may run in named stages (a rolling upgrade: `controlPlane`, then `pool:<name> batch i/n`), each
ending at its own instant within the operation with an effect (the control plane's version changes when its stage
ends). `settle()` applies the stages that are due, `finish` the rest (not for a failed operation), `step` ends only
the current one (the control API's way of walking an upgrade stage by stage while operations are held).
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
Effect = Callable[[], None] | None


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True, eq=False)
class Stage:
    """One stage of an operation: shown as the operation's `phase` until `end`, then `effect` applies."""

    name: str
    end: float
    effect: Effect = None
    done: bool = False

    def apply(self) -> None:
        self.done = True
        if self.effect is not None:
            self.effect()


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
    stages: list[Stage] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status != "InProgress"

    @property
    def phase(self) -> str | None:
        """The running stage's name; None for an operation without stages or once they are all done."""
        return next((s.name for s in self.stages if not s.done), None)

    def advance(self, now: float | None = None) -> None:
        """Apply the stages that have ended by `now` (all of them when None), in order."""
        for s in self.stages:
            if not s.done and (now is None or s.end <= now):
                s.apply()

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
        self._staged: list[Operation] = []
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

    def stage(self, op: Operation, stages: list[tuple[str, float, Effect]]) -> None:
        """Split a running operation into stages weighted by their seconds: each ends at its share of the time left
        (the last one at the operation's due time), so a time factor or an override scales them together."""
        total = sum(max(0.0, weight) for _, weight, _ in stages)
        now = self._clock()
        span = max(0.0, op.due - now)
        elapsed = 0.0
        for name, weight, effect in stages:
            elapsed += max(0.0, weight)
            end = op.due if total <= 0 else now + span * elapsed / total
            op.stages.append(Stage(name, min(end, op.due), effect))
        if op.stages:
            self._staged.append(op)

    def step(self, resource_id: str) -> int:
        """End the current stage of each running operation on the resource now; an operation on its last stage (or
        without stages) ends. Returns how many operations moved."""
        wanted = [op for op in self.running() if op.resource_id.lower() == resource_id.lower()]
        for op in wanted:
            pending = [s for s in op.stages if not s.done]
            if len(pending) > 1:
                pending[0].apply()
            else:
                self.finish(op)
        return len(wanted)

    def get(self, op_id: str) -> Operation | None:
        return self._ops.get(op_id)

    def settle(self) -> int:
        """Finish every operation that is due (none while held). Returns how many finished."""
        if self.held:
            return 0
        now = self._clock()
        if self._staged:
            for op in self._staged:
                if not op.done:
                    op.advance(now)
            self._staged = [op for op in self._staged if not op.done and op.phase is not None]
        finished = 0
        while self._due and self._due[0][0] <= now:
            _, _, op = heapq.heappop(self._due)
            self.finish(op)
            finished += 1
        return finished

    def finish(self, op: Operation) -> None:
        if op.done:
            return
        if not op.error:
            op.advance()
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
        self._staged.clear()
        self.held = False
