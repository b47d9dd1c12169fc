"""Benchmark of event reactions (`python -m bench.bench_events [--batches N] [--evictions N] [--modes a,b]`;
prints figures, asserts nothing).

1. Ingest: events per second through `POST /api/events` (the FastAPI app in-process through httpx's ASGI
   transport, the events router included) in batches of 100, dedupe on, over Azurite's tables, for each workload
   of `MODES` (`--modes`): who sends (the local shared secret; Event Grid with an RS256 token of the emulator's
   Entra ID, validated with its cached signing keys; an in-cluster agent signing with its cluster's key, read from
   the secret store at most once a minute) and about which clusters (unmanaged: one summary row per delivery;
   managed: each event decided under its cluster's lease and recorded in its own dedupe row, 4 clusters). Then the
   same batches again (all duplicates). The client's signing is inside the timing.
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
import hashlib
import hmac
import json
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
from shared.adapters.entra import EntraTokenValidator
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
# Ingest workloads: who sends (local shared secret, Event Grid with an Entra token, an agent signing with its
# cluster's key) and about which clusters (managed: each event decided under the cluster's lease, with its dedupe
# row; unmanaged: one summary row per delivery).
MODES = ("local-unmanaged", "entra-unmanaged", "entra-managed", "agent")
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
async def runtime_over(conn: str, emu: ArmEmulator | None, stack: AsyncExitStack, settings: Settings,
                       tokens: EntraTokenValidator | None = None) -> AsyncIterator[Runtime]:
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
    yield bootstrap(settings, engine, outbox=outbox, rejected=await table("rejected"), events=await table("events"),
                    tokens=tokens)


SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "72f988bf-0000-4000-8000-00000000e7e7"  # the emulator's Entra ID stand-in's default tenant
AUDIENCE = "api://5e7a1c2d-0000-4000-8000-00000000c11e"
GRID_ROLE = "AzureEventGridSecureWebhookSubscriber"
MANAGED = 4  # managed clusters of the "managed" workloads, one per request in flight


def cluster_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-{name}/providers/Microsoft.ContainerService/" \
           f"managedClusters/{name}"


def eventgrid_batch(n: int, start: int, cluster: str = "not-managed") -> list[dict[str, Any]]:
    """AKS system events (Event Grid schema) whose topic is `cluster`'s ARM id; no reaction acts on them."""
    return [{"id": f"evt-{start + i}", "topic": cluster_id(cluster), "subject": cluster,
             "eventType": "Microsoft.ContainerService.NodePoolRollingSucceeded",
             "eventTime": "2026-11-27T12:00:00Z", "data": {"nodePoolName": "apps"}, "dataVersion": "1",
             "metadataVersion": "1"} for i in range(n)]


def agent_batch(n: int, start: int, cluster: str) -> bytes:
    """A CloudEvents batch of pool-pressure reports with nothing to place (decided, recorded, no operation)."""
    return json.dumps([{"specversion": "1.0", "id": f"agent-{start + i}", "source": f"{cluster_id(cluster)}/agent",
                        "type": "aksvend.pool.pressure", "time": "2026-11-27T12:00:00Z",
                        "data": {"clusterId": cluster_id(cluster), "pool": "apps", "pendingPods": 0}}
                       for i in range(n)]).encode()


def signed(key: str, cluster: str, body: bytes) -> dict[str, str]:
    """The in-cluster agent's headers (docs/events.md, "How each source is authenticated")."""
    stamp = str(int(time.time()))
    mac = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Aksvend-Cluster": f"{SUBSCRIPTION}/rg-{cluster}/{cluster}", "X-Aksvend-Timestamp": stamp,
            "X-Aksvend-Signature": f"sha256={mac}", "content-type": "application/cloudevents-batch+json"}


Request = tuple[bytes, dict[str, str]]


async def requests_for(mode: str, rt: Runtime, emu: ArmEmulator, batches: int) -> list[Request]:
    """The POSTs of one workload, authenticated as its mode says (the signing is part of the client's work)."""
    managed = mode != "entra-unmanaged" and mode != "local-unmanaged"
    if managed:
        for n in range(MANAGED):
            request, violations = check({"name": f"c{n}", "resourceGroup": f"rg-c{n}", "location": "westeurope"},
                                        default_subscription_id=SUBSCRIPTION)
            assert request is not None, violations
            await submit(rt.engine, "create-cluster", request)
            assert rt.clusters.agent_keys is not None
            await rt.clusters.agent_keys.issue(cluster_id(f"c{n}"))
    grid = {"content-type": "application/json"}
    if mode.startswith("entra"):
        token = emu.control("POST", "entra/token", {"tenant": TENANT, "audience": AUDIENCE, "name": "eventgrid",
                                                    "roles": [GRID_ROLE]})["access_token"]
        grid["Authorization"] = f"Bearer {token}"
    elif mode.startswith("local"):
        grid.update(SECRET_HEADER)
    out: list[Request] = []
    for b in range(batches):
        cluster = f"c{b % MANAGED}" if managed else "not-managed"
        if mode == "agent":
            assert rt.clusters.agent_keys is not None
            [key, *_] = await rt.clusters.agent_keys.valid(cluster_id(cluster))
            body = agent_batch(100, b * 100, cluster)
            out.append((body, signed(key, cluster, body)))
        else:
            out.append((json.dumps(eventgrid_batch(100, b * 100, cluster)).encode(), grid))
    return out


async def ingest(conn: str, emu: ArmEmulator, mode: str, batches: int, in_flight: int) -> dict[str, Any]:
    settings = Settings(local=True, events_webhook_secret=SECRET if mode.startswith("local") else None,
                        default_subscription_id=SUBSCRIPTION)
    tokens = EntraTokenValidator.for_authority(TENANT, [AUDIENCE], emu.base_url, ca_cert=emu.ca_cert)
    async with AsyncExitStack() as stack, runtime_over(conn, None, stack, settings, tokens) as rt:
        runtime.use(rt)
        bodies = await requests_for(mode, rt, emu, batches + 1)
        figures: dict[str, Any] = {"mode": mode, "in_flight": in_flight}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as c:
            warm = await c.post("/api/events", content=bodies[-1][0], headers=bodies[-1][1])  # tables, keys, code
            assert warm.status_code == 200, warm.text
            for label in ("new", "duplicates"):
                figures[label] = await timed(c, bodies[:-1], in_flight)
        runtime.use(None)
        return figures


async def timed(c: httpx.AsyncClient, bodies: list[Request], in_flight: int) -> dict[str, Any]:
    limit = asyncio.Semaphore(in_flight)
    latencies: list[float] = []

    async def post(body: bytes, headers: dict[str, str]) -> None:
        async with limit:
            t = time.perf_counter()
            response = await c.post("/api/events", content=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text

    t0 = time.perf_counter()
    await asyncio.gather(*(post(*b) for b in bodies))
    elapsed = time.perf_counter() - t0
    return {"events_per_s": round(len(bodies) * 100 / elapsed), "seconds": round(elapsed, 2),
            "batch_p50_ms": round(1000 * statistics.median(latencies), 1),
            "batch_p99_ms": round(1000 * quantile(latencies, 0.99), 1)}


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
        for mode in args.modes.split(","):
            for in_flight in (1, 4):
                print("ingest, batches of 100:", await ingest(azurite.connection_string, emu, mode, args.batches,
                                                              in_flight), flush=True)
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
    parser.add_argument("--modes", default=",".join(MODES), help=f"ingest workloads, of {', '.join(MODES)}")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
