"""The sweeper (a timer): finds work whose message was lost and enqueues it again.

A message can be lost between saving a state and sending the message that acts on it (a crash), or a worker
can die holding it. Every non-terminal step therefore carries `leaseUntil`: the time by which a message
should have moved it on. The sweeper re-enqueues steps past their lease (and pushes the lease out so the next
sweep does not enqueue them again at once), starts a queued operation that heads its cluster's queue, and puts
a queued operation that is missing from its cluster's queue back in line. A duplicate message it may cause is
harmless: the step's saved state decides what a message does.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from shared.engine.engine import Engine
from shared.engine.finish import release
from shared.engine.records import ACTIVE_PARTITION
from shared.errors import PreconditionFailedError


@dataclass(frozen=True, slots=True)
class SweepReport:
    active: int = 0
    requeued_steps: int = 0
    started: int = 0
    rejoined: int = 0


async def sweep(engine: Engine) -> SweepReport:
    now = engine.clock.now()
    requeued = started = rejoined = 0
    active = await engine.active_operations()
    for op_id in active:
        loaded = await engine.load(op_id)
        if loaded is None:  # a submit that crashed before its operation row: drop the index row once it is old
            index = await engine.ops.get(ACTIVE_PARTITION, op_id)
            if index is not None and index.entity["since"] < now - timedelta(seconds=engine.settings.lease_seconds):
                await _free_place(engine, index.entity.get("cluster"), op_id)
                with contextlib.suppress(PreconditionFailedError):
                    await engine.ops.delete_if_match(ACTIVE_PARTITION, op_id, index.etag)
            continue
        if loaded.op.state in ("succeeded", "failed"):
            await release(engine, loaded.op)  # ended, but a crash may have kept it in its cluster's queue
            continue
        if loaded.op.state == "queued":
            cluster = await engine.registry.get(loaded.op.cluster)
            if cluster is not None and op_id not in cluster.queue:
                await engine.registry.enqueue(loaded.op.cluster, op_id, now)
                rejoined += 1
                cluster = await engine.registry.get(loaded.op.cluster)
            if cluster is not None and cluster.queue and cluster.queue[0] == op_id:
                await engine.queue.send({"op": op_id, "start": True})
                started += 1
            continue
        await engine.advance(op_id)  # dependents of a step whose completion was saved just before a crash
        for step in loaded.steps.values():
            if step.state in ("ready", "running") and step.lease_until is not None and step.lease_until < now:
                pushed = step.rescheduled(now + timedelta(seconds=engine.settings.lease_seconds))
                if await engine.save_step(pushed) is not None:
                    await engine.send(op_id, step.id)
                    requeued += 1
    return SweepReport(len(active), requeued, started, rejoined)


async def _free_place(engine: Engine, cluster: str | None, op_id: str) -> None:
    """A change (or a retry, retrying.py) whose submit died between taking its place in the cluster's queue and
    writing its operation row: take the place back, so the operations behind it are not held up, and start the
    next one if it now heads."""
    if not isinstance(cluster, str):
        return
    before = await engine.registry.get(cluster)
    if before is None or op_id not in before.queue:
        return
    after = await engine.registry.change(cluster, lambda c: c.with_(queue=tuple(o for o in c.queue if o != op_id))
                                         if op_id in c.queue else None)
    if after is not None and after.queue and before.queue[0] == op_id:
        await engine.queue.send({"op": after.queue[0], "start": True})
