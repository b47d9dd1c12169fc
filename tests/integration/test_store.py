"""The Table Storage adapter against Azurite: races between independent clients, and what lands on the wire."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from azure.data.tables import EdmType, EntityProperty
from azure.data.tables.aio import TableClient

from shared.adapters.store import AzureTableStateStore
from shared.errors import ConflictError, PreconditionFailedError, RetryableError

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(azurite_connection_string: str, unique_table_name: str) -> AsyncIterator[AzureTableStateStore]:
    async with AzureTableStateStore.from_connection_string(azurite_connection_string, unique_table_name) as opened:
        yield opened


@pytest.fixture
async def other_worker(azurite_connection_string: str, unique_table_name: str) -> AsyncIterator[AzureTableStateStore]:
    """A second store on the same table with its own client and connection pool, as another worker would have."""
    async with AzureTableStateStore.from_connection_string(azurite_connection_string, unique_table_name) as opened:
        yield opened


@pytest.fixture
async def plain_table(azurite_connection_string: str, unique_table_name: str) -> AsyncIterator[TableClient]:
    async with TableClient.from_connection_string(azurite_connection_string, unique_table_name) as client:
        yield client


STEP = {"PartitionKey": "op-1", "RowKey": "step-cluster", "state": "Pending"}


async def test_of_two_workers_racing_with_the_same_etag_exactly_one_advances_the_step(store, other_worker):
    etag = await store.insert(STEP)

    outcomes = await asyncio.gather(
        store.update_if_match({**STEP, "state": "Running", "lease": "a"}, etag),
        other_worker.update_if_match({**STEP, "state": "Running", "lease": "b"}, etag),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["PreconditionFailedError", "str"]
    winner = "a" if isinstance(outcomes[0], str) else "b"
    found = await other_worker.get("op-1", "step-cluster")
    assert found is not None
    assert found.entity["lease"] == winner


async def test_of_two_workers_inserting_the_same_operation_exactly_one_creates_it(store, other_worker):
    outcomes = await asyncio.gather(store.insert(STEP), other_worker.insert(STEP), return_exceptions=True)

    assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError", "str"]


async def test_a_write_through_another_client_makes_our_etag_stale(store, other_worker):
    etag = await store.insert(STEP)
    current = await other_worker.get("op-1", "step-cluster")
    assert current is not None
    await other_worker.update_if_match({**STEP, "state": "Succeeded"}, current.etag)

    with pytest.raises(PreconditionFailedError):
        await store.update_if_match({**STEP, "state": "Running"}, etag)
    with pytest.raises(PreconditionFailedError):
        await store.delete_if_match("op-1", "step-cluster", etag)


async def test_insert_conflict_keeps_the_first_entity(store):
    await store.insert(STEP)

    with pytest.raises(ConflictError):
        await store.insert({**STEP, "state": "Running"})

    found = await store.get("op-1", "step-cluster")
    assert found is not None
    assert found.entity["state"] == "Pending"


async def test_a_partition_query_sees_every_step_of_the_operation(store):
    rows = [f"step-{n:02d}" for n in range(25)]
    await asyncio.gather(*(store.insert({"PartitionKey": "op-1", "RowKey": r, "n": i}) for i, r in enumerate(rows)))
    await store.insert({"PartitionKey": "op-10", "RowKey": "step-00"})  # a prefix of no concern

    found = await store.query_partition("op-1")

    assert [v.entity["RowKey"] for v in found] == rows
    assert [v.entity["n"] for v in found] == list(range(25))


async def test_nested_values_are_json_strings_and_large_ints_are_int64_on_the_wire(store, plain_table):
    await store.insert({**STEP, "resume": {"token": "t", "polls": [1, 2]}, "big": 2**40})

    raw = await plain_table.get_entity("op-1", "step-cluster")

    assert raw["resume__json"] == '{"token":"t","polls":[1,2]}'
    assert raw["big"] == EntityProperty(2**40, EdmType.INT64)
    assert "resume" not in raw


async def test_the_table_is_created_on_first_use(azurite_connection_string, unique_table_name):
    async with AzureTableStateStore.from_connection_string(azurite_connection_string, unique_table_name) as fresh:
        assert await fresh.query_partition("op-1") == []
        assert await fresh.get("op-1", "x") is None


async def test_an_unreachable_table_service_is_a_retryable_connection_error(unique_table_name):
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = reserved.getsockname()[1]
        conn = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
            f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
        async with AzureTableStateStore.from_connection_string(conn, unique_table_name, retry_total=0) as unreachable:
            with pytest.raises(RetryableError) as caught:
                await unreachable.get("op-1", "x")

    assert caught.value.code == "ConnectionError"
    assert "a2V5" not in str(caught.value)
