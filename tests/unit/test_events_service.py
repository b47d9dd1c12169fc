"""The events service over in-memory fakes: intake of both schemas, handshakes, secrets, dedupe, mapping to
clusters, reactions as engine operations, the sweeper's scale-back and purge.

Spot evictions here are synthetic (no official `VirtualMachinePreempted` sample exists): the published
`ResourceAnnotated` sample with `annotationName: VirtualMachinePreempted` on a VMSS instance, as the fixtures'
README says to build them."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from functions.problems import status_of
from shared.domain.events.senders import Local, Sender
from shared.domain.operations import steps_for
from shared.domain.rules import check
from shared.engine import Engine, EngineSettings, submit
from shared.engine.records import OPERATION_ROW, cluster_key
from shared.errors import RetryableError
from shared.refusals import InvalidInput, MalformedInput, NotAuthenticated, Refused
from shared.services.events import Acknowledged, EventService, EventSettings, Validation
from shared.services.events.store import SEEN_PARTITIONS, UNMANAGED_PARTITION, seen_address
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue
from tests.requests import PAYMENTS, SUB, patched

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eventgrid"
CLUSTER_ID = (f"/subscriptions/{SUB}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerService/"
              "managedClusters/payments-prod")
KEY = cluster_key(SUB, "rg-payments-prod", "payments-prod")
NODE_RG = "MC_rg-payments-prod_payments-prod_westeurope"
SECRET = "fake-events-secret"
LOCAL = Local()


class World:
    def __init__(self, engine: Engine, table: FakeStateStore, service: EventService, clock: FakeClock, arm: FakeArm,
                 notices: list) -> None:
        self.engine, self.table, self.service, self.clock, self.arm, self.notices = (engine, table, service, clock,
                                                                                      arm, notices)

    async def deliver(self, body: Any, headers: dict[str, str] | None = None, *,
                      sender: Sender = LOCAL) -> Acknowledged | Validation:
        """A delivery from `sender`: the local stack by default (anything goes; tests/unit/test_events_auth.py holds
        the senders' bounds)."""
        return await self.service.handle_events(body, headers or {}, self.clock.now(), sender=sender)

    async def desired(self) -> dict[str, Any]:
        record = await self.engine.registry.get(KEY)
        assert record is not None
        return record.request

    async def pool(self, name: str) -> dict[str, Any] | None:
        return next((p for p in (await self.desired())["userPools"] if p["name"] == name), None)

    async def operations(self) -> list[dict[str, Any]]:
        record = await self.engine.registry.get(KEY)
        assert record is not None
        out = []
        for op_id in record.queue:
            found = await self.engine.ops.get(op_id, OPERATION_ROW)
            assert found is not None
            out.append(found.entity)
        return out


async def make_world(raw: dict[str, Any] | None = None, *, settings: EventSettings | None = None) -> World:
    clock = FakeClock()
    arm = FakeArm()
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=FakeStepQueue(
        "steps", clock=FakeClock()), arm=arm, clock=clock, secrets=FakeSecrets(),
        settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10), rng=random.Random(7))
    request, violations = check(raw or PAYMENTS, default_subscription_id=SUB)
    assert request is not None, violations
    await submit(engine, "create-cluster", request)
    table = FakeStateStore()
    notices: list = []

    async def notify(events: Any) -> None:
        notices.extend(events)

    service = EventService(engine, table, settings or EventSettings(), default_subscription_id=SUB, notify=notify)
    return World(engine, table, service, clock, arm, notices)


