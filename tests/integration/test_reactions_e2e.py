"""Event reactions end to end: the ARM emulator evicts spot nodes and POSTs its Event Grid events over real HTTP to
the ASGI app (uvicorn on 127.0.0.1, an ephemeral port), whose `POST /api/events` feeds the events service, which
submits engine operations that run against the emulator (Azurite for tables and queues).

The emulator's `VirtualMachinePreempted` events are synthetic (no official sample exists; see
shared/fixtures/eventgrid/README.md)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from functions import runtime
from functions.http_api import app
from shared.adapters.store import AzureTableStateStore
from shared.bootstrap import bootstrap
from shared.config import Settings
from shared.domain.arm import AGENT_POOL, CLUSTER
from shared.domain.policy import allow_all
from shared.engine.records import cluster_key
from shared.services.events import EventService
from shared.services.outbox import Outbox
from tests.fakes import FakeClock, FakeStateStore
from tests.integration.engine_harness import Harness, harness
from tests.principals import pid

pytestmark = pytest.mark.integration
T = TypeVar("T")
SECRET = "fake-events-webhook-secret"
COOLDOWN = 5
REQUEST = {
    "name": "spotty", "resourceGroup": "rg-spot", "location": "westeurope", "profile": "development",
    "kubernetesVersion": "1.33",
    "userPools": [
        {"name": "apps", "count": 2, "autoscale": {"min": 1, "max": 2}},
        {"name": "batch", "workload": "batch", "count": 5, "spot": {"evictionPolicy": "Delete", "maxPrice": -1},
         "autoscale": {"min": 0, "max": 6}},
    ],
    "reactions": {"spotFallback": "on-demand", "maxNodesPerPool": 4, "cooldownSeconds": COOLDOWN,
                  "autoUpgrade": "patch"},
}


@dataclass
class Stack:
    h: Harness
    service: EventService
    url: str
    armemu: Any

    @property
    def cluster_id(self) -> str:
        return (f"/subscriptions/{self.armemu.subscription_id}/resourceGroups/rg-spot/providers/"
                "Microsoft.ContainerService/managedClusters/spotty")

    async def pool(self, name: str) -> dict[str, Any] | None:
        found = await self.h.engine.arm.get(AGENT_POOL.name, f"{self.cluster_id}/agentPools/{name}",
                                            AGENT_POOL.api_version)
        return dict(found) if found else None

    async def settled_pool(self, name: str, **expected: Any) -> dict[str, Any]:
        """The pool once it has the expected properties and its operation has finished."""
        async def check() -> dict[str, Any] | None:
            pool = await self.pool(name)
            props = (pool or {}).get("properties") or {}
            done = props.get("provisioningState") == "Succeeded"
            return pool if done and all(props.get(k) == v for k, v in expected.items()) else None

        return await until(check, f"pool {name} with {expected}")


async def until(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.05)  # polling a condition against a deadline
    raise AssertionError(f"not within {timeout} s: {what}")


@contextlib.asynccontextmanager
async def serve(asgi: Any) -> AsyncIterator[str]:
    """uvicorn on 127.0.0.1 with an ephemeral port, on this loop; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await until(lambda: _started(server), "uvicorn started", timeout=10)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


@pytest.fixture
async def stack(armemu, azurite_connection_string) -> AsyncIterator[Stack]:
    outbox = Outbox(FakeStateStore(), FakeClock.real())
    async with harness(armemu, azurite_connection_string, lifecycle=outbox) as h, \
            AzureTableStateStore.from_connection_string(azurite_connection_string,
                                                        f"events{uuid.uuid4().hex[:8]}") as table:
        settings = Settings(default_subscription_id=armemu.subscription_id, local=True, local_caller=pid("dev"),
                            events_webhook_secret=SECRET)
        rt = bootstrap(settings, h.engine, outbox=outbox, rejected=FakeStateStore(), events=table, policy=allow_all())
        service = rt.event_intake
        runtime.use(rt)
        async with serve(app) as url:
            armemu.set(webhookUrl=f"{url}/api/events?code={SECRET}")
            stack = Stack(h, service, url, armemu)
            op = await h.wait_done(await h.submit(REQUEST))
            assert op["state"] == "succeeded", op.get("error")
            yield stack
        runtime.use(None)


