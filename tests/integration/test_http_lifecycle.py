"""A cluster's whole life through the HTTP API (functions/http_lifecycle.py) over a real engine on the local stack
(Azurite, the ARM emulator, the SDKs): patch, system pool scale and VM size swap, upgrade to what ARM offers, deletion
protection, re-create by the same name, and adopting a cluster ARM has and aksvend does not manage."""

from __future__ import annotations

import httpx
import pytest
from azure.mgmt.containerservice import ContainerServiceClient

from functions import runtime
from functions.http_api import app
from shared.bootstrap import bootstrap
from shared.config import Settings
from shared.domain.policy import Policy
from shared.engine.records import CLUSTER_PARTITION, cluster_key
from shared.services.outbox import Outbox
from tests.fakes import FakeClock, FakeStateStore
from tests.integration.engine_harness import harness
from tests.integration.http_harness import settled
from tests.integration.test_http_api import wait_op
from tests.principals import pid

pytestmark = pytest.mark.integration
ALL = ["create", "change", "delete", "read", "admin"]
POLICY = {"rules": [{"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-life*"],
                     "actions": ALL}]}
PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture
async def api(armemu, azurite_connection_string):
    outbox = Outbox(FakeStateStore(), FakeClock.real())
    async with harness(armemu, azurite_connection_string, lifecycle=outbox) as h:
        settings = Settings(default_subscription_id=armemu.subscription_id, local=True, local_caller=pid("dev"))
        rt = bootstrap(settings, h.engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                       policy=Policy.model_validate(POLICY))
        runtime.use(rt)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as c:
            yield c, rt
        runtime.use(None)


def request(rg: str, name: str, **extra) -> dict:
    return {"name": name, "resourceGroup": rg, "location": "westeurope", "deletionProtection": True, **extra}