@pytest.fixture
async def world() -> World:
    return await make_world()


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def preempted(instance: int, *, node_rg: str = NODE_RG, pool: str = "batch", event_id: str | None = None) -> dict:
    """Synthetic: the published ResourceAnnotated sample, as a spot eviction of one VMSS instance."""
    event = copy.deepcopy(fixture("health-resource-annotated.eventgrid.json"))
    vm = (f"/subscriptions/{SUB}/resourceGroups/{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets/"
          f"aks-{pool}-12345678-vmss/virtualMachines/{instance}")
    props = event["data"]["resourceInfo"]["properties"]
    props.update(targetResourceId=vm, targetResourceType="Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                 annotationName="VirtualMachinePreempted", context="Platform Initiated", category="Unplanned")
    event.update(id=event_id or str(uuid.uuid4()), topic=f"/subscriptions/{SUB}", subject=vm)
    return event


def aks(name: str, *, topic: str = CLUSTER_ID, data: dict | None = None) -> dict:
    event = copy.deepcopy(fixture(name))
    event["id"] = str(uuid.uuid4())  # the AKS samples share one id
    event["topic" if "topic" in event else "source"] = topic
    if data is not None:
        event["data"] = data
    return event


def custom(kind: str, data: dict) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"{CLUSTER_ID}/agents/test", "type": kind,
            "time": "2026-11-27T00:00:00Z", "datacontenttype": "application/json", "data": data}


# ---- intake ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
async def test_every_published_fixture_parses_and_is_acknowledged(world, name):
    event = fixture(name)
    body = [event] if name.endswith(".eventgrid.json") else event
    outcome = await world.deliver(body)
    assert isinstance(outcome, Acknowledged) and outcome.received == 1 and not outcome.operations
    assert outcome.unmapped == 1  # placeholder topics, or annotations that are not evictions: unknown
    key = (event.get("topic") or event["source"], event["id"])
    assert not [r for p in SEEN_PARTITIONS for r in await world.table.query_partition(p)]  # nothing decided
    [summary] = await world.table.query_partition(UNMANAGED_PARTITION)
    assert summary.entity["count"] == 1 and summary.entity["types"] == {event.get("type") or event["eventType"]: 1}
    assert [[s.lower(), i] for s, i in summary.entity["samples"]] == [[key[0].lower(), key[1]]]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("aks-*.json") if "scheduled" not in p.name))
async def test_aks_fixtures_aimed_at_a_managed_cluster_are_decided(world, name):
    event = aks(name)
    outcome = await world.deliver([event] if name.endswith(".eventgrid.json") else event)
    assert isinstance(outcome, Acknowledged) and outcome.unmapped == 0
    assert outcome.outcomes[0]["cluster"] == KEY and outcome.outcomes[0]["outcome"]
    if "rolling-failed" in name or "support-end" in name:
        assert [n.type for n in world.notices] and world.notices[0].subject == CLUSTER_ID
        history = await world.service.store.history(KEY)
        assert [h.rule for h in history] == ["notice"]


