"""An in-process engine wired to real Azurite and the ARM emulator, with a Functions-like queue runner."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.credential import AsyncOfflineCredential
from local.host.queue_runner import QueueRunner, QueueSemantics
from shared.adapters.arm import AzureArm
from shared.adapters.clock import SystemClock, TableSecretStore
from shared.adapters.queue import AzureStepQueue
from shared.adapters.store import AzureTableStateStore
from shared.domain.plan import VNET_RULE_PREFIX, plan
from shared.domain.rules import check
from shared.engine import Engine, EngineSettings, LifecycleSink, deliver, poisoned, submit, sweep
from shared.engine.records import OPERATION_ROW
from shared.errors import RetryableError

ROOT = Path(__file__).resolve().parents[2]  # the checkout: worker processes run from it
FAST = EngineSettings(poll_interval_seconds=0.2, lease_seconds=3.0, backoff_base_seconds=0.2,
                      max_backoff_seconds=2.0, step_deadline_seconds=120.0)
STORAGE_RG = "rg-shop-data"


@dataclass
class Harness:
    engine: Engine
    armemu: Any
    runner: QueueRunner | None = None

    async def submit(self, raw: dict, kind: str = "create-cluster", **kw: Any) -> str:
        request, violations = check(raw, default_subscription_id=self.armemu.subscription_id)
        assert request is not None, violations
        return (await submit(self.engine, kind, request, **kw)).operation_id  # type: ignore[arg-type]

    async def operation(self, op_id: str) -> dict:
        found = await self.engine.ops.get(op_id, OPERATION_ROW)
        assert found is not None
        return found.entity

    async def wait_done(self, op_id: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            op = await self.operation(op_id)
            if op["state"] in ("succeeded", "failed"):
                return op
            await asyncio.sleep(0.05)  # polling a condition with a deadline, not synchronisation by sleep
        raise AssertionError(f"operation {op_id} not done after {timeout}s: {await self.operation(op_id)}")


def make_storage_target(armemu: Any, name: str = "stshopdata") -> str:
    """The storage account a private endpoint points at: it must exist, as in Azure."""
    sub = armemu.subscription_id
    pipe = armemu.pipeline()
    from azure.core.rest import HttpRequest

    rg = f"{armemu.base_url}/subscriptions/{sub}/resourceGroups/{STORAGE_RG}"
    pipe.send_request(HttpRequest("PUT", f"{rg}?api-version=2025-04-01", json={"location": "westeurope"}))
    account = f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}".removeprefix(armemu.base_url)
    response = pipe.send_request(HttpRequest("PUT", f"{armemu.base_url}{account}?api-version=2025-01-01", json={
        "location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}))
    assert response.status_code < 300, response.text()
    armemu.wait_for(lambda: any(r["id"].lower() == account.lower() for r in armemu.inventory()), timeout=10)
    return account


def production(account: str) -> dict:
    """The production request, with a private endpoint to `account` (see `make_storage_target`)."""
    return {"name": "shop-prod", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "production",
            "network": {"privateEndpoints": [{"name": "data", "targetResourceId": account, "groupId": "blob"}]}}


def expected_inventory(raw: dict, subscription_id: str) -> set[str]:
    """The planned resources and the children their bodies declare inline (subnets, the cluster's pools)."""
    request, violations = check(raw, default_subscription_id=subscription_id)
    assert request is not None, violations
    p = plan(request)
    ids = {r.id.lower() for r in p.resources if not r.key.startswith(VNET_RULE_PREFIX)}  # edits of others' targets
    cluster = p.resource("cluster")
    for vnet in (r for r in p.resources if r.key == "vnet"):  # none with an existing network (shared/domain/byo.py)
        ids |= {f"{vnet.id}/subnets/{s['name']}".lower() for s in vnet.body["properties"]["subnets"]}
    ids |= {f"{cluster.id}/agentPools/{a['name']}".lower() for a in cluster.body["properties"]["agentPoolProfiles"]}
    return ids


def made_by_aksvend(armemu: Any, account: str) -> set[str]:
    """What the emulator holds, less the private endpoint's target and what AKS makes itself (node group)."""
    target_group = account.lower().rsplit("/providers", 1)[0]
    return {r["id"].lower() for r in armemu.inventory()
            if not r["id"].lower().startswith(target_group) and "/resourcegroups/mc_" not in r["id"].lower()}


def creates_per_resource(armemu: Any) -> dict[str, int]:
    """How many times the emulator answered 201 Created to a PUT, by resource: 1 each when no PUT created twice."""
    counts: dict[str, int] = {}
    for r in armemu.requests():
        if r["method"] == "PUT" and r["status"] == 201:
            key = r["path"].split("?")[0].lower()
            counts[key] = counts.get(key, 0) + 1
    return counts


async def open_test_engine(stack: AsyncExitStack, armemu: Any, connection_string: str, *, tables: tuple[str, str, str],
                           queue: str, settings: EngineSettings | None = None,
                           lifecycle: LifecycleSink | None = None, arm_kwargs: dict | None = None,
                           table_kwargs: dict | None = None) -> Engine:
    """An Engine over Azurite (operations, clusters and secrets tables; the step queue) and the emulator.
    `arm_kwargs`, `table_kwargs`: options of the ARM adapter (timeouts) and the table clients (their retries)."""
    ops, clusters, secrets = [await stack.enter_async_context(AzureTableStateStore.from_connection_string(
        connection_string, name, **(table_kwargs or {}))) for name in tables]
    steps = await stack.enter_async_context(AzureStepQueue.from_connection_string(connection_string, queue))
    arm = await stack.enter_async_context(AzureArm(AsyncOfflineCredential(), armemu.subscription_id,
                                                   base_url=armemu.base_url, connection_verify=armemu.ca_cert,
                                                   **(arm_kwargs or {})))
    return Engine(operations=ops, clusters=clusters, queue=steps, arm=arm, clock=SystemClock(),
                  secrets=TableSecretStore(secrets), settings=settings, lifecycle=lifecycle)


@contextlib.asynccontextmanager
async def harness(armemu: Any, connection_string: str, *, settings: EngineSettings = FAST, run: bool = True,
                  handler_wrapper: Callable[[Callable[[dict], Awaitable[None]]], Callable[[dict], Awaitable[None]]]
                  | None = None, sweep_every: float = 0.5, lifecycle: LifecycleSink | None = None,
                  arm_kwargs: dict | None = None, table_kwargs: dict | None = None) -> AsyncIterator[Harness]:
    suffix = uuid.uuid4().hex[:8]
    async with AsyncExitStack() as stack:
        engine = await open_test_engine(stack, armemu, connection_string, settings=settings,
                                        tables=(f"ops{suffix}", f"clusters{suffix}", f"secrets{suffix}"),
                                        queue=f"steps-{suffix}", lifecycle=lifecycle, arm_kwargs=arm_kwargs,
                                        table_kwargs=table_kwargs)
        queue = engine.queue
        h = Harness(engine, armemu)
        stop = asyncio.Event()
        tasks = []
        if run:
            async def delivered(message: dict) -> None:
                await deliver(engine, message)

            handler = handler_wrapper(delivered) if handler_wrapper else delivered
            h.runner = QueueRunner(queue, handler, poison=lambda body, _n: poisoned(engine, body),
                                   semantics=QueueSemantics(lease_seconds=2, max_polling_interval=0.1))
            tasks.append(asyncio.create_task(h.runner.run(stop)))

            async def sweeper() -> None:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), sweep_every)
                    with contextlib.suppress(RetryableError):  # storage down: this run fails, the next one sweeps
                        await sweep(engine)

            tasks.append(asyncio.create_task(sweeper()))
        try:
            yield h
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A worker process (`python -m local.host.worker`, as the local host runs it), returned once it says it is
    ready; its log goes to `log` (at INFO it has the SDKs' request lines)."""
    with log.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "local.host.worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=stderr)
    assert worker.stdout is not None
    line = worker.stdout.readline()  # blocks until ready; the process exits (empty line) if it cannot start
    assert b'"ready": true' in line, log.read_text()
    return worker
