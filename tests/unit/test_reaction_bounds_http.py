"""The attacks of issue 14 on reactions ("Bounded"), each one request to `POST /api/events` through function_app's
own HTTP function (tests/worker.py) over a runtime of fakes: what one sender of events can make aksvend add.

Before the bounds, 30 forged `VirtualMachinePreempted` annotations filled the fallback pool to its bound (20
here), one `aksvend.pool.pressure` with `pendingPods: 100000` raised a pool from 2 to 50 nodes and nothing ever
lowered it, and a GPU pool was raised like any other. The evictions are synthetic (no official sample exists):
the `ResourceAnnotated` shape with `annotationName: VirtualMachinePreempted` on a VMSS instance.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.bootstrap import Runtime
from shared.engine.records import cluster_key
from tests.worker import EVENTS_SECRET, SUB, Worker, fake_runtime

NAME, RG = "c1", "rg-a"
CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{NAME}"
NODE_RG = f"MC_{RG}_{NAME}_westeurope"
REQUEST = {
    "name": NAME, "resourceGroup": RG, "location": "westeurope", "profile": "development",
    "userPools": [
        {"name": "apps", "count": 2},
        {"name": "batch", "workload": "batch", "count": 0, "spot": {"evictionPolicy": "Delete", "maxPrice": -1},
         "autoscale": {"min": 0, "max": 20}},
        {"name": "gpu", "workload": "gpu", "count": 1, "taints": ["sku=gpu:NoSchedule"]},
    ],
    "reactions": {"maxNodesPerPool": 50},
}
EVENTS = {"X-Aksvend-Secret": EVENTS_SECRET}


class Attacked(Worker):
    """The worker, and the runtime it serves, to look at the desired request and the outbox."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self.rt = rt

    async def pool(self, name: str) -> dict[str, Any] | None:
        record = await self.rt.engine.registry.get(cluster_key(SUB, RG, NAME))
        assert record is not None
        return next((p for p in record.request["userPools"] if p["name"] == name), None)

    async def refusals(self) -> list[dict[str, Any]]:
        """The refusal notices in the outbox, as the CloudEvents they are published as."""
        return [e.to_dict() for e in await self.rt.outbox.pending() if e.type == "aksvend.reaction.refused"]


@pytest.fixture
async def worker(request: pytest.FixtureRequest):
    """A worker whose runtime manages `REQUEST`, with the `reactions.bounds` a test passes as the parameter."""
    bounds = getattr(request, "param", None)
    raw = {**REQUEST, "reactions": {**REQUEST["reactions"], "bounds": bounds}} if bounds else REQUEST
    w = Attacked(fake_runtime())
    created = await w.request("POST", "/api/clusters", json_body=raw, headers={"Idempotency-Key": "k1"})
    assert created.status_code == 202, created.get_body()
    yield w
    await w.close()


def preempted(instance: int) -> dict[str, Any]:
    vm = (f"/subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachineScaleSets/"
          f"aks-batch-12345678-vmss/virtualMachines/{instance}")
    return {"id": str(uuid.uuid4()), "topic": f"/subscriptions/{SUB}", "subject": vm,
            "eventType": "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated",
            "eventTime": "2026-11-27T00:00:00Z", "dataVersion": "1", "metadataVersion": "1",
            "data": {"resourceInfo": {"properties": {
                "targetResourceId": vm, "annotationName": "VirtualMachinePreempted",
                "targetResourceType": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                "context": "Platform Initiated", "category": "Unplanned"}}}}


def pressure(pool: str, pending: int) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"{CLUSTER_ID}/agents/pressure",
            "type": "aksvend.pool.pressure", "datacontenttype": "application/json",
            "data": {"clusterId": CLUSTER_ID, "pool": pool, "pendingPods": pending}}


async def post(worker: Attacked, body: Any) -> dict[str, Any]:
    response = await worker.request("POST", "/api/events", json_body=body, headers=EVENTS)
    assert response.status_code == 200, response.get_body()[:500]
    return json.loads(response.get_body())


async def test_thirty_forged_evictions_do_not_fill_the_fallback_to_its_bound(worker):
    answer = await post(worker, [preempted(i) for i in range(30)])
    fallback = await worker.pool("batchod")
    assert fallback is not None and fallback["count"] == 10  # extraNodesPerPool (10), not the bound of 20
    assert len(answer["operations"]) == 10
    outcomes = [o["outcome"] for o in answer["outcomes"]]
    assert sum("refused, extraNodesPerPool" in o for o in outcomes) == 20
    assert fallback["taints"] == ["aksvend.io/spot-fallback=true:NoSchedule"]
    notices = await worker.refusals()
    assert len(notices) == 1  # one notice per pool and refill period, not one per forged event
    assert notices[0]["data"]["bound"] == {"name": "extraNodesPerPool", "pool": "batchod"}
    assert "refused" in notices[0]["data"]["message"]