async def test_event_grid_subscription_validation_is_answered_with_the_code(world):
    body = [{"id": "v-1", "topic": f"/subscriptions/{SUB}", "subject": "", "eventType":
             "Microsoft.EventGrid.SubscriptionValidationEvent", "eventTime": "2026-11-27T00:00:00Z",
             "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                      "validationUrl": "https://rp-eastus2.eventgrid.azure.net/x"}, "dataVersion": "2"}]
    outcome = await world.deliver(body, {"aeg-event-type": "SubscriptionValidation"})
    assert outcome == Validation({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})


async def test_cloudevents_options_handshake_echoes_the_origin():
    service = (await make_world(settings=EventSettings(allowed_rate=120))).service
    headers = service.webhook_handshake({"WebHook-Request-Origin": "eventemitter.example.com"})
    assert headers == {"WebHook-Allowed-Origin": "eventemitter.example.com", "WebHook-Allowed-Rate": "120"}
    with pytest.raises(MalformedInput) as refused:
        service.webhook_handshake({})
    assert status_of(refused.value) == 400


async def test_the_shared_secret_is_checked_in_local_mode_and_never_echoed():
    service = (await make_world(settings=EventSettings(local=True, webhook_secret=SECRET))).service
    assert await service.authenticate({"X-Aksvend-Secret": SECRET}, {}, b"") == LOCAL
    assert await service.authenticate({}, {"code": SECRET}, b"") == LOCAL
    for headers, query in (({}, {}), ({"x-aksvend-secret": "wrong"}, {}), ({}, {"code": SECRET[:-1]})):
        with pytest.raises(NotAuthenticated) as refused:
            await service.authenticate(headers, query, b"")
        assert status_of(refused.value) == 401 and SECRET not in str(refused.value)
    assert SECRET not in repr(service.settings)


async def test_outside_local_mode_the_shared_secret_is_refused_whatever_its_value():
    service = (await make_world(settings=EventSettings(webhook_secret=SECRET))).service  # local=False
    for headers, query in (({"X-Aksvend-Secret": SECRET}, {}), ({}, {"code": SECRET}), ({}, {})):
        with pytest.raises(NotAuthenticated) as refused:
            await service.authenticate(headers, query, b"")
        assert status_of(refused.value) == 401 and SECRET not in str(refused.value)


async def test_without_a_secret_the_webhook_is_off_unless_explicitly_unchecked():
    off = (await make_world(settings=EventSettings(local=True))).service  # no secret configured, not unchecked
    for headers, query in (({}, {}), ({"X-Aksvend-Secret": ""}, {"code": ""}), ({"X-Aksvend-Secret": "x"}, {})):
        with pytest.raises(NotAuthenticated) as refused:
            await off.authenticate(headers, query, b"")
        assert status_of(refused.value) == 401
    unchecked = (await make_world(settings=EventSettings(local=True, unchecked=True))).service  # local mode only
    assert await unchecked.authenticate({}, {}, b"") == LOCAL
    for settings in (EventSettings(unchecked=True), EventSettings(local=False)):  # outside local mode: never
        with pytest.raises(NotAuthenticated):
            await (await make_world(settings=settings)).service.authenticate({}, {}, b"")


async def test_a_malformed_delivery_is_400_and_applies_nothing(world):
    broken = {"id": "x", "topic": CLUSTER_ID}  # no eventType, no eventTime
    with pytest.raises(MalformedInput) as refused:
        await world.deliver([preempted(0), broken])
    assert status_of(refused.value) == 400 and {v.path for v in refused.value.violations} >= {"/1/eventType"}
    assert await world.pool("batchod") is None
    assert not [r for p in SEEN_PARTITIONS for r in await world.table.query_partition(p)]
    for body in (b"{not json", b'"a string"', [1, 2]):
        with pytest.raises(Refused) as refused:
            await world.deliver(body)
        assert status_of(refused.value) == 400


# ---- reactions ------------------------------------------------------------------------------------------------
async def test_three_evictions_create_the_fallback_and_a_redelivery_acts_once(world):
    batch = [preempted(i) for i in range(3)]
    first = await world.deliver(batch)
    assert isinstance(first, Acknowledged) and len(first.operations) == 3 and first.duplicates == 0
    fallback = await world.pool("batchod")
    assert fallback is not None and fallback["count"] == 3 and fallback.get("spot") is None
    assert fallback["labels"]["aksvend.io/spot-fallback-for"] == "batch"
    assert not any(t.startswith("kubernetes.azure.com/scalesetpriority") for t in fallback.get("taints", []))
    ops = await world.operations()
    assert [(o["kind"], o.get("pool"), o["source"]) for o in ops[1:]] == [
        ("put-pool", "batchod", "reaction:spot-fallback:batch")] * 3
    again = await world.deliver(batch)
    assert isinstance(again, Acknowledged) and again.duplicates == 3 and not again.operations
    assert len(await world.operations()) == len(ops)
    assert (await world.pool("batchod"))["count"] == 3


async def test_a_cluster_requested_with_the_regions_display_name_still_gets_its_spot_fallback():
    world = await make_world({**PAYMENTS, "location": "West Europe"})
    assert (await world.desired())["location"] == "westeurope"
    done = await world.deliver([preempted(0)])  # AKS names the node resource group with the programmatic name
    assert isinstance(done, Acknowledged) and len(done.operations) == 1
    assert (await world.pool("batchod"))["count"] == 1


async def test_the_same_event_twice_in_one_delivery_counts_once(world):
    event = preempted(0)
    outcome = await world.deliver([event, copy.deepcopy(event)])
    assert outcome.duplicates == 1 and len(outcome.operations) == 1
    assert (await world.pool("batchod"))["count"] == 1


async def test_a_mixed_batch_acts_on_the_valid_event_and_records_the_rest(world):
    foreign = CLUSTER_ID.replace("payments-prod", "someone-else")
    batch = [preempted(0), aks("aks-node-pool-rolling-started.eventgrid.json", topic=foreign),
             {**aks("aks-node-pool-rolling-started.eventgrid.json"), "eventType": "Contoso.Items.ItemSold"},
             preempted(1, node_rg="MC_rg-other_other_westeurope")]
    outcome = await world.deliver(batch)
    assert isinstance(outcome, Acknowledged) and outcome.received == 4
    assert outcome.unmapped == 3 and len(outcome.operations) == 1
    assert await world.table.get(*seen_address(KEY, (batch[0]["topic"], batch[0]["id"]))) is not None
    [summary] = await world.table.query_partition(UNMANAGED_PARTITION)
    reasons = " | ".join(summary.entity["reasons"])
    assert summary.entity["count"] == 3 and sum(summary.entity["reasons"].values()) == 3
    assert "not managed" in reasons and "not one aksvend reacts to" in reasons and "node resource group" in reasons


async def test_concurrent_deliveries_for_one_cluster_are_serialized(world):
    await asyncio.gather(*(world.deliver([preempted(i)]) for i in range(4)))
    assert (await world.pool("batchod"))["count"] == 4
    targets = [h.target for h in await world.service.store.history(KEY)]
    assert sorted(targets) == [1, 2, 3, 4]


async def test_evictions_within_the_cooldown_add_capacity_up_to_the_bound():
    raw = patched(PAYMENTS, {"/userPools/2/autoscale": {"min": 0, "max": 4}})
    world = await make_world(raw)
    await world.deliver([preempted(i) for i in range(3)])
    world.clock.advance(30)
    outcome = await world.deliver([preempted(i) for i in range(3, 5)])
    assert (await world.pool("batchod"))["count"] == 4
    assert "bound of 4" in outcome.outcomes[-1]["outcome"]


async def test_the_sweeper_scales_the_fallback_back_after_the_cooldown(world):
    await world.deliver([preempted(0), preempted(1)])
    world.arm.resources[f"{CLUSTER_ID}/agentPools/batchod".lower()] = {"properties": {"count": 2}}  # ARM has them
    world.clock.advance(599)
    assert (await world.service.sweep(world.clock.now())).scaled_down == ()
    world.clock.advance(1)
    report = await world.service.sweep(world.clock.now())
    assert len(report.scaled_down) == 1
    assert (await world.pool("batchod"))["count"] == 0
    ops = await world.operations()
    assert ops[-1]["source"] == "reaction:fallback-scale-down:batch"
    assert (await world.service.sweep(world.clock.now())).scaled_down == ()


async def test_pressure_raises_a_fixed_pool_and_an_autoscaled_pool_at_its_maximum():
    world = await make_world(patched(PAYMENTS, {"/userPools/0/count": 10, "/userPools/1/scaleOnPressure": True}))
    out = await world.deliver(custom("aksvend.pool.pressure", {"clusterId": CLUSTER_ID, "pool": "gpu",
                                                                "pendingPods": 25}))
    assert len(out.operations) == 1 and (await world.pool("gpu"))["count"] == 5
    out = await world.deliver(custom("aksvend.pool.pressure", {"clusterId": CLUSTER_ID, "pool": "apps",
                                                                "pendingPods": 12}))
    apps = await world.pool("apps")
    assert len(out.operations) == 1 and apps["autoscale"] == {"min": 3, "max": 12}
    out = await world.deliver(custom("aksvend.pool.pressure", {"clusterId": CLUSTER_ID, "pool": "apps",
                                                                "pendingPods": 500}))
    assert not out.operations and "cooldown" in out.outcomes[0]["outcome"]


def offer(world: World, *versions: str) -> None:
    """ARM's upgrade profile of the cluster offers these versions (and the cluster runs 1.33.2)."""
    world.arm.resources[CLUSTER_ID.lower()] = {"properties": {"currentKubernetesVersion": "1.33.2"}}
    world.arm.resources[f"{CLUSTER_ID}/upgradeProfiles/default".lower()] = {"properties": {"controlPlaneProfile": {
        "kubernetesVersion": "1.33.2", "osType": "Linux", "upgrades": [{"kubernetesVersion": v} for v in versions]}}}


async def test_a_new_patch_version_becomes_an_upgrade_of_the_control_plane_then_each_pool(world):
    offer(world, "1.33.5", "1.34.1")
    event = aks("aks-new-kubernetes-version-available.eventgrid.json", data={
        "latestSupportedKubernetesVersion": "1.34.1", "latestStableKubernetesVersion": "1.33.5",
        "lowestMinorKubernetesVersion": "1.31.9", "latestPreviewKubernetesVersion": "1.35.0"})
    outcome = await world.deliver([event])
    assert len(outcome.operations) == 1
    op = (await world.operations())[-1]
    assert op["kind"] == "upgrade" and op["request"]["kubernetesVersion"] == "1.33.5"
    request, _ = check(op["request"], default_subscription_id=SUB)
    steps = steps_for("upgrade", request)
    assert [s.id for s in steps] == ["upgrade:controlPlane", "upgrade:pool:system", "upgrade:pool:apps",
                                     "upgrade:pool:gpu", "upgrade:pool:batch", "upgrade:pool:win1"]
    assert all(s.depends_on == (prev.id,) for prev, s in itertools.pairwise(steps))
    assert steps[0].body["properties"]["kubernetesVersion"] == "1.33.5"
    assert all("orchestratorVersion" not in p for p in steps[0].body["properties"]["agentPoolProfiles"])
    assert all(s.body["properties"]["orchestratorVersion"] == "1.33.5" for s in steps[1:])


async def test_a_version_arm_does_not_offer_is_not_upgraded_to_whatever_the_event_names(world):
    offer(world, "1.34.0", "1.34.1")
    before = (await world.desired())["kubernetesVersion"]
    queued = len(await world.operations())
    outcome = await world.deliver([aks("aks-new-kubernetes-version-available.eventgrid.json", data={
        "latestSupportedKubernetesVersion": "1.33.999", "latestStableKubernetesVersion": "1.33.999",
        "lowestMinorKubernetesVersion": "1.31.9", "latestPreviewKubernetesVersion": "1.35.0"})])
    assert not outcome.operations and "not offered: 1.33.999" in outcome.outcomes[0]["outcome"]
    assert (await world.desired())["kubernetesVersion"] == before and len(await world.operations()) == queued
    assert [n.type for n in world.notices] == ["aksvend.cluster.upgradeAvailable"]


async def test_an_unreadable_upgrade_profile_means_no_upgrade_and_a_note(world, monkeypatch):
    offer(world, "1.33.5")
    read = world.arm.get

    async def failing(resource_type: str, resource_id: str, api_version: str) -> Any:
        if resource_id.lower().endswith("/upgradeprofiles/default"):
            raise RetryableError("ServiceUnavailable", "ARM is busy", 5)
        return await read(resource_type, resource_id, api_version)

    monkeypatch.setattr(world.arm, "get", failing)
    outcome = await world.deliver([aks("aks-new-kubernetes-version-available.eventgrid.json", data={
        "latestSupportedKubernetesVersion": "1.33.5", "latestStableKubernetesVersion": "1.33.5"})])
    assert isinstance(outcome, Acknowledged) and not outcome.operations
    assert "upgrade profile of the cluster could not be read" in outcome.outcomes[0]["outcome"]


async def test_a_refused_action_is_acknowledged_with_the_reason(world, monkeypatch):
    from shared.domain.violations import Violation
    from shared.services.events import react as events_react

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise InvalidInput("InvalidRequest", "the cluster with this change breaks rules",
                           [Violation("NODE_SUBNET_TOO_SMALL", "/network", "no room")])

    monkeypatch.setattr(events_react, "with_pool", refuse)
    outcome = await world.deliver([preempted(0)])
    assert isinstance(outcome, Acknowledged) and not outcome.operations
    assert "refused: InvalidRequest" in outcome.outcomes[0]["outcome"]
    assert [h.target for h in await world.service.store.history(KEY)] == [None]  # the eviction, no target


async def test_expired_dedupe_rows_are_purged_and_an_expired_key_counts_as_new():
    world = await make_world(settings=EventSettings(dedupe_seconds=60, purge_every_seconds=0))
    event = aks("aks-cluster-support-ended.eventgrid.json")
    first = await world.deliver([event])
    assert await world.deliver([event]) == Acknowledged(1, duplicates=1)
    await world.deliver([aks("aks-cluster-support-ended.eventgrid.json", topic="/subscriptions/x/unknown")])
    world.clock.advance(61)
    assert (await world.service.sweep(world.clock.now())).purged == 2  # the dedupe row and the summary row
    again = await world.deliver([event])
    assert isinstance(again, Acknowledged) and again.duplicates == 0 and first.outcomes  # new to the dedupe,
    assert "already decided" in again.outcomes[0]["outcome"]  # and the reaction history still knows it


async def test_a_purge_deletes_a_page_and_the_next_sweep_goes_on():
    world = await make_world(settings=EventSettings(dedupe_seconds=60, purge_every_seconds=3600))
    for _ in range(7):
        await world.deliver([aks("aks-node-pool-rolling-started.eventgrid.json", topic="/subscriptions/x/y")])
    world.clock.advance(61)
    assert await world.service.store.purge(world.clock.now(), page=3) == (3, True)
    assert await world.service.store.purge(world.clock.now(), page=3) == (3, True)
    assert await world.service.store.purge(world.clock.now(), page=3) == (1, False)
    await world.deliver([aks("aks-node-pool-rolling-started.eventgrid.json", topic="/subscriptions/x/y")])
    world.clock.advance(61)
    assert (await world.service.sweep(world.clock.now())).purged == 1


class CountingStore(FakeStateStore):
    """A fake that counts what the intake writes and which partitions it reads whole."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.scans: list[str] = []

    async def insert(self, entity: Any) -> str:
        self.writes += 1
        return await super().insert(entity)

    async def upsert(self, entity: Any) -> str:
        self.writes += 1
        return await super().upsert(entity)

    async def query_partition(self, partition_key: str) -> Any:
        self.scans.append(partition_key)
        return await super().query_partition(partition_key)


async def test_a_delivery_of_strangers_events_writes_one_summary_row(world):
    """The attack: 5,000 events of unmanaged clusters in one delivery wrote 5,000 rows kept 48 h."""
    table = CountingStore()
    service = EventService(world.engine, table, default_subscription_id=SUB)
    batch = [aks("aks-node-pool-rolling-started.eventgrid.json", topic=f"/subscriptions/{SUB}/x{i}")
             for i in range(5000)]
    outcome = await service.handle_events(batch, {}, world.clock.now(), sender=LOCAL)
    assert isinstance(outcome, Acknowledged) and outcome.unmapped == 5000 and not outcome.operations
    assert table.writes == 1 and not table.scans
    [summary] = await table.query_partition(UNMANAGED_PARTITION)
    assert summary.entity["count"] == 5000 and len(summary.entity["samples"]) == 10


async def test_the_index_of_managed_clusters_is_cached_and_rebuilt_when_a_cluster_is_registered(world):
    clusters = world.engine.registry.table
    reads: list[str] = []
    original = clusters.query_partition

    async def counted(partition_key: str) -> Any:
        reads.append(partition_key)
        return await original(partition_key)

    clusters.query_partition = counted  # type: ignore[method-assign]
    stranger = aks("aks-node-pool-rolling-started.eventgrid.json", topic=f"/subscriptions/{SUB}/x")
    for _ in range(3):
        await world.deliver([dict(stranger, id=str(uuid.uuid4()))])
    assert len(reads) == 1  # one registry read for three deliveries
    request, _ = check(patched(PAYMENTS, {"/name": "second"}), default_subscription_id=SUB)
    assert request is not None
    await submit(world.engine, "create-cluster", request)
    second = CLUSTER_ID.replace("managedClusters/payments-prod", "managedClusters/second")
    outcome = await world.deliver([aks("aks-cluster-support-ended.eventgrid.json", topic=second)])
    assert isinstance(outcome, Acknowledged) and outcome.unmapped == 0 and len(reads) == 2  # seen at once
    world.clock.advance(world.service.settings.index_ttl_seconds)
    await world.deliver([dict(stranger, id=str(uuid.uuid4()))])
    assert len(reads) == 3  # and what other instances registered, once the time to live ran out
