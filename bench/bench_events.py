"""Benchmark of event reactions (`python -m bench.bench_events [--batches N] [--evictions N]`; prints figures,
asserts nothing).

1. Ingest: events per second through `POST /api/events` (the FastAPI app in-process through httpx's ASGI
   transport, the events router included) in Event Grid batches of 100, dedupe on: every event is looked up and
   recorded in the `events` table of Azurite. The events are for clusters aksvend does not manage (each is
   recorded and acknowledged, one table write per event). Then the same batches again (all duplicates).
2. Reaction latency: the ARM emulator (in a thread, time factor 0.001) evicts one spot node at a time and POSTs its
   `VirtualMachinePreempted` event to the app, served by uvicorn on 127.0.0.1; the engine runs in-process with the
   local queue runner over Azurite. Latency = from the webhook request's arrival (an ASGI middleware stamps it) to
   the fallback pool's PUT in the emulator's request log. Each eviction waits for the previous scale-out to finish.
   Measured twice: with host.json's queue polling (`maxPollingInterval` 2 s, what the Functions host does) and with
   a 0.1 s maximum, to show what the queue's polling costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn

from functions import runtime
from functions.http_api import app
from local.armemu.app import Emulator, EmulatorThread
from local.armemu.settings import EmulatorSettings
from local.armemu.testing import TEST_SETTINGS, ArmEmulator
from local.azurite import start_azurite
from local.credential import AsyncOfflineCredential
from local.host.queue_runner import QueueRunner, QueueSemantics
from shared.adapters.arm import AzureArm
from shared.adapters.clock import SystemClock, TableSecretStore
from shared.adapters.queue import AzureStepQueue
from shared.adapters.store import AzureTableStateStore
from shared.bootstrap import Runtime, bootstrap
from shared.config import Settings
from shared.domain.rules import check
from shared.engine import Engine, EngineSettings, submit, sweep
from shared.engine.records import OPERATION_ROW
from shared.services.outbox import Outbox

# The events webhook checks the shared secret: local mode only (in Azure, Event Grid tokens and agent signatures).
SECRET = "bench-events-secret"
SECRET_HEADER = {"X-Aksvend-Secret": SECRET}
FAST = EngineSettings(poll_interval_seconds=0.2, lease_seconds=3.0, backoff_base_seconds=0.2,
                      max_backoff_seconds=2.0, step_deadline_seconds=120.0)
SPOT_REQUEST = {
    "name": "spotbench", "resourceGroup": "rg-spotbench", "location": "westeurope", "profile": "development",
    "userPools": [{"name": "batch", "workload": "batch", "count": 40, "spot": {"evictionPolicy": "Delete"},
                   "autoscale": {"min": 0, "max": 40}}],
    # Bounds wide enough for every eviction of the run (the defaults stop at 10 reactions / 10 extra nodes a pool).
    "reactions": {"maxNodesPerPool": 50, "cooldownSeconds": 3600,
                  "bounds": {"reactionsPerPool": 40, "reactionsPerCluster": 40, "extraNodesPerPool": 50,
                             "extraNodesPerCluster": 50}},
}


class Stamp:
    """ASGI middleware: the arrival time (time.time()) of each POST /api/events."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.arrivals: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method") == "POST" and scope.get("path") == "/api/events":
            self.arrivals.append(time.time())
        await self.inner(scope, receive, send)


@contextlib.asynccontextmanager
async def runtime_over(conn: str, emu: ArmEmulator | None, stack: AsyncExitStack,
                       settings: Settings) -> AsyncIterator[Runtime]:
    """The function app's runtime (shared.bootstrap) over tables of their own and, with `emu`, the emulator."""
    suffix = uuid.uuid4().hex[:8]

    async def table(name: str) -> AzureTableStateStore:
        return await stack.enter_async_context(AzureTableStateStore.from_connection_string(conn, f"{name}{suffix}"))

    ops, clusters, secrets = await table("ops"), await table("clusters"), await table("secrets")
    queue = await stack.enter_async_context(AzureStepQueue.from_connection_string(conn, f"steps-{suffix}"))
    arm: Any = None
    if emu is not None:
        arm = await stack.enter_async_context(AzureArm(AsyncOfflineCredential(), emu.subscription_id,
                                                       base_url=emu.base_url, connection_verify=emu.ca_cert))
    outbox = Outbox(await table("outbox"), SystemClock())
    engine = Engine(operations=ops, clusters=clusters, queue=queue, arm=arm, clock=SystemClock(),
                    secrets=TableSecretStore(secrets), settings=FAST, lifecycle=outbox)
    yield bootstrap(settings, engine, outbox=outbox, rejected=await table("rejected"), events=await table("events"))


def eventgrid_batch(n: int, start: int) -> list[dict[str, Any]]:
    topic = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-x/providers/" \
            "Microsoft.ContainerService/managedClusters/not-managed"
    return [{"id": f"evt-{start + i}", "topic": topic, "subject": "not-managed",
             "eventType": "Microsoft.ContainerService.NodePoolRollingSucceeded",
             "eventTime": "2026-11-27T12:00:00Z", "data": {"nodePoolName": "apps"}, "dataVersion": "1",
             "metadataVersion": "1"} for i in range(n)]


