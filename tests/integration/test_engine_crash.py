"""Crash safety, by construction: a worker process (`python -m local.host.worker`) is killed at every saved-state
transition of the production provisioning, one after another, and started again each time. The operation still
succeeds, with exactly the planned resources, none created twice, and nothing left running.

Each kill is a failpoint (shared/failpoints.py): the worker kills itself with SIGKILL the n-th time it reaches the
named transition, so each kill lands where it is meant to, whatever the machine's load. The seed decides the order of
the kills in the middle of the operation and which poll a monitor kill hits; the start comes first, and the end
(operation finished, events recorded, queue released) last, in the only order it can happen.

Time plays no part: the emulator holds every long-running operation open until the test ends it
(`PUT /_emulator/operations/hold`), so the operation advances only as far as the test lets it. Before each worker the
test works out, from the saved state and the plan's dependencies, the fewest steps whose operations it must end for
the kill to be certain (`needs`), and ends only theirs while it waits: a monitor kill needs none (a held operation
answers InProgress for as long as it takes), and nothing needs the cluster's before the end. So each kill uses up as
little of the operation as it can, and the middle kills land in any order: the private DNS zone group is three
long-running steps deep and the cluster stays held, so there is always something left to make ready, begin, finish
and poll. `needs` asserts before each kill that it can still land.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.armemu.providers import ALL_TYPES
from local.azurite import start_azurite
from shared import failpoints
from shared.adapters.store import AzureTableStateStore
from shared.bootstrap import CLUSTERS_TABLE, OPERATIONS_TABLE, OUTBOX_TABLE, SECRETS_TABLE, STEPS_QUEUE
from shared.domain.lifecycle import CLUSTER_PROVISIONED, OPERATION_SUCCEEDED
from shared.domain.rules import check
from shared.engine import submit
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW, STEP_PREFIX, OperationRecord
from shared.services.outbox import OUTBOX_PARTITION
from tests.integration.engine_harness import (
    creates_per_resource,
    expected_inventory,
    made_by_aksvend,
    make_storage_target,
    open_test_engine,
    production,
    start_worker,
)
from tests.polling import eventually

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SEED = 20261127
CLUSTER_STEP = "put:cluster"
# What the emulator answers at once, with no long-running operation (as ARM does): such a step never waits on a hold.
SYNC_TYPES = {t.type_name.lower() for t in ALL_TYPES if t.lro_put is None}
PROGRESS = ("engine.step.ready", "engine.begin.sent", "engine.begin.saved", "engine.step.done")
MONITOR_KILLS, MAX_POLL = 2, 3
END = ("engine.operation.finished", "engine.events.recorded", "engine.queue.released")


def is_long(spec: Any) -> bool:
    return spec.resource_type.lower() not in SYNC_TYPES


def kill_plan(seed: int) -> list[tuple[str, int]]:
    """(failpoint, n): the worker dies at the n-th time it reaches the failpoint. Only held polls come any number of
    times, so only a monitor kill picks an occurrence other than the first."""
    rng = random.Random(seed)
    middle = [*PROGRESS, *["engine.monitor"] * MONITOR_KILLS]
    rng.shuffle(middle)
    return [("engine.operation.started", 1),
            *((name, rng.randint(1, MAX_POLL) if name == "engine.monitor" else 1) for name in middle),
            *((name, 1) for name in END)]


@dataclass(frozen=True)
class Saved:
    """What the tables (and the emulator's request log) say about the operation between two workers."""

    op: str
    steps: dict[str, dict[str, Any]]
    active: bool  # still in the sweeper's active index
    queued: bool  # still in its cluster's queue
    events: frozenset[str]  # lifecycle event types in the outbox
    puts: int  # PUTs ARM accepted

    def count(self, test: Callable[[dict[str, Any]], bool]) -> int:
        return sum(1 for step in self.steps.values() if test(step))

    def polls(self) -> int:
        return sum(step["polls"] for step in self.steps.values())

    def unbegun(self) -> set[str]:
        return {i for i, s in self.steps.items()
                if s["state"] == "waiting" or (s["state"] in ("ready", "running") and s["phase"] == "begin")}


def needs(name: str, s: Saved, specs: dict[str, Any]) -> set[str] | None:
    """The steps whose held operations must end for a worker to reach `name` from the saved state `s` (the fewest:
    each kill should use up as little of the operation as it can), or None if it cannot be reached from there."""
    everything = set(specs)

    def blockers(step_id: str) -> set[str]:
        """The long-running steps that must end before `step_id` can run (the others end as soon as they run)."""
        found: set[str] = set()
        for dep in specs[step_id].depends_on:
            if s.steps[dep]["state"] != "succeeded":
                found |= blockers(dep) | ({dep} if is_long(specs[dep]) else set())
        return found

    def fewest(candidates: set[str], own: bool = False) -> set[str] | None:
        """Among `candidates`, the blockers of the one with fewest (and itself too, if `own` and long-running)."""
        costs = [blockers(c) | ({c} if own and is_long(specs[c]) else set()) for c in sorted(candidates)]
        return min(costs, key=len) if costs else None

    waiting = {i for i, step in s.steps.items() if step["state"] == "waiting"}
    unbegun = s.unbegun()
    cluster_running = s.steps[CLUSTER_STEP]["state"] != "succeeded"
    return {
        "engine.operation.started": set() if s.op == "queued" else None,
        "engine.step.ready": fewest(waiting),
        "engine.begin.sent": set() if unbegun - waiting else fewest(waiting),
        "engine.begin.saved": fewest({i for i in unbegun if is_long(specs[i])}),
        "engine.monitor": set() if cluster_running else None,  # something is always held on the way to it
        "engine.step.done": fewest({i for i, st in s.steps.items() if st["state"] != "succeeded"} - {CLUSTER_STEP},
                                   own=True),
        "engine.operation.finished": everything if s.op == "running" else None,
        "engine.events.recorded": set() if s.op == "succeeded" and not s.events else None,
        "engine.queue.released": set() if s.op == "succeeded" and s.queued else None,
    }[name]


def landed(name: str, before: Saved, after: Saved) -> bool:
    """The saved state shows the transition the worker was killed at."""

    def more(test: Callable[[dict[str, Any]], bool]) -> bool:
        return after.count(test) > before.count(test)

    return {
        "engine.operation.started": after.op == "running",
        "engine.step.ready": more(lambda s: s["state"] != "waiting"),
        "engine.begin.sent": after.puts > before.puts,  # sent, and nothing saved for it
        "engine.begin.saved": more(lambda s: s["phase"] == "monitor" or s["state"] == "succeeded"),
        "engine.monitor": after.polls() > before.polls(),
        "engine.step.done": more(lambda s: s["state"] == "succeeded"),
        "engine.operation.finished": after.op == "succeeded" and after.queued and after.active,
        "engine.events.recorded": {OPERATION_SUCCEEDED, CLUSTER_PROVISIONED} <= after.events and after.queued,
        "engine.queue.released": not after.queued and after.active,
    }[name]


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.kill()
        worker.wait(timeout=30)


@dataclass
class Run:
    """One operation, its tables, the emulator, and the environment of its workers."""

    armemu: Any
    engine: Any
    outbox: AzureTableStateStore
    op_id: str
    cluster_key: str
    specs: dict[str, Any]
    env: dict[str, str]
    logs: Path

    async def saved(self) -> Saved:
        ops = self.engine.ops
        rows = await ops.query_partition(self.op_id)
        cluster = await self.engine.registry.get(self.cluster_key)
        return Saved(
            op=next(r.entity["state"] for r in rows if r.entity["RowKey"] == OPERATION_ROW),
            steps={r.entity["RowKey"].removeprefix(STEP_PREFIX): r.entity for r in rows
                   if r.entity["RowKey"].startswith(STEP_PREFIX)},
            active=await ops.get(ACTIVE_PARTITION, self.op_id) is not None,
            queued=cluster is not None and self.op_id in cluster.queue,
            events=frozenset(r.entity["type"] for r in await self.outbox.query_partition(OUTBOX_PARTITION)),
            puts=sum(1 for r in self.armemu.requests() if r["method"] == "PUT" and r["status"] < 300))

    def end_held(self, steps: set[str]) -> None:
        """End the held operations of these steps' resources now."""
        wanted = {self.specs[i].resource_id.lower() for i in steps}
        for op in self.armemu.control("GET", "operations")["value"]:
            if op["resourceId"].lower() in wanted:
                self.armemu.control("POST", "operations/finish", {"resourceId": op["resourceId"]})

    def unstick(self, before: Saved) -> None:
        """A PUT sent but not saved (a kill at begin.sent) left its operation held, and the same PUT sent again
        would get 409 for as long as it is: end those operations, as Azure does in its own time."""
        waiting = {i for i, s in before.steps.items() if s["state"] == "waiting"}
        for step_id in before.unbegun() - waiting:
            self.armemu.control("POST", "operations/finish", {"resourceId": self.specs[step_id].resource_id})

    async def kill(self, number: int, name: str, n: int) -> None:
        """Start a worker armed at the n-th `name` and wait (with a deadline) until it has killed itself there,
        ending meanwhile the held operations that the kill needs ended."""
        before = await self.saved()
        release = needs(name, before, self.specs)
        assert release is not None, f"kill {number} at {name} cannot land from {before}"
        self.unstick(before)
        log = self.logs / f"worker-{number}-{name}.log"
        worker = start_worker({**self.env, failpoints.SETTING: f"{name}:{n}"}, log)

        async def dead() -> bool:
            self.end_held(release)
            return worker.poll() is not None

        try:
            await eventually(dead, timeout=90)
        finally:
            stop(worker)
        assert worker.returncode == -signal.SIGKILL, (name, worker.returncode, log.read_text())
        after = await self.saved()
        assert landed(name, before, after), f"kill {number} at {name}:{n}: {before} -> {after}"

    async def finish(self) -> None:
        """A last worker, with no failpoint, until the operation has left the active index."""
        log = self.logs / "worker-last.log"
        worker = start_worker(self.env, log)

        async def released() -> bool:
            assert worker.poll() is None, log.read_text()
            return not (await self.saved()).active

        try:
            await eventually(released, timeout=60)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            stop(worker)


async def test_killing_the_worker_at_every_saved_state_transition_still_provisions_exactly_once(armemu, tmp_path):
    account = make_storage_target(armemu)
    # no maintenance windows: their steps come after the cluster, and this test holds the cluster to the end
    raw = {**production(account), "maintenance": None}
    request, _ = check(raw, default_subscription_id=armemu.subscription_id)
    armemu.set(retryAfter="none")  # as AKS: the worker polls at its own interval
    armemu.control("POST", "operations/finish")  # the storage account the private endpoint points at
    armemu.control("PUT", "operations/hold", {"hold": True})
    plan = kill_plan(SEED)
    assert {name for name, _ in plan} == set(failpoints.NAMES)  # every transition gets a kill
    with start_azurite() as azurite:
        env = {**os.environ, "AzureWebJobsStorage": azurite.connection_string,
               "AKSVEND_ARM_ENDPOINT": armemu.base_url, "AKSVEND_ARM_CA_CERT": armemu.ca_cert,
               "AKSVEND_POLL_INTERVAL_SECONDS": "0.2", "AKSVEND_LEASE_SECONDS": "2",
               "AKSVEND_BACKOFF_BASE_SECONDS": "0.2", "AKSVEND_SWEEP_SECONDS": "0.5",
               "AKSVEND_QUEUE_LEASE_SECONDS": "2", "AKSVEND_LOG_LEVEL": "WARNING"}
        env.pop(failpoints.SETTING, None)
        async with AsyncExitStack() as stack:
            engine = await open_test_engine(stack, armemu, azurite.connection_string,
                                            tables=(OPERATIONS_TABLE, CLUSTERS_TABLE, SECRETS_TABLE),
                                            queue=STEPS_QUEUE)
            outbox = await stack.enter_async_context(
                AzureTableStateStore.from_connection_string(azurite.connection_string, OUTBOX_TABLE))
            op_id = (await submit(engine, "create-cluster", request)).operation_id
            found = await engine.ops.get(op_id, OPERATION_ROW)
            op = OperationRecord.from_entity(found.entity, found.etag)
            specs = {s.id: s for s in op.specs()}
            assert not any(CLUSTER_STEP in s.depends_on for s in specs.values())  # nothing waits for the held cluster
            run = Run(armemu, engine, outbox, op_id, op.cluster, specs, env, tmp_path)
            for number, (name, n) in enumerate(plan):
                await run.kill(number, name, n)
            await run.finish()
            final = await run.saved()
            assert final.op == "succeeded", (await engine.ops.get(op_id, OPERATION_ROW)).entity.get("error")
            assert not final.queued and await engine.ops.query_partition(ACTIVE_PARTITION) == []
    assert armemu.control("GET", "operations")["value"] == []
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)
    assert all(n == 1 for n in creates_per_resource(armemu).values())
