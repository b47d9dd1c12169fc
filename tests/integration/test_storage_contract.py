"""The storage ports' contract, run against the in-memory fakes and the Azure adapters on Azurite alike.

A behaviour the engine relies on belongs here, so that a unit test on the fakes means the same thing as an
integration test on Azure.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.adapters.queue import AzureStepQueue
from shared.adapters.store import AzureTableStateStore
from shared.engine.ports import StateStore, StepQueue
from shared.errors import ConflictError, PayloadTooLargeError, PreconditionFailedError
from tests.fakes import FakeStateStore, FakeStepQueue
from tests.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture(params=["fake", "azure"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """None for the fakes, else the connection string of the session's Azurite."""
    return None if request.param == "fake" else request.getfixturevalue("azurite_connection_string")


@pytest.fixture
async def store(backend: str | None, unique_table_name: str) -> AsyncIterator[StateStore]:
    if backend is None:
        yield FakeStateStore()
        return
    async with AzureTableStateStore.from_connection_string(backend, unique_table_name) as azure_store:
        yield azure_store


@pytest.fixture
async def queue(backend: str | None, unique_queue_name: str) -> AsyncIterator[StepQueue]:
    if backend is None:
        yield FakeStepQueue(unique_queue_name)
        return
    async with AzureStepQueue.from_connection_string(backend, unique_queue_name) as azure_queue:
        yield azure_queue




def step(row: str = "step-1", **properties: object) -> dict[str, object]:
    return {"PartitionKey": "op-1", "RowKey": row, **properties}