async def ingest(conn: str, batches: int, in_flight: int) -> dict[str, Any]:
    settings = Settings(local=True, events_webhook_secret=SECRET)
    async with AsyncExitStack() as stack, runtime_over(conn, None, stack, settings) as rt:
        runtime.use(rt)
        bodies = [eventgrid_batch(100, b * 100) for b in range(batches)]
        figures: dict[str, Any] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as c:
            # warm: table created, code paths loaded
            await c.post("/api/events", json=eventgrid_batch(1, 10**9), headers=SECRET_HEADER)
            for label in ("new", "duplicates"):
                limit = asyncio.Semaphore(in_flight)
                latencies: list[float] = []

                async def post(body: list[dict[str, Any]], latencies: list[float] = latencies,
                               limit: asyncio.Semaphore = limit) -> None:
                    async with limit:
                        t = time.perf_counter()
                        response = await c.post("/api/events", json=body, headers=SECRET_HEADER)
                        latencies.append(time.perf_counter() - t)
                        assert response.status_code == 200, response.text

                t0 = time.perf_counter()
                await asyncio.gather(*(post(b) for b in bodies))
                elapsed = time.perf_counter() - t0
                figures[label] = {"events_per_s": round(batches * 100 / elapsed), "seconds": round(elapsed, 2),
                                  "batch_p50_ms": round(1000 * statistics.median(latencies), 1),
                                  "batch_p99_ms": round(1000 * quantile(latencies, 0.99), 1)}
        runtime.use(None)
        return figures


async def reaction_latency(conn: str, emu: ArmEmulator, evictions: int, max_polling: float) -> dict[str, Any]:
    emu.reset()
    cluster_id = (f"/subscriptions/{emu.subscription_id}/resourceGroups/rg-spotbench/providers/"
                  "Microsoft.ContainerService/managedClusters/spotbench")
    settings = Settings(default_subscription_id=emu.subscription_id, local=True, events_webhook_secret=SECRET)
    async with AsyncExitStack() as stack, runtime_over(conn, emu, stack, settings) as rt:
        engine = rt.engine
        runtime.use(rt)
        stop = asyncio.Event()
        runner = QueueRunner(engine.queue, engine.handle, semantics=QueueSemantics(
            lease_seconds=2, max_polling_interval=max_polling))
        tasks = [asyncio.create_task(runner.run(stop)), asyncio.create_task(sweeper(engine, stop))]
        stamped = Stamp(app)
        server = uvicorn.Server(uvicorn.Config(stamped, host="127.0.0.1", port=0, log_level="warning",
                                               lifespan="off"))
        tasks.append(asyncio.create_task(server.serve()))
        try:
            await until(lambda: server.started, 10)
            port = server.servers[0].sockets[0].getsockname()[1]
            emu.set(webhookUrl=f"http://127.0.0.1:{port}/api/events?code={SECRET}")
            request, violations = check(SPOT_REQUEST, default_subscription_id=emu.subscription_id)
            assert request is not None, violations
            created = await submit(engine, "create-cluster", request)
            await until_op(engine, created.operation_id, 120)
            latencies = []
            for n in range(1, evictions + 1):
                before = time.time()
                emu.control("POST", "spot-eviction", {"clusterId": cluster_id, "pool": "batch", "count": 1})
                record = await until_async(lambda n=n: fallback_at(engine, n), 30)
                arrival = next(a for a in stamped.arrivals if a >= before)

                async def fallback_put(arrival: float = arrival) -> float | None:
                    return next((r["time"] for r in emu.requests(200) if r["method"] == "PUT" and r["time"] >= arrival
                                 and r["path"].split("?")[0].lower().endswith("/agentpools/batchod")), None)

                put = await until_async(fallback_put, 30)
                latencies.append(put - arrival)
                await until_op(engine, record, 30)
        finally:
            server.should_exit = True
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            runtime.use(None)
    return {"evictions": evictions, "max_polling_s": max_polling,
            "p50_ms": round(1000 * statistics.median(latencies)), "p99_ms": round(1000 * quantile(latencies, 0.99)),
            "max_ms": round(1000 * max(latencies)), "min_ms": round(1000 * min(latencies))}


async def fallback_at(engine: Engine, n: int) -> str | None:
    """The id of the operation that asks for n fallback nodes, once the registry's desired request has it."""
    record = next(iter(await engine.registry.all()), None)
    pools = (record.request.get("userPools") or []) if record else []
    pool = next((p for p in pools if p["name"] == "batchod"), None)
    return record.queue[-1] if record and record.queue and pool and pool["count"] == n else None


async def until_op(engine: Engine, op_id: str, timeout: float) -> None:
    async def done() -> bool:
        found = await engine.ops.get(op_id, OPERATION_ROW)
        return bool(found and found.entity["state"] in ("succeeded", "failed"))

    await until_async(done, timeout)


async def sweeper(engine: Engine, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        await sweep(engine)


async def until(probe: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)  # polling a condition against a deadline


async def until_async(probe: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)  # polling a condition against a deadline


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> None:
    azurite = start_azurite()
    emulator = EmulatorThread(Emulator(EmulatorSettings(time_factor=0.001, retry_after="ms")))
    emu = ArmEmulator(emulator.start())
    try:
        print(f"machine: {platform.machine()} {platform.processor() or ''}, python {platform.python_version()}, "
              f"date {datetime.now(UTC).date().isoformat()}")
        for in_flight in (1, 4):
            print(f"ingest, batches of 100, {in_flight} request(s) in flight:",
                  await ingest(azurite.connection_string, args.batches, in_flight), flush=True)
        for polling in (2.0, 0.1):
            print("reaction latency:", await reaction_latency(azurite.connection_string, emu, args.evictions,
                                                              polling), flush=True)
    finally:
        emu.set(**{**TEST_SETTINGS, "webhookUrl": None})
        emu.close()
        emulator.stop()
        azurite.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--evictions", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