def evict(stack: Stack, count: int) -> dict[str, Any]:
    return stack.armemu.control("POST", "spot-eviction", {"clusterId": stack.cluster_id, "pool": "batch",
                                                         "count": count})


async def test_spot_evictions_are_replaced_on_demand_and_given_back_after_the_cooldown(stack):
    earlier = len(stack.armemu.emulator.world.deliverer.deliveries)  # the emulator is shared by the session's tests
    evicted = evict(stack, 3)
    assert evicted["evicted"] == 3 and evicted["deliveredTo"]
    fallback = await stack.settled_pool("batchod", count=3)
    props = fallback["properties"]
    assert props.get("scaleSetPriority", "Regular") == "Regular" and props["vmSize"] == "Standard_D2s_v5"
    assert props["nodeLabels"]["aksvend.io/spot-fallback-for"] == "batch"
    assert props["nodeTaints"] == ["aksvend.io/spot-fallback=true:NoSchedule"]  # decision 7
    assert stack.armemu.emulator.world.deliverer.deliveries[-1]["status"] == 200

    assert evict(stack, 2)["evicted"] == 2  # within the cooldown: more capacity, at most maxNodesPerPool (4)
    await stack.settled_pool("batchod", count=4)
    deliveries = stack.armemu.emulator.world.deliverer.deliveries[earlier:]
    assert [d["status"] for d in deliveries] == [200, 200]

    # The sweeper's clock, a cooldown on: no waiting for real time to pass.
    report = await stack.service.sweep(stack.h.engine.clock.now() + timedelta(seconds=COOLDOWN))
    assert report.scaled_down
    await stack.settled_pool("batchod", count=0)


async def test_redelivered_events_act_once_and_the_webhook_checks_its_secret(stack):
    evicted = evict(stack, 1)
    await stack.settled_pool("batchod", count=1)
    async with httpx.AsyncClient(base_url=stack.url) as client:
        again = await client.post(f"/api/events?code={SECRET}", json=evicted["events"])
        assert again.status_code == 200 and again.json()["duplicates"] == 1, again.text
        denied = await client.post("/api/events", json=evicted["events"])
        assert denied.status_code == 401 and denied.headers["content-type"] == "application/problem+json"
        assert SECRET not in denied.text
        broken = await client.post("/api/events", json=[{"id": "x"}], headers={"X-Aksvend-Secret": SECRET})
        assert broken.status_code == 400 and broken.json()["errors"]
        hello = await client.options("/api/events", headers={"WebHook-Request-Origin": "eventgrid.azure.net",
                                                              "X-Aksvend-Secret": SECRET})
        assert hello.status_code == 200 and hello.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert (await stack.pool("batchod"))["properties"]["count"] == 1


async def test_pressure_raises_the_autoscale_maximum_within_the_bound(stack):
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"{stack.cluster_id}/agents/pressure",
             "type": "aksvend.pool.pressure", "datacontenttype": "application/json",
             "data": {"clusterId": stack.cluster_id, "pool": "apps", "pendingPods": 50}}
    async with httpx.AsyncClient(base_url=stack.url) as client:
        response = await client.post("/api/events", json=event, headers={
            "X-Aksvend-Secret": SECRET, "content-type": "application/cloudevents+json"})
    assert response.status_code == 200 and len(response.json()["operations"]) == 1, response.text
    await stack.settled_pool("apps", maxCount=4, enableAutoScaling=True)