class TestStateStore:
    async def test_a_missing_entity_reads_as_none(self, store: StateStore):
        assert await store.get("op-1", "nothing") is None

    async def test_values_round_trip_with_their_types(self, store: StateStore):
        started = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
        entity = step(
            state="Running", attempts=3, big=2**40, negative=-(2**40), progress=0.5, done=False, started=started,
            resume={"token": "abc", "polls": [1, 2]}, armIds=["/subscriptions/x"], unicode="zürich ✓",
        )

        etag = await store.insert(entity)
        found = await store.get("op-1", "step-1")

        assert found is not None
        assert found.etag == etag
        assert found.entity == {**entity, "started": started.astimezone(UTC)}
        assert type(found.entity["attempts"]) is int and type(found.entity["big"]) is int

    async def test_a_none_property_is_not_stored(self, store: StateStore):
        await store.insert(step(lastError=None, state="Pending"))

        found = await store.get("op-1", "step-1")

        assert found is not None
        assert "lastError" not in found.entity

    async def test_a_batch_insert_creates_every_entity_or_none(self, store: StateStore):
        await store.insert_batch([step("a", n=1), step("b", n=2)])
        assert [v.entity["RowKey"] for v in await store.query_partition("op-1")] == ["a", "b"]
        with pytest.raises(ConflictError):
            await store.insert_batch([step("c"), step("b")])
        assert await store.get("op-1", "c") is None

    async def test_query_expired_filters_on_a_datetime_and_stops_at_the_limit(self, store: StateStore):
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        for i in range(6):
            await store.insert(step(f"r{i}", expiresAt=t0 + timedelta(minutes=i)))
        await store.insert(step("other", note="no expiresAt"))
        await store.insert({"PartitionKey": "op-2", "RowKey": "r0", "expiresAt": t0})
        found = await store.query_expired("op-1", "expiresAt", t0 + timedelta(minutes=3), limit=10)
        assert [v.entity["RowKey"] for v in found] == ["r0", "r1", "r2", "r3"]
        assert len(await store.query_expired("op-1", "expiresAt", t0 + timedelta(minutes=9), limit=2)) == 2

    async def test_query_range_reads_after_a_key_in_order_with_equal_properties_up_to_the_limit(
            self, store: StateStore):
        for i in range(8):
            await store.insert(step(f"k{i}", state="ready" if i % 2 else "failed", n=i))
        await store.insert({"PartitionKey": "op-2", "RowKey": "k5", "state": "ready"})
        rows = await store.query_range("op-1", "k2", {"state": "ready"}, 10)
        assert [v.entity["RowKey"] for v in rows] == ["k3", "k5", "k7"] and rows[0].entity["n"] == 3
        assert [v.entity["RowKey"] for v in await store.query_range("op-1", None, {}, 3)] == ["k0", "k1", "k2"]
        assert await store.query_range("op-1", "k7", {}, 5) == []

    async def test_get_many_finds_what_exists_over_several_queries(self, store: StateStore):
        for i in range(0, 40, 2):
            await store.insert(step(f"r{i:02}", n=i))
        await store.insert({"PartitionKey": "op-2", "RowKey": "r01", "n": -1})
        wanted = [f"r{i:02}" for i in range(40)] + ["r00"]  # more than one query's worth, one twice
        found = await store.get_many("op-1", wanted)
        assert sorted(found) == [f"r{i:02}" for i in range(0, 40, 2)]
        assert found["r04"].entity["n"] == 4 and found["r04"].etag == (await store.get("op-1", "r04")).etag
        assert await store.get_many("op-1", []) == {}

    async def test_an_upsert_batch_creates_and_replaces_in_one_partition(self, store: StateStore):
        await store.insert(step("a", n=1, old=True))
        await store.upsert_batch([step("a", n=2), step("b", n=3)])
        assert [v.entity for v in await store.query_partition("op-1")] == [step("a", n=2), step("b", n=3)]
        with pytest.raises(ValueError, match="one partition"):
            await store.upsert_batch([step("c"), {"PartitionKey": "op-2", "RowKey": "d"}])

    async def test_a_batch_across_partitions_is_refused(self, store: StateStore):
        with pytest.raises(ValueError, match="one partition"):
            await store.insert_batch([step("a"), {"PartitionKey": "op-2", "RowKey": "b"}])

    async def test_inserting_an_existing_entity_conflicts(self, store: StateStore):
        await store.insert(step(state="Pending"))

        with pytest.raises(ConflictError):
            await store.insert(step(state="Running"))

    async def test_an_update_with_the_current_etag_replaces_the_entity(self, store: StateStore):
        etag = await store.insert(step(state="Pending", lease="worker-a"))

        new_etag = await store.update_if_match(step(state="Running"), etag)
        found = await store.get("op-1", "step-1")

        assert new_etag != etag
        assert found is not None
        assert found.entity == step(state="Running")
        assert found.etag == new_etag

    async def test_of_two_writers_holding_the_same_etag_only_the_first_wins(self, store: StateStore):
        etag = await store.insert(step(state="Pending"))

        await store.update_if_match(step(state="Running", lease="worker-a"), etag)
        with pytest.raises(PreconditionFailedError):
            await store.update_if_match(step(state="Running", lease="worker-b"), etag)

        found = await store.get("op-1", "step-1")
        assert found is not None
        assert found.entity["lease"] == "worker-a"

    async def test_updating_a_deleted_entity_fails_the_precondition(self, store: StateStore):
        etag = await store.insert(step(state="Pending"))
        await store.delete_if_match("op-1", "step-1", etag)

        with pytest.raises(PreconditionFailedError):
            await store.update_if_match(step(state="Running"), etag)

    async def test_upsert_creates_then_replaces_unconditionally(self, store: StateStore):
        first = await store.upsert(step(state="Pending", extra=1))
        second = await store.upsert(step(state="Running"))
        found = await store.get("op-1", "step-1")

        assert first != second
        assert found is not None
        assert found.entity == step(state="Running")

    async def test_delete_with_the_current_etag_removes_the_entity(self, store: StateStore):
        etag = await store.insert(step(state="Done"))

        await store.delete_if_match("op-1", "step-1", etag)

        assert await store.get("op-1", "step-1") is None

    async def test_delete_with_a_stale_etag_fails_and_keeps_the_entity(self, store: StateStore):
        stale = await store.insert(step(state="Pending"))
        await store.update_if_match(step(state="Running"), stale)

        with pytest.raises(PreconditionFailedError):
            await store.delete_if_match("op-1", "step-1", stale)
        assert await store.get("op-1", "step-1") is not None

    async def test_deleting_what_is_gone_is_not_an_error(self, store: StateStore):
        etag = await store.insert(step(state="Done"))
        await store.delete_if_match("op-1", "step-1", etag)

        await store.delete_if_match("op-1", "step-1", etag)

    async def test_a_partition_query_returns_only_that_partition_in_row_key_order(self, store: StateStore):
        for row in ("step-b", "operation", "step-a"):
            await store.insert(step(row, kind=row))
        await store.insert({"PartitionKey": "op-2", "RowKey": "operation", "kind": "other"})

        rows = await store.query_partition("op-1")

        assert [v.entity["RowKey"] for v in rows] == ["operation", "step-a", "step-b"]
        for versioned in rows:
            current = await store.get("op-1", versioned.entity["RowKey"])
            assert current is not None
            assert versioned.etag == current.etag

    async def test_an_empty_partition_queries_as_empty(self, store: StateStore):
        assert await store.query_partition("op-none") == []

    async def test_what_is_read_is_a_copy(self, store: StateStore):
        await store.insert(step(resume={"token": "a"}))
        found = await store.get("op-1", "step-1")
        assert found is not None

        found.entity["resume"]["token"] = "changed"

        again = await store.get("op-1", "step-1")
        assert again is not None
        assert again.entity["resume"] == {"token": "a"}

    @pytest.mark.parametrize(
        "entity",
        [
            pytest.param(step("a/b"), id="slash-in-row-key"),
            pytest.param({"PartitionKey": "op#1", "RowKey": "x"}, id="hash-in-partition-key"),
            pytest.param({"RowKey": "x"}, id="no-partition-key"),
            pytest.param(step(**{"bad-name": 1}), id="dash-in-property-name"),
            pytest.param(step(Timestamp="x"), id="reserved-property-name"),
            pytest.param(step(resume__json="x"), id="reserved-json-suffix"),
            pytest.param(step(started=datetime(2026, 1, 1)), id="naive-datetime"),
            pytest.param(step(huge=2**64), id="int-beyond-64-bits"),
        ],
    )
    async def test_entities_azure_would_refuse_are_refused_before_sending(self, store: StateStore, entity):
        with pytest.raises(ValueError):
            await store.insert(entity)

    async def test_a_property_over_64_kib_is_refused(self, store: StateStore):
        with pytest.raises(PayloadTooLargeError, match="'log'"):
            await store.insert(step(log="x" * 40_000))  # 80,000 bytes in UTF-16

    async def test_a_nested_value_over_64_kib_is_refused(self, store: StateStore):
        with pytest.raises(PayloadTooLargeError):
            await store.insert(step(history=["x" * 1000] * 40))

    async def test_an_entity_over_1_mib_is_refused(self, store: StateStore):
        with pytest.raises(PayloadTooLargeError, match="entity"):
            await store.insert(step(**{f"part{i}": "x" * 30_000 for i in range(20)}))