async def done(client, response: httpx.Response, path: str) -> dict:
    """The operation a 202 started, succeeded, and its cluster settled."""
    assert response.status_code == 202, response.text
    op = await wait_op(client, response.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    await settled(client, path)
    return op


def aks(armemu) -> ContainerServiceClient:
    return armemu.client(ContainerServiceClient)


async def test_patch_swap_protection_and_the_same_name_again(api, armemu):
    """The life of one cluster in order (about 20 s: nine operations one after another, each the state the next
    one starts from; split, each part would create its own cluster first)."""
    client, _ = api
    rg, name = "rg-life-a", "life-a"
    path = f"/api/clusters/{armemu.subscription_id}/{rg}/{name}"
    await done(client, await client.post("/api/clusters", json=request(rg, name)), path)

    tags = {"tags": {"costCenter": "4711"}, "autoscalerProfile": {"scan-interval": "20s"}}
    await done(client, await client.patch(path, json=tags, headers=PATCH), path)
    cluster = aks(armemu).managed_clusters.get(rg, name)
    assert cluster.tags["costCenter"] == "4711" and cluster.auto_scaler_profile.scan_interval == "20s"
    await done(client, await client.patch(path, json={"systemPool": {"count": 2}}), path)  # plain JSON too
    assert aks(armemu).agent_pools.get(rg, name, "system").count == 2
    system = aks(armemu).agent_pools.get(rg, name, "system")
    system.count = 3  # the autoscaler, or someone, scaled it since
    aks(armemu).agent_pools.begin_create_or_update(rg, name, "system", system).result()
    await done(client, await client.patch(path, json={"systemPool": {"labels": {"tier": "system"}}}), path)
    system = aks(armemu).agent_pools.get(rg, name, "system")
    assert system.count == 3 and system.node_labels["tier"] == "system"  # a label change resizes nothing

    fixed = await client.patch(path, json={"location": "northeurope", "systemPool": {"zones": ["1"]}}, headers=PATCH)
    assert fixed.status_code == 422 and fixed.json()["code"] == "InvalidPatch"
    assert {e["path"] for e in fixed.json()["errors"]} == {"/location", "/systemPool/zones"}
    broken = await client.patch(path, json={"systemPool": {"count": 0}}, headers=PATCH)  # a create's rules hold
    assert broken.status_code == 422 and broken.json()["code"] == "InvalidRequest", broken.text

    swap = await done(client, await client.patch(path, json={"systemPool": {"vmSize": "Standard_D4s_v5"}},
                                                 headers=PATCH), path)
    assert [s["id"] for s in swap["steps"]] == ["put:pool:system2", "delete:pool:system"]
    pools = {p.name: p for p in aks(armemu).agent_pools.list(rg, name)}
    assert set(pools) == {"system2", "apps"}
    assert (pools["system2"].mode, pools["system2"].vm_size, pools["system2"].count) == ("System",
                                                                                       "Standard_D4s_v5", 2)
    assert pools["system2"].node_labels["tier"] == "system"
    assert "CriticalAddonsOnly=true:NoSchedule" in pools["system2"].node_taints

    refused = await client.delete(path, params={"confirm": name})
    assert refused.status_code == 409 and refused.json()["code"] == "DeletionProtected"
    await done(client, await client.patch(path, json={"deletionProtection": False}, headers=PATCH), path)
    gone = await client.delete(path, params={"confirm": name})
    assert gone.status_code == 202, gone.text
    assert (await wait_op(client, gone.headers["Location"]))["state"] == "succeeded"
    assert (await client.get(path)).status_code == 404
    again = await done(client, await client.post("/api/clusters", json=request(rg, name, tags={"v": "2"})), path)
    assert again["kind"] == "create-cluster"
    assert (await client.get(path)).json()["desired"]["tags"] == {"v": "2"}


async def test_an_upgrade_to_an_offered_version_keeps_the_pool_counts_arm_has(api, armemu):
    """Issue 17: an upgrade reset a spot pool that evictions had brought to 1 node back to the requested 3 (and so
    did a taint change); then the pool is stopped and started, and comes back with its 1 node."""
    client, _ = api
    rg, name = "rg-life-b", "life-b"
    path = f"/api/clusters/{armemu.subscription_id}/{rg}/{name}"
    spot = {"name": "spot", "workload": "batch", "count": 3, "spot": {"evictionPolicy": "Delete", "maxPrice": -1}}
    body = request(rg, name, deletionProtection=False, userPools=[spot])
    await done(client, await client.post("/api/clusters", json=body), path)
    pool = aks(armemu).agent_pools.get(rg, name, "spot")
    pool.count = 1  # evictions: ARM has 1 node where the request asked for 3
    aks(armemu).agent_pools.begin_create_or_update(rg, name, "spot", pool).result()

    offered = (await client.get(f"{path}/upgrades")).json()
    assert offered["kubernetesVersion"] == "1.33.2"
    versions = [u["kubernetesVersion"] for u in offered["upgrades"] if not u["isPreview"]]
    assert "1.34.1" in versions and {p["name"] for p in offered["pools"]} == {"system", "spot"}
    refused = await client.post(f"{path}/upgrade", json={"kubernetesVersion": "1.36.0"})
    assert refused.status_code == 422 and refused.json()["code"] == "VersionNotOffered"
    assert "1.34.1" in refused.json()["errors"][0]["message"]
    malformed = await client.post(f"{path}/upgrade", json={"version": "1.34.1"})
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["path"] == "/kubernetesVersion"

    op = await done(client, await client.post(f"{path}/upgrade", json={"kubernetesVersion": "1.34.1"}), path)
    assert [s["id"] for s in op["steps"]] == ["upgrade:controlPlane", "upgrade:pool:system", "upgrade:pool:spot"]
    pools = {p.name: p for p in aks(armemu).agent_pools.list(rg, name)}
    assert pools["spot"].count == 1 and pools["system"].count == 1
    assert {p.current_orchestrator_version for p in pools.values()} == {"1.34.1"}
    # a taint change rebuilds the pool body too: from ARM's count, not the requested 3
    taint = await done(client, await client.put(f"{path}/pools/spot", json={"taints": ["team=a:NoSchedule"]}), path)
    assert taint["kind"] == "update-pool"
    spot_now = aks(armemu).agent_pools.get(rg, name, "spot")
    assert spot_now.count == 1 and "team=a:NoSchedule" in spot_now.node_taints

    # stop and start the pool (AKS's nodepool stop): ARM's count comes back; the system pool cannot be stopped
    system = await client.post(f"{path}/pools/system/stop")
    assert system.status_code == 409 and system.json()["code"] == "SystemPoolCannotStop", system.text
    stop = await done(client, await client.post(f"{path}/pools/spot/stop"), path)
    assert stop["kind"] == "stop-pool"
    assert aks(armemu).agent_pools.get(rg, name, "spot").power_state.code == "Stopped"
    observed = {p["name"]: p for p in (await client.get(path)).json()["observed"]["pools"]}
    assert (observed["spot"]["powerState"], observed["system"]["powerState"]) == ("Stopped", "Running")
    again = await client.post(f"{path}/pools/spot/stop")
    assert again.status_code == 200 and again.json()["operationId"] is None, again.text
    start = await done(client, await client.post(f"{path}/pools/spot/start"), path)
    assert start["kind"] == "start-pool"
    started = aks(armemu).agent_pools.get(rg, name, "spot")
    assert (started.power_state.code, started.count) == ("Running", 1)


async def test_a_cluster_arm_has_and_aksvend_does_not_manage_is_never_overwritten_and_an_admin_adopts_it(api,
                                                                                                        armemu):
    client, rt = api
    rg, name = "rg-life-c", "life-c"
    path = f"/api/clusters/{armemu.subscription_id}/{rg}/{name}"
    await done(client, await client.post("/api/clusters", json=request(rg, name)), path)
    record = await rt.engine.registry.get(cluster_key(armemu.subscription_id, rg, name))
    assert record is not None and record.etag is not None
    await rt.engine.registry.table.delete_if_match(CLUSTER_PARTITION, record.key, record.etag)  # aksvend forgets it
    assert (await client.get(path)).status_code == 404

    taken = await client.post("/api/clusters", json=request(rg, name, tags={"other": "request"}))
    assert taken.status_code == 409 and taken.json()["code"] == "ClusterNotManaged", taken.text
    assert f"{path}/adopt" in taken.json()["detail"]
    rt.clusters.policy = Policy.model_validate({"rules": [{**POLICY["rules"][0], "actions": ALL[:-1]}]})
    assert (await client.post(f"{path}/adopt")).status_code == 403
    rt.clusters.policy = Policy.model_validate(POLICY)
    adopted = await client.post(f"{path}/adopt")
    assert adopted.status_code == 200, adopted.text
    view = adopted.json()
    assert view["state"] == "ready" and [p["name"] for p in view["pools"]] == ["system", "apps"]
    assert view["desired"]["deletionProtection"] is True
    again = await client.post(f"{path}/adopt")
    assert again.status_code == 409 and again.json()["code"] == "ClusterAlreadyManaged"
    await done(client, await client.patch(path, json={"tags": {"adopted": "yes"}}, headers=PATCH), path)
    assert aks(armemu).managed_clusters.get(rg, name).tags["adopted"] == "yes"


async def test_a_stopped_autoscaling_pool_stays_stopped_through_a_patch_and_an_upgrade_and_starts_back(api, armemu):
    """New-user review: a tags PATCH or an upgrade made a stopped pool 'Running with 0 nodes', and a stopped
    autoscaling pool (count 0 < minCount) failed every upgrade. AKS: "Stopped node pools can be upgraded"."""
    client, _ = api
    rg, name = "rg-life-s", "life-s"
    path = f"/api/clusters/{armemu.subscription_id}/{rg}/{name}"
    big = {"name": "big", "workload": "general", "autoscale": {"min": 2, "max": 3}}
    await done(client, await client.post("/api/clusters", json=request(rg, name, userPools=[big])), path)
    await done(client, await client.post(f"{path}/pools/big/stop"), path)
    patch = await done(client, await client.patch(path, json={"tags": {"t": "2"}}, headers=PATCH), path)
    assert patch["kind"] == "patch-cluster"
    pool = aks(armemu).agent_pools.get(rg, name, "big")
    assert (pool.power_state.code, pool.count) == ("Stopped", 0)
    await done(client, await client.post(f"{path}/upgrade", json={"kubernetesVersion": "1.34.1"}), path)
    pool = aks(armemu).agent_pools.get(rg, name, "big")
    assert (pool.power_state.code, pool.count, pool.current_orchestrator_version) == ("Stopped", 0, "1.34.1")
    await done(client, await client.post(f"{path}/pools/big/start"), path)
    pool = aks(armemu).agent_pools.get(rg, name, "big")
    assert (pool.power_state.code, pool.count) == ("Running", 2)