@pytest.mark.parametrize("worker", [{"extraNodesPerPool": 100, "extraNodesPerCluster": 100, "reactionsPerPool": 5}],
                         indirect=True)
async def test_with_room_for_more_nodes_the_token_bucket_stops_forged_evictions(worker):
    answer = await post(worker, [preempted(i) for i in range(30)])
    assert (await worker.pool("batchod"))["count"] == 5 and len(answer["operations"]) == 5
    outcomes = [o["outcome"] for o in answer["outcomes"]]
    assert sum("refused, reactionsPerPool" in o for o in outcomes) == 25
    assert [n["data"]["bound"]["name"] for n in await worker.refusals()] == ["reactionsPerPool"]


async def test_one_pressure_event_of_100000_pending_pods_raises_by_the_extra_node_ceiling_only(worker):
    answer = await post(worker, pressure("apps", 100_000))
    assert len(answer["operations"]) == 1
    assert (await worker.pool("apps"))["count"] == 12  # 2 asked for, + extraNodesPerPool (10); not 50
    again = await post(worker, pressure("apps", 100_000))  # within the cooldown: nothing more
    assert not again["operations"] and (await worker.pool("apps"))["count"] == 12


async def test_a_pressure_raise_decays_back_to_the_requested_count_after_the_quiet_period(worker):
    await post(worker, pressure("apps", 30))
    assert (await worker.pool("apps"))["count"] == 5
    service = worker.rt.event_intake
    now = worker.rt.engine.clock.now()
    assert (await service.sweep(now + timedelta(seconds=1799))).scaled_down == ()
    report = await service.sweep(now + timedelta(seconds=1800))
    assert len(report.scaled_down) == 1 and (await worker.pool("apps"))["count"] == 2
    assert (await service.sweep(now + timedelta(seconds=3600))).scaled_down == ()


async def test_a_gpu_pool_is_not_raised_by_pressure(worker):
    answer = await post(worker, pressure("gpu", 50))
    assert not answer["operations"] and "scaleOnPressure" in answer["outcomes"][0]["outcome"]
    assert (await worker.pool("gpu"))["count"] == 1


async def test_an_oversized_source_is_refused_before_it_can_make_the_history_unsavable(worker):
    """The attack: a `source` of 40,000 characters made the history row too large to save after the raise was
    submitted, so no bound was ever recorded and each such event raised the pool again (12, 22, 32, 42...)."""
    event = pressure("apps", 100_000)
    event["source"] += "/" + "x" * 40_000
    response = await worker.request("POST", "/api/events", json_body=event, headers=EVENTS)
    assert response.status_code == 400 and b"FIELD_TOO_LONG" in response.get_body()
    assert (await worker.pool("apps"))["count"] == 2


async def test_long_event_keys_within_the_limits_still_keep_the_bounds(worker):
    counts = []
    for _ in range(4):
        event = pressure("apps", 100_000)
        event["source"] += "/" + "x" * (990 - len(event["source"]))
        event["id"] = "i" * 500
        event["id"] = f"{uuid.uuid4()}{event['id']}"[:500]
        await post(worker, event)
        counts.append((await worker.pool("apps"))["count"])
    assert counts == [12, 12, 12, 12]  # the first raise, then the cooldown and the ceiling hold
    history = await worker.rt.event_intake.store.history(cluster_key(SUB, RG, NAME))
    assert history and all(r.event_key is None or r.event_key[0] == "sha256" for r in history)


async def test_a_large_delivery_of_strangers_events_writes_one_row(worker):
    """The attack: one 1.5 MB POST of 5,000 events of clusters aksvend does not manage wrote 5,000 rows kept 48 h
    (and read the whole cluster registry). Now: one summary row, and the registry index comes from the cache."""
    topic = f"/subscriptions/{SUB}/resourceGroups/rg-x/providers/Microsoft.ContainerService/managedClusters/nobody"
    events = [{"id": str(uuid.uuid4()), "topic": topic, "subject": "nobody",
               "eventType": "Microsoft.ContainerService.NodePoolRollingSucceeded",
               "eventTime": "2026-11-27T00:00:00Z", "dataVersion": "1", "metadataVersion": "1",
               "data": {"nodePoolName": "apps"}} for _ in range(5000)]
    assert len(json.dumps(events)) > 1_500_000
    table = worker.rt.event_intake.store.table
    before = sum(len(rows) for rows in [await table.query_partition(p) for p in _partitions(table)])
    answer = await post(worker, events)
    assert answer["received"] == 5000 and answer["unmapped"] == 5000 and not answer["operations"]
    after = sum(len(rows) for rows in [await table.query_partition(p) for p in _partitions(table)])
    assert after - before == 1


def _partitions(table: Any) -> set[str]:
    return {pk for pk, _ in table._rows}