class TestStepQueue:
    async def test_a_sent_message_is_received_with_its_body(self, queue: StepQueue):
        await queue.send({"operationId": "op-1", "step": "vnet", "action": "begin"})

        [message] = await queue.receive()

        assert message.body == {"operationId": "op-1", "step": "vnet", "action": "begin"}
        assert message.dequeue_count == 1

    async def test_an_empty_queue_receives_nothing(self, queue: StepQueue):
        assert await queue.receive(max_messages=32) == []

    async def test_receive_takes_at_most_max_messages(self, queue: StepQueue):
        for n in range(3):
            await queue.send({"n": n})

        first = await queue.receive(max_messages=2)
        rest = await queue.receive(max_messages=32)

        assert len(first) == 2
        assert len(rest) == 1
        assert sorted(m.body["n"] for m in first + rest) == [0, 1, 2]

    @pytest.mark.parametrize("max_messages", [0, 33])
    async def test_max_messages_is_between_1_and_32(self, queue: StepQueue, max_messages: int):
        with pytest.raises(ValueError):
            await queue.receive(max_messages=max_messages)

    async def test_a_received_message_stays_hidden_and_comes_back_with_a_higher_dequeue_count(self, queue):
        await queue.send({"step": "cluster"})
        [first] = await queue.receive(visibility_timeout=60)

        assert await queue.receive() == []
        await queue.update_visibility(first, 0)
        [again] = await eventually(queue.receive)

        assert again.id == first.id
        assert again.dequeue_count == 2

    async def test_a_delayed_message_appears_only_after_its_delay(self, queue: StepQueue):
        await queue.send({"step": "later"}, visibility_timeout=3600)  # hidden however slow this test runs
        sent_at = time.monotonic()
        await queue.send({"step": "monitor"}, visibility_timeout=1)

        [message] = await eventually(queue.receive)

        assert message.body == {"step": "monitor"}
        assert time.monotonic() - sent_at >= 0.5  # never before its delay (the service rounds to whole seconds)
        assert await queue.receive() == []  # the other one is still hidden

    async def test_a_deleted_message_is_gone(self, queue: StepQueue):
        await queue.send({"step": "dns"})
        [message] = await queue.receive(visibility_timeout=1)

        await queue.delete(message)

        await queue.send({"step": "marker"}, visibility_timeout=1)
        [marker] = await eventually(queue.receive)  # the deleted one would have reappeared by now, first
        assert marker.body == {"step": "marker"}

    async def test_updating_visibility_renews_the_pop_receipt(self, queue: StepQueue):
        await queue.send({"step": "cluster"})
        [message] = await queue.receive()

        renewed = await queue.update_visibility(message, 60)

        assert renewed.pop_receipt != message.pop_receipt
        assert (renewed.id, renewed.body, renewed.dequeue_count) == (message.id, message.body, message.dequeue_count)
        with pytest.raises(PreconditionFailedError):
            await queue.delete(message)
        await queue.delete(renewed)

    async def test_a_lost_lease_cannot_be_extended(self, queue: StepQueue):
        await queue.send({"step": "cluster"})
        [message] = await queue.receive()
        await queue.delete(message)

        with pytest.raises(PreconditionFailedError):
            await queue.update_visibility(message, 60)

    async def test_a_poisoned_message_moves_to_the_poison_queue_unchanged(self, queue: StepQueue):
        await queue.send({"operationId": "op-1", "step": "pool-gpu"})
        [message] = await queue.receive()

        await queue.move_to_poison(message)

        assert queue.poison().name == f"{queue.name}-poison"
        [poisoned] = await queue.poison().receive()
        assert poisoned.body == {"operationId": "op-1", "step": "pool-gpu"}
        with pytest.raises(PreconditionFailedError):
            await queue.delete(message)  # already deleted from the step queue

    async def test_a_message_over_64_kib_is_refused(self, queue: StepQueue):
        with pytest.raises(PayloadTooLargeError):
            await queue.send({"blob": "x" * 50_000})

    async def test_a_message_that_is_not_json_is_refused(self, queue: StepQueue):
        with pytest.raises(ValueError):
            await queue.send({"nan": float("nan")})