def new_versions(stack: Stack, supported: str, stable: str) -> dict[str, Any]:
    """An AKS `NewKubernetesVersionAvailable` as Event Grid delivers it, naming whatever the sender likes."""
    return {"topic": stack.cluster_id, "subject": "spotty", "id": str(uuid.uuid4()),
            "eventType": "Microsoft.ContainerService.NewKubernetesVersionAvailable",
            "eventTime": "2026-11-27T00:00:00Z",
            "data": {"latestSupportedKubernetesVersion": supported, "latestStableKubernetesVersion": stable,
                     "lowestMinorKubernetesVersion": "1.31.9", "latestPreviewKubernetesVersion": "1.35.0"},
            "dataVersion": "1", "metadataVersion": "1"}


async def test_an_upgrade_to_a_version_arm_does_not_offer_does_nothing(stack):
    key = cluster_key(stack.armemu.subscription_id, "rg-spot", "spotty")
    before = len(stack.armemu.requests())
    async with httpx.AsyncClient(base_url=stack.url) as client:
        response = await client.post(f"/api/events?code={SECRET}", json=[new_versions(stack, "1.33.999", "1.33.999")])
    assert response.status_code == 200 and response.json()["operations"] == [], response.text
    assert "not offered: 1.33.999" in response.json()["outcomes"][0]["outcome"]
    record = await stack.h.engine.registry.get(key)
    assert record is not None and record.request["kubernetesVersion"] == "1.33" and not record.queue
    cluster = await stack.h.engine.arm.get(CLUSTER.name, stack.cluster_id, CLUSTER.api_version)
    assert cluster["properties"]["currentKubernetesVersion"] == "1.33.2"
    read = [r for r in stack.armemu.requests()[before:] if r["path"].lower().endswith("/upgradeprofiles/default")]
    assert [(r["method"], r["status"]) for r in read] == [("GET", 200)]  # the profile said what exists


async def test_an_upgrade_runs_the_control_plane_then_each_pool(stack):
    stack.armemu.control("PUT", "kubernetes-versions", {"versions": ["1.33.2", "1.33.5", "1.34.1"]})  # 1.33.5 out
    before = len(stack.armemu.requests())
    stack.armemu.control("POST", "aks-events", {
        "clusterId": stack.cluster_id, "eventType": "NewKubernetesVersionAvailable",
        "data": {"latestSupportedKubernetesVersion": "1.34.1", "latestStableKubernetesVersion": "1.33.5",
                 "lowestMinorKubernetesVersion": "1.31.9", "latestPreviewKubernetesVersion": "1.35.0"}})
    for name in ("system", "apps", "batch"):
        await stack.settled_pool(name, currentOrchestratorVersion="1.33.5")
    cluster = await stack.h.engine.arm.get(CLUSTER.name, stack.cluster_id, CLUSTER.api_version)
    assert cluster["properties"]["currentKubernetesVersion"] == "1.33.5"
    puts = [r["path"].split("?")[0].rsplit("/", 1)[-1] for r in stack.armemu.requests()[before:]
            if r["method"] == "PUT" and "managedclusters" in r["path"].lower()]
    order = [p for i, p in enumerate(puts) if i == 0 or puts[i - 1] != p]  # a retried PUT (429) counts once
    assert order == ["spotty", "system", "apps", "batch"], puts


async def test_a_delivery_past_one_mebibyte_of_events_under_a_megabyte_each_is_taken(stack):
    import json as _json

    def event(size: int) -> dict:
        return {"id": f"big-{size}", "topic": "/subscriptions/x/resourceGroups/y", "subject": "s",
                "eventType": "Custom.Big", "eventTime": "2026-11-27T00:00:00Z", "dataVersion": "1",
                "data": {"blob": "x" * size}}

    delivery = [event(1_040_000), event(30_000)]  # each under Event Grid's 1 MB per event, together over 1 MiB
    assert len(_json.dumps(delivery).encode()) > 1024 * 1024
    async with httpx.AsyncClient(base_url=stack.url) as client:
        taken = await client.post(f"/api/events?code={SECRET}", json=delivery)
        assert taken.status_code == 200, taken.text
        refused = await client.post(f"/api/events?code={SECRET}", json=[event(1_100_000)])
        assert refused.status_code == 400 and refused.headers["content-type"] == "application/problem+json"
