"""The outbox (Table Storage via the StateStore port) drained to Event Grid (the local topic sink): events are
published in order, survive an outage, and arrive once each."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.credentials import AzureKeyCredential
from azure.eventgrid.aio import EventGridPublisherClient

from local.credential import AsyncOfflineCredential
from local.topic_sink import TopicSink
from shared.adapters.publisher import EventGridPublisher
from shared.adapters.store import AzureTableStateStore
from shared.domain import lifecycle
from shared.domain.lifecycle import ClusterRef, LifecycleEvent
from shared.domain.tickets import TicketRef
from shared.engine.ports import StateStore
from shared.errors import FatalError, RetryableError
from shared.services.outbox import Outbox
from tests.fakes import FakeClock, FakeStateStore
from tests.requests import SUB

pytestmark = pytest.mark.integration

CLUSTER = ClusterRef(SUB, "rg-payments-prod", "payments-prod")
TICKET = TicketRef("jira", "OPS-42", "2026-03-01T11:58:02.113+0000")
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "azurite"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "fake":
        yield FakeStateStore()
        return
    conn = request.getfixturevalue("azurite_connection_string")
    table = request.getfixturevalue("unique_table_name")
    async with AzureTableStateStore.from_connection_string(conn, table) as azure_store:
        yield azure_store


@pytest.fixture
async def publisher(topic_sink: TopicSink) -> AsyncIterator[EventGridPublisher]:
    # No SDK retries: the outbox is the retry loop, and a test should see each failure at once.
    async with EventGridPublisher.with_key(topic_sink.endpoint, topic_sink.key, retry_total=0) as pub:
        yield pub


def provisioning_run(operation_id: str = "op-1") -> list[LifecycleEvent]:
    return [
        lifecycle.operation_accepted(CLUSTER, operation_id, "create", time=T0, ticket=TICKET),
        lifecycle.cluster_provisioned(CLUSTER, operation_id, location="westeurope", kubernetes_version="1.33",
                                      pools=[], time=T0, ticket=TICKET),
        lifecycle.operation_succeeded(CLUSTER, operation_id, "create", time=T0, ticket=TICKET),
    ]


async def record_in_turn(outbox: Outbox, clock: FakeClock, batches: Sequence[Sequence[LifecycleEvent]]) -> None:
    for events in batches:
        await outbox.publish(events)
        clock.advance(1)


async def test_a_provisioning_run_publishes_accepted_then_succeeded(store: StateStore, topic_sink: TopicSink,
                                                                    publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock)
    events = provisioning_run()
    await outbox.publish(events)
    report = await outbox.drain(publisher)
    assert (report.sent, report.pending, report.dead) == (3, 0, 0)
    assert [e["type"] for e in topic_sink.events] == ["aksvend.operation.accepted", "aksvend.cluster.provisioned",
                                                      "aksvend.operation.succeeded"]
    assert [e["id"] for e in topic_sink.events] == [e.id for e in events]
    received = topic_sink.events[0]
    assert received["ticketkey"] == "OPS-42"
    assert received["data"]["ticket"]["system"] == "jira"
    assert received["subject"] == CLUSTER.resource_id
    assert topic_sink.content_types == ["application/cloudevents-batch+json; charset=utf-8"]
    assert {row["state"] for row in await outbox.entries()} == {"sent"}


async def test_a_failing_run_publishes_failed_with_the_arm_code(store: StateStore, topic_sink: TopicSink,
                                                                publisher: EventGridPublisher) -> None:
    outbox = Outbox(store, FakeClock(T0))
    await outbox.publish([
        lifecycle.operation_accepted(CLUSTER, "op-2", "create", time=T0),
        lifecycle.operation_failed(CLUSTER, "op-2", "create", code="QuotaExceeded",
                                   message="Operation could not be completed as it results in exceeding approved "
                                           "standardDSv5Family Cores quota.", time=T0),
    ])
    await outbox.drain(publisher)
    [failed] = topic_sink.of_type("aksvend.operation.failed")
    assert failed["data"]["error"]["code"] == "QuotaExceeded"
    assert "quota" in failed["data"]["error"]["message"]


async def test_with_the_topic_down_events_stay_pending_and_arrive_once_it_is_back(
        store: StateStore, topic_sink: TopicSink, publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock, random=lambda: 0.0)
    first_run, second_run = provisioning_run("op-1"), provisioning_run("op-2")
    await record_in_turn(outbox, clock, [first_run])

    await topic_sink.stop()
    report = await outbox.drain(publisher)
    assert (report.sent, report.pending) == (0, 3)
    entries = await outbox.entries()
    assert {(e["state"], e["attempts"], e["lastError"]) for e in entries} == {("pending", 1, "ConnectionError")}

    # More transitions happen while the topic is down: recorded behind the first ones.
    await record_in_turn(outbox, clock, [second_run])
    clock.advance(1)  # backing off: attempt 1 waits base/2 = 1 s with random 0
    report = await outbox.drain(publisher)
    assert report.pending == 6
    assert [e.id for e in await outbox.pending()] == [e.id for e in first_run + second_run]

    await topic_sink.start()
    clock.advance(600)
    report = await outbox.drain(publisher)
    assert (report.sent, report.pending, report.dead) == (6, 0, 0)
    ids = [e["id"] for e in topic_sink.events]
    assert ids == [e.id for e in first_run + second_run]  # all of them, in order, each once
    assert await outbox.drain(publisher) == type(report)(0, 0, 0)
    assert len(topic_sink.events) == 6


async def test_a_topic_answering_503_keeps_events_pending_with_attempt_counts(
        store: StateStore, topic_sink: TopicSink, publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock, random=lambda: 0.0)
    await outbox.publish(provisioning_run())
    topic_sink.fail_with(503)
    for attempt in (1, 2, 3):
        await outbox.drain(publisher)
        assert {e["attempts"] for e in await outbox.entries()} == {attempt}
        clock.advance(3600)
    assert topic_sink.events == []
    topic_sink.fail_with(None)
    await outbox.drain(publisher)
    assert len(topic_sink.events) == 3
    assert {e["state"] for e in await outbox.entries()} == {"sent"}


async def test_backing_off_events_are_not_sent_before_their_time(store: StateStore, topic_sink: TopicSink,
                                                                 publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock, random=lambda: 0.0)
    await outbox.publish(provisioning_run())
    topic_sink.fail_with(503)
    await outbox.drain(publisher)
    topic_sink.fail_with(None)
    requests = topic_sink.requests
    clock.advance(0.5)  # the first retry waits 1 s
    assert (await outbox.drain(publisher)).sent == 0
    assert topic_sink.requests == requests
    clock.advance(1)
    assert (await outbox.drain(publisher)).sent == 3


async def test_a_wrong_topic_key_keeps_events_pending_not_dead(store: StateStore, topic_sink: TopicSink) -> None:
    outbox = Outbox(store, FakeClock(T0))
    await outbox.publish(provisioning_run())
    async with EventGridPublisher.with_key(topic_sink.endpoint, "fake-wrong-key", retry_total=0) as wrong:
        report = await outbox.drain(wrong)
    assert (report.sent, report.pending, report.dead) == (0, 3, 0)
    assert {e["lastError"] for e in await outbox.entries()} == {"HTTP401"}


async def test_recording_the_same_event_twice_keeps_one(store: StateStore, topic_sink: TopicSink,
                                                        publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock)
    await record_in_turn(outbox, clock, [provisioning_run(), provisioning_run()])
    assert len(await outbox.pending()) == 3
    await outbox.drain(publisher)
    await outbox.publish(provisioning_run())  # a transition retried after its events were sent
    assert await outbox.pending() == []
    await outbox.drain(publisher)
    assert len(topic_sink.events) == 3


async def test_two_drainers_at_once_send_each_event_once(store: StateStore, topic_sink: TopicSink,
                                                         publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock, max_batch=2)
    await record_in_turn(outbox, clock, [provisioning_run(f"op-{i}") for i in range(4)])
    await asyncio.gather(outbox.drain(publisher), Outbox(store, clock, max_batch=2).drain(publisher))
    await outbox.drain(publisher)  # whatever a drainer stopped short of
    ids = [e["id"] for e in topic_sink.events]
    assert len(ids) == 12 and len(set(ids)) == 12


async def test_an_event_claimed_by_a_crashed_drainer_is_sent_after_its_lease(
        store: StateStore, topic_sink: TopicSink, publisher: EventGridPublisher) -> None:
    class Crashing:
        async def publish(self, events: Sequence[LifecycleEvent]) -> None:
            raise asyncio.CancelledError  # the worker dies mid-send: no release, the claim stays

    clock = FakeClock(T0)
    outbox = Outbox(store, clock, lease_seconds=60)
    await outbox.publish(provisioning_run())
    with pytest.raises(asyncio.CancelledError):
        await outbox.drain(Crashing())
    assert {e["state"] for e in await outbox.entries()} == {"sending"}
    assert (await outbox.drain(publisher)).sent == 0  # the lease is still held
    clock.advance(61)
    assert (await outbox.drain(publisher)).sent == 3
    assert len(topic_sink.events) == 3


class RefusingPublisher:
    """Refuses one event for good, the way Event Grid answers 400 to a malformed event; forwards the rest."""

    def __init__(self, inner: EventGridPublisher, refused_id: str) -> None:
        self.inner = inner
        self.refused_id = refused_id

    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        if any(e.id == self.refused_id for e in events):
            raise FatalError("HTTP400", "the event is malformed")
        await self.inner.publish(events)


async def test_an_event_refused_for_good_is_kept_as_dead_and_does_not_block_the_rest(
        store: StateStore, topic_sink: TopicSink, publisher: EventGridPublisher) -> None:
    outbox = Outbox(store, FakeClock(T0))
    events = provisioning_run()
    await outbox.publish(events)
    report = await outbox.drain(RefusingPublisher(publisher, events[1].id))
    assert (report.sent, report.pending, report.dead) == (2, 0, 1)
    assert [e["id"] for e in topic_sink.events] == [events[0].id, events[2].id]
    dead = [e for e in await outbox.entries() if e["state"] == "dead"]
    assert [(d["PartitionKey"], d["RowKey"], d["lastError"]) for d in dead] == [("outbox", events[1].id, "HTTP400")]


async def test_sent_rows_are_purged_after_the_retention(store: StateStore, topic_sink: TopicSink,
                                                        publisher: EventGridPublisher) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(store, clock)
    await outbox.publish(provisioning_run())
    await outbox.drain(publisher)
    assert await outbox.purge(timedelta(days=7)) == 0
    clock.advance(8 * 86400)
    assert await outbox.purge(timedelta(days=7)) == 3
    assert await outbox.entries() == []


# --- the Event Grid adapter -------------------------------------------------------------------------------------


async def test_large_publishes_are_split_into_batches_under_the_limit(topic_sink: TopicSink) -> None:
    events = [lifecycle.operation_accepted(CLUSTER, f"op-{i}", "create", time=T0) for i in range(10)]
    size = len(json.dumps(events[0].to_dict()))
    client = EventGridPublisherClient(topic_sink.endpoint, AzureKeyCredential(topic_sink.key), retry_total=0)
    async with EventGridPublisher(client, max_batch_bytes=size * 3) as pub:
        await pub.publish(events)
    assert [e["id"] for e in topic_sink.events] == [e.id for e in events]
    assert len(topic_sink.content_types) >= 4


async def test_an_event_over_one_megabyte_is_refused_without_sending(topic_sink: TopicSink) -> None:
    huge = lifecycle.operation_accepted(CLUSTER, "op-1", "create", time=T0)
    huge = LifecycleEvent(huge.id, huge.type, huge.source, huge.subject, huge.time, {"blob": "x" * 1_100_000})
    async with EventGridPublisher.with_key(topic_sink.endpoint, topic_sink.key, retry_total=0) as pub:
        with pytest.raises(FatalError, match="EventTooLarge"):
            await pub.publish([huge])
    assert topic_sink.requests == 0


async def test_an_unreachable_topic_is_retryable() -> None:
    sink = TopicSink()
    await sink.start()
    endpoint, key = sink.endpoint, sink.key
    await sink.close()
    async with EventGridPublisher.with_key(endpoint, key, retry_total=0) as pub:
        with pytest.raises(RetryableError):
            await pub.publish(provisioning_run())


async def test_entra_id_credential_publishes_over_https() -> None:
    async with TopicSink(tls=True) as sink:
        assert sink.endpoint.startswith("https://")
        async with EventGridPublisher.with_credential(sink.endpoint, AsyncOfflineCredential(), retry_total=0,
                                                      connection_verify=str(sink.cert_path)) as pub:
            await pub.publish(provisioning_run())
        assert len(sink.events) == 3
