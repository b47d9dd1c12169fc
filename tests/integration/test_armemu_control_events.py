"""The ARM emulator's control API, event delivery to webhooks, the CLI-compatibility endpoints and the command line."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import requests
from aiohttp import web
from azure.core.rest import HttpRequest
from azure.mgmt.containerservice.aio import ContainerServiceClient as AioContainerServiceClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient as AioResourceManagementClient

from local.armemu import Emulator, EmulatorSettings
from local.credential import AsyncOfflineCredential

pytestmark = pytest.mark.integration

RG = "rg-events"
REPO = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def webhook_receiver():
    """A tiny Event Grid webhook on 127.0.0.1: records (headers, JSON body) of every POST."""
    received: list[tuple[dict[str, str], object]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.json()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/events", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/events", received
    finally:
        await runner.cleanup()


async def wait_until(predicate, timeout: float = 30.0):  # a deadline for a loaded machine, not an expected time
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def create_cluster_with_spot_pool(armemu) -> str:
    async with armemu.aio_client(AioResourceManagementClient) as resources:
        await resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    async with armemu.aio_client(AioContainerServiceClient) as aks:
        poller = await aks.managed_clusters.begin_create_or_update(
            RG,
            "c1",
            {
                "location": "westeurope",
                "properties": {
                    "dnsPrefix": "c1",
                    "agentPoolProfiles": [
                        {"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 3},
                        {
                            "name": "batch",
                            "mode": "User",
                            "vmSize": "Standard_D8s_v5",
                            "count": 3,
                            "scaleSetPriority": "Spot",
                        },
                    ],
                },
            },
        )
        return (await poller.result()).id


async def test_spot_eviction_sends_virtual_machine_preempted_events_to_the_webhook(armemu):
    cluster_id = await create_cluster_with_spot_pool(armemu)
    async with webhook_receiver() as (url, received):
        armemu.set(webhookUrl=url)
        result = await asyncio.to_thread(
            armemu.control, "POST", "spot-eviction", {"clusterId": cluster_id, "pool": "batch", "count": 2}
        )
        assert (result["evicted"], result["count"]) == (2, 1)
        await wait_until(lambda: received)
    headers, events = received[0]
    assert headers["aeg-event-type"] == "Notification"
    assert isinstance(events, list) and len(events) == 2
    event = events[0]
    assert event["eventType"] == "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated"
    annotation = event["data"]["resourceInfo"]["properties"]
    assert annotation["annotationName"] == "VirtualMachinePreempted"
    assert annotation["context"] == "Platform Initiated" and annotation["category"] == "Unplanned"
    assert (
        "/resourceGroups/MC_rg-events_c1_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-batch-"
        in event["subject"]
    )
    async with armemu.aio_client(AioContainerServiceClient) as aks:
        assert (await aks.agent_pools.get(RG, "c1", "batch")).properties.count == 1


async def test_aks_system_events_reach_an_event_subscription_webhook(armemu):
    cluster_id = await create_cluster_with_spot_pool(armemu)
    async with webhook_receiver() as (url, received):
        async with armemu.aio_client(AioResourceManagementClient) as resources:
            topic_id = f"{cluster_id.split('/providers/')[0]}/providers/Microsoft.EventGrid/systemTopics/aks"
            await (
                await resources.resources.begin_create_or_update_by_id(
                    topic_id,
                    {
                        "location": "westeurope",
                        "properties": {"source": cluster_id, "topicType": "Microsoft.ContainerService.ManagedClusters"},
                    },
                    api_version="2025-02-15",
                )
            ).result()
            await (
                await resources.resources.begin_create_or_update_by_id(
                    f"{topic_id}/eventSubscriptions/s1",
                    {"properties": {"destination": {"endpointType": "WebHook", "properties": {"endpointUrl": url}}}},
                    api_version="2025-02-15",
                )
            ).result()
        await asyncio.to_thread(
            armemu.control,
            "POST",
            "aks-events",
            {"clusterId": cluster_id, "eventType": "NodePoolRollingStarted", "data": {"nodePoolName": "batch"}},
        )
        await wait_until(lambda: received)
    event = received[0][1][0]
    assert event["eventType"] == "Microsoft.ContainerService.NodePoolRollingStarted"
    assert event["topic"] == cluster_id and event["data"] == {"nodePoolName": "batch"}


def test_request_log_counters_inventory_and_reset(armemu):
    pipeline = armemu.pipeline()
    rg_url = f"{armemu.base_url}/subscriptions/{armemu.subscription_id}/resourcegroups/rg-x?api-version=2025-04-01"
    pipeline.send_request(HttpRequest("PUT", rg_url, json={"location": "westeurope"}))
    pipeline.send_request(HttpRequest("GET", rg_url))
    log = armemu.requests()
    assert [(r["method"], r["status"]) for r in log] == [("PUT", 201), ("GET", 200)]
    assert {"time", "method", "path", "status", "durationMs"} <= set(log[0])
    counters = armemu.counters()
    assert counters["byResourceType"]["Microsoft.Resources/resourceGroups"] == {"PUT": 1, "GET": 1}
    assert counters["byMethod"] == {"PUT": 1, "GET": 1}
    assert [r["id"] for r in armemu.inventory()] == [f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-x"]
    armemu.control("POST", "reset")
    assert armemu.inventory() == [] and armemu.requests() == []


def test_protocol_errors_look_like_arm(armemu):
    url = f"{armemu.base_url}/subscriptions/{armemu.subscription_id}/resourcegroups/rg-x"
    unauthenticated = requests.get(url + "?api-version=2025-04-01", verify=armemu.ca_cert, timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "AuthenticationFailed"
    missing_version = armemu.pipeline().send_request(HttpRequest("GET", url))
    assert missing_version.status_code == 400
    assert missing_version.json()["error"]["code"] == "MissingApiVersionParameter"


def test_cli_compatibility_endpoints(armemu):
    def metadata(api_version: str):
        url = f"{armemu.base_url}/metadata/endpoints?api-version={api_version}"
        return requests.get(url, verify=armemu.ca_cert, timeout=10).json()

    # az cloud register reads 2022-09-01 as ONE cloud (azure-cli-core `_arm_to_cli_mapper`): these are its reads.
    cloud = metadata("2022-09-01")
    assert cloud["name"] and cloud["resourceManager"] == armemu.base_url + "/"
    assert cloud["authentication"]["audiences"][0] and cloud["authentication"]["loginEndpoint"] == armemu.base_url + "/"
    assert cloud["suffixes"]["keyVaultDns"] and cloud["suffixes"]["storage"]
    # ARM_CLOUD_METADATA_URL readers (`_convert_arm_to_cli`) iterate a list; msrestazure's 1.0 reads the first shape.
    assert [c["resourceManager"] for c in metadata("2019-05-01")] == [armemu.base_url + "/"]
    first = metadata("1.0")
    assert first["galleryEndpoint"] and first["authentication"]["loginEndpoint"] == armemu.base_url + "/"
    token = requests.get(
        f"{armemu.base_url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/",
        headers={"Metadata": "true"},
        verify=armemu.ca_cert,
        timeout=10,
    ).json()
    assert token["token_type"] == "Bearer" and token["access_token"].count(".") == 2
    pipeline = armemu.pipeline()
    subs = pipeline.send_request(HttpRequest("GET", f"{armemu.base_url}/subscriptions?api-version=2022-12-01")).json()
    assert subs["value"][0]["subscriptionId"] == armemu.subscription_id
    tenants = pipeline.send_request(HttpRequest("GET", f"{armemu.base_url}/tenants?api-version=2022-12-01")).json()
    assert tenants["value"][0]["tenantId"]


def test_command_line_prints_one_ready_line_and_exits_0_on_sigterm(tmp_path):
    faults = tmp_path / "faults.json"
    faults.write_text(
        json.dumps({"rules": [{"name": "flaky", "method": "GET", "action": "status", "status": 503, "rate": 0.1}]})
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.armemu",
            "--port",
            "0",
            "--time-factor",
            "0.01",
            "--state-dir",
            str(tmp_path),
            "--seed",
            "3",
            "--no-retry-after",
            "--faults",
            str(faults),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(process.stdout.readline())
        assert ready["baseUrl"].startswith("https://127.0.0.1:")
        settings = requests.get(f"{ready['baseUrl']}/_emulator/settings", verify=ready["caCert"], timeout=10).json()
        assert (settings["seed"], settings["retryAfter"], settings["timeFactor"]) == (3, "none", 0.01)
        plan = requests.get(f"{ready['baseUrl']}/_emulator/faults", verify=ready["caCert"], timeout=10).json()
        assert (plan["seed"], plan["rules"][0]["name"]) == (3, "flaky")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stdout.read() == ""
    assert (tmp_path / "state.json").exists()


async def test_the_emulator_runs_in_process_as_an_async_context_manager():
    settings = EmulatorSettings(time_factor=0.001, retry_after="ms")
    async with Emulator(settings) as emulator:
        kwargs = {"base_url": emulator.base_url, "connection_verify": emulator.ca_cert}
        async with AioResourceManagementClient(AsyncOfflineCredential(), settings.subscription_id, **kwargs) as client:
            await client.resource_groups.create_or_update("rg-inproc", {"location": "westeurope"})
            await (await client.resource_groups.begin_delete("rg-inproc")).result()
            assert not await client.resource_groups.check_existence("rg-inproc")
