"""Drift through the emulator: a pool changed behind aksvend's back with the SDK is seen by the drift check, shown in
`GET /api/clusters/...` and published as `aksvend.cluster.drifted`; with `drift: repair` the repair operations put
ARM back as requested; a cluster deleted in ARM is reported and never re-created."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from azure.mgmt.containerservice import ContainerServiceClient

from functions import runtime
from functions.http_api import app
from shared.bootstrap import bootstrap
from shared.config import Settings
from shared.domain.lifecycle import CLUSTER_DRIFTED
from shared.domain.policy import allow_all
from shared.engine.records import cluster_key
from shared.services.outbox import Outbox
from tests.fakes import FakeClock, FakeStateStore
from tests.integration.engine_harness import harness
from tests.integration.http_harness import settled, wait_op
from tests.principals import pid

pytestmark = pytest.mark.integration
RG, NAME = "rg-drift", "drift-dev"
POOLS = "Microsoft.ContainerService/managedClusters/agentPools"


def request(policy: str) -> dict:
    return {"name": NAME, "resourceGroup": RG, "location": "westeurope", "drift": policy,
            "userPools": [{"name": "apps", "vmSize": "Standard_D4s_v5", "count": 2,
                           "taints": ["team=a:NoSchedule"]}]}


@pytest.fixture
async def app_client(armemu, azurite_connection_string):
    outbox = Outbox(FakeStateStore(), FakeClock.real())
    async with harness(armemu, azurite_connection_string, lifecycle=outbox) as h:
        settings = Settings(default_subscription_id=armemu.subscription_id, local=True, local_caller=pid("dev"))
        rt = bootstrap(settings, h.engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                       policy=allow_all())
        runtime.use(rt)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as c:
            yield c, rt, outbox
        runtime.use(None)


async def provisioned(client, policy: str) -> str:
    """The cluster created and settled: its operation succeeded and was released from the cluster's queue (the
    worker does that just after the operation's state is saved; the drift check looks at settled clusters only)."""
    created = await client.post("/api/clusters", json=request(policy))
    assert created.status_code == 202, created.text
    op = await wait_op(client, created.headers["Location"])
    assert op["state"] == "succeeded"
    await settled(client, f"/api/clusters/{op['cluster']['id'].split('/')[2]}/{RG}/{NAME}")
    return f"/api/clusters/{{sub}}/{RG}/{NAME}"



async def reconcile(rt, checks: int = 1):
    """The drift timer's run, as it runs one interval later (every settled cluster due again)."""
    now = rt.engine.clock.now() + timedelta(seconds=rt.drift.settings.interval_seconds * checks)
    return await rt.drift.reconcile(now)


def aks(armemu) -> ContainerServiceClient:
    return armemu.client(ContainerServiceClient)


def arm_pool(armemu, name: str = "apps"):
    return aks(armemu).agent_pools.get(RG, NAME, name)


def change_behind_aksvends_back(armemu) -> None:
    """Someone scales `apps` to 5 and drops its taint, with the SDK, straight at ARM."""
    pool = arm_pool(armemu)
    pool.count, pool.node_taints = 5, []
    aks(armemu).agent_pools.begin_create_or_update(RG, NAME, "apps", pool).result()


async def test_drift_is_seen_shown_and_published_and_not_repaired_under_report(app_client, armemu):
    client, rt, outbox = app_client
    path = (await provisioned(client, "report")).format(sub=armemu.subscription_id)
    first = await reconcile(rt)
    assert [c.drift for c in first.checked] == [()]  # as aksvend left it: no drift
    assert (await client.get(path)).json()["drift"] == []
    change_behind_aksvends_back(armemu)
    report = await reconcile(rt, checks=2)
    assert [c.operations for c in report.checked] == [()]  # report: nothing submitted
    view = (await client.get(path)).json()
    assert {(d["pool"], d["field"], str(d["observed"])) for d in view["drift"]} == {
        ("apps", "count", "5"), ("apps", "nodeTaints", "[]")}
    assert view["driftCheckedAt"] is not None
    events = [e for e in await outbox.pending() if e.type == CLUSTER_DRIFTED]
    assert len(events) == 1 and events[0].data["policy"] == "report"
    assert {d["field"] for d in events[0].data["drift"]} == {"count", "nodeTaints"}
    await reconcile(rt, checks=3)  # the same drift again: no second event
    assert len([e for e in await outbox.pending() if e.type == CLUSTER_DRIFTED]) == 1
    assert arm_pool(armemu).count == 5


async def test_a_vm_size_changed_by_recreating_the_pool_is_reported_as_not_repairable(app_client, armemu):
    client, rt, _ = app_client
    path = (await provisioned(client, "repair")).format(sub=armemu.subscription_id)
    pool = arm_pool(armemu)
    aks(armemu).agent_pools.begin_delete(RG, NAME, "apps").result()
    pool.vm_size = "Standard_D8s_v5"
    aks(armemu).agent_pools.begin_create_or_update(RG, NAME, "apps", pool).result()
    report = await reconcile(rt)
    assert report.checked[0].operations == ()  # nothing it could repair
    drift = (await client.get(path)).json()["drift"]
    assert drift == [{"pool": "apps", "field": "vmSize", "desired": "Standard_D4s_v5",
                      "observed": "Standard_D8s_v5", "repairable": False}]


async def test_under_repair_the_repair_operations_put_arm_back_as_requested(app_client, armemu):
    client, rt, outbox = app_client
    path = (await provisioned(client, "repair")).format(sub=armemu.subscription_id)
    change_behind_aksvends_back(armemu)
    report = await reconcile(rt)
    (operations,) = [c.operations for c in report.checked]
    assert len(operations) == 1
    done = await wait_op(client, f"/api/operations/{operations[0]}")
    assert done["state"] == "succeeded" and done["kind"] == "put-pool" and done["pool"] == "apps"
    restored = arm_pool(armemu)
    assert restored.count == 2 and restored.node_taints == ["team=a:NoSchedule"]
    event = next(e for e in await outbox.pending() if e.type == CLUSTER_DRIFTED)
    assert event.data["operations"] == list(operations)
    await settled(client, path)
    again = await reconcile(rt, checks=2)
    assert [c.drift for c in again.checked] == [()]
    assert (await client.get(path)).json()["drift"] == []


async def test_a_cluster_deleted_outside_aksvend_is_reported_and_never_re_created(app_client, armemu):
    client, rt, outbox = app_client
    path = (await provisioned(client, "repair")).format(sub=armemu.subscription_id)
    aks(armemu).managed_clusters.begin_delete(RG, NAME).result()
    puts_before = sum(r["method"] == "PUT" for r in armemu.requests())
    report = await reconcile(rt)
    assert report.checked[0].operations == ()
    assert (await client.get(path)).json()["drift"] == [
        {"pool": None, "field": "cluster", "desired": "present", "observed": "absent", "repairable": False}]
    record = await rt.engine.registry.get(cluster_key(armemu.subscription_id, RG, NAME))
    assert record is not None and record.queue == ()  # no operation queued to re-create it
    assert sum(r["method"] == "PUT" for r in armemu.requests()) == puts_before
    assert not [r for r in armemu.inventory("Microsoft.ContainerService/managedClusters")]
    assert any(e.type == CLUSTER_DRIFTED and e.data["drift"][0]["field"] == "cluster"
               for e in await outbox.pending())
