"""Ending an operation: record the outcome, cancel what is left, update the registry, start the next one.

Each write is conditional or idempotent, so a completion seen twice (two workers, a redelivered message, the
sweeper) ends the operation once; the registry's queue removal is what lets the next operation start, and the
sweeper starts a queue head whose start message was lost.

Below the engine: the engine and the sweeper call these, and they see the engine only as `EngineParts` (what
ending an operation uses of it), so that this module never imports the engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from shared.engine.history import History
from shared.engine.lifecycle import LifecycleSink, ended_events
from shared.engine.ports import Clock, StateStore, StepQueue
from shared.engine.records import (
    ACTIVE_PARTITION,
    NAME_TAKEN,
    NOT_CREATED,
    OPERATION_ROW,
    STEP_PREFIX,
    Loaded,
    OperationRecord,
    StepRecord,
)
from shared.engine.registry import ClusterRegistry
from shared.errors import PreconditionFailedError
from shared.failpoints import hit

# operation kind -> cluster state after success / after failure (None: unchanged)
_CLUSTER_STATE = {
    "create-cluster": ("ready", "failed"),
    "put-pool": ("ready", None),
    "update-pool": ("ready", None),
    "delete-pool": ("ready", None),
    "delete-cluster": ("deleted", "failed"),
    "upgrade": ("ready", None),
    "patch-cluster": ("ready", None),
    "swap-system-pool": ("ready", None),
    "stop-pool": ("ready", None),
    "start-pool": ("ready", None),
}


class EngineParts(Protocol):
    """What ending an operation uses of the engine (`shared.engine.Engine` has them all)."""

    ops: StateStore
    registry: ClusterRegistry
    queue: StepQueue
    clock: Clock
    history: History
    lifecycle: LifecycleSink | None
    after_failure: Callable[[OperationRecord], Awaitable[None]] | None  # e.g. `onFailure: cleanup` (cleanup.py)


def state_after(kind: str, error: Mapping[str, Any] | None) -> str | None:
    """The cluster's state after an operation of `kind` ended with `error`. A create that ARM refused because it has
    a cluster of that name that the create did not make (adopt.py, `ClusterNameTaken`) leaves its row `deleted`:
    aksvend owns no cluster of that name, so no change, delete, credentials or retry reaches that cluster (an admin
    may adopt it)."""
    if kind == "create-cluster" and error is not None and error.get("code") == NAME_TAKEN:
        return "deleted"
    return _CLUSTER_STATE[kind][1 if error else 0]


async def finish_operation(engine: EngineParts, loaded: Loaded, error: dict[str, Any] | None) -> None:
    now = engine.clock.now()
    op = loaded.op
    if error is not None:
        for step in loaded.steps.values():
            if not step.terminal:
                await _cancel(engine, step, now)
    ended = op.ended(now, error)
    # The cluster's new state first: whoever sees the operation ended must see the cluster as it left it.
    state = state_after(op.kind, error)
    if state:
        await engine.registry.change(op.cluster, lambda c: None if c.state == state else c.with_(state=state))
    try:
        await engine.ops.update_if_match(ended.to_entity(), op.etag or "*")
    except PreconditionFailedError:
        return  # someone else ended it (or it changed); their outcome stands
    hit("engine.operation.finished")
    await engine.history.record(op.id, ended.state, f"operation {ended.state}" + (f": {error['code']}" if error
                                                                                  else ""))
    await release(engine, ended)


async def _dropped(engine: EngineParts, op: OperationRecord) -> Mapping[str, Any] | None:
    """For a change refused as it started because its cluster's create never succeeded (start_checks.py,
    `ClusterNotCreated`): the request of the cluster's last operation (the failed create), which the desired request
    becomes again, so that the create can be retried as it was (retrying.py refuses a retry once the desired request
    or the last operation moved on). None for any other operation."""
    if op.error is None or op.error.get("code") != NOT_CREATED:
        return None
    cluster = await engine.registry.get(op.cluster)
    if cluster is None or not cluster.last_operation or op.id not in cluster.queue:
        return None
    last = await engine.ops.get(cluster.last_operation, OPERATION_ROW)
    return last.entity["request"] if last is not None else None


async def _cancel(engine: EngineParts, step: StepRecord, now: datetime, tries: int = 3) -> None:
    """Cancel a step the failing operation will not run. Another delivery may have moved it on since it was loaded
    (made it ready, began it): read it again and cancel that, unless it ended by itself; so no step of a failed
    operation is left `ready` or `waiting` for ever. Bounded: a step that keeps moving is the other delivery's."""
    for _ in range(tries):
        try:
            await engine.ops.update_if_match(step.cancelled(now).to_entity(), step.etag or "*")
            return
        except PreconditionFailedError:
            row = await engine.ops.get(step.op_id, STEP_PREFIX + step.id)
            if row is None:
                return
            step = StepRecord.from_entity(row.entity, row.etag)
            if step.terminal:
                return


async def release(engine: EngineParts, op: OperationRecord) -> None:
    """Record its lifecycle events, take an ended operation out of its cluster's queue (recording the cluster's new
    state), start the next one, and drop it from the active index. Idempotent, so the sweeper can redo it after a
    crash; the events come first so that a redo records them too (see lifecycle.py)."""
    if engine.lifecycle is not None:
        before = await engine.registry.get(op.cluster)  # still the state before this operation (it heads the queue)
        await engine.lifecycle.record(ended_events(op, before.applied if before else None))
        hit("engine.events.recorded")
    state = state_after(op.kind, op.error)
    applied = None if op.error or op.kind == "delete-cluster" else dict(op.request)
    cluster = await engine.registry.dequeue(op.cluster, op.id, engine.clock.now(), state=state, applied=applied,
                                            dropped=await _dropped(engine, op))
    hit("engine.queue.released")
    if cluster is not None and cluster.queue:
        await engine.queue.send({"op": cluster.queue[0], "start": True})
    if op.error is not None and engine.after_failure is not None:  # released first: it may queue a cleanup;
        await engine.after_failure(op)  # before the index goes, so that a crash here is redone by the sweeper
    index = await engine.ops.get(ACTIVE_PARTITION, op.id)
    if index is not None:  # if the sweeper touched it a moment ago, it redoes this release itself
        with contextlib.suppress(PreconditionFailedError):
            await engine.ops.delete_if_match(ACTIVE_PARTITION, op.id, index.etag)

