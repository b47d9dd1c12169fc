"""The Storage queue adapter against Azurite: the wire format the Functions trigger reads, and server-side timing."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.queue import BinaryBase64DecodePolicy, TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from shared.adapters.queue import AzureStepQueue
from tests.polling import eventually

pytestmark = pytest.mark.integration

STEP = {"operationId": "op-1", "step": "cluster", "action": "monitor", "note": "zürich ✓"}


@pytest.fixture
async def queue(azurite_connection_string: str, unique_queue_name: str) -> AsyncIterator[AzureStepQueue]:
    async with AzureStepQueue.from_connection_string(azurite_connection_string, unique_queue_name) as opened:
        yield opened


def plain_client(conn: str, name: str, **policies: object) -> QueueClient:
    return QueueClient.from_connection_string(conn, name, **policies)




async def test_messages_are_base64_of_utf8_json_as_the_functions_trigger_decodes_them(
    queue, azurite_connection_string
):
    await queue.send(STEP)

    async with plain_client(azurite_connection_string, queue.name) as raw_reader:
        [raw] = await raw_reader.peek_messages(max_messages=1)
    async with plain_client(
        azurite_connection_string, queue.name, message_decode_policy=BinaryBase64DecodePolicy()
    ) as functions_like:
        [decoded] = await functions_like.peek_messages(max_messages=1)

    # The host base64-decodes to bytes and the Python worker's QueueMessage.get_json() parses UTF-8 JSON.
    assert json.loads(base64.b64decode(raw.content, validate=True).decode("utf-8")) == STEP
    assert json.loads(decoded.content) == STEP


async def test_a_message_written_by_another_producer_with_base64_text_is_received(queue, azurite_connection_string):
    await queue.send({"warmup": True})  # creates the queue
    [warmup] = await queue.receive()
    await queue.delete(warmup)

    async with plain_client(
        azurite_connection_string, queue.name, message_encode_policy=TextBase64EncodePolicy()
    ) as producer:
        await producer.send_message(json.dumps(STEP))

    [message] = await queue.receive()
    assert message.body == STEP


async def test_a_visibility_delay_is_honoured_by_the_service(queue):
    await queue.send({"step": "later"}, visibility_timeout=3600)  # hidden however slow this test runs
    sent_at = time.monotonic()
    await queue.send(STEP, visibility_timeout=2)

    [message] = await eventually(queue.receive)

    assert time.monotonic() - sent_at >= 1.0  # never before its delay
    assert message.body == STEP
    assert await queue.receive() == []  # the other one is still hidden


async def test_a_delay_beyond_seven_days_is_capped_not_refused(queue, azurite_connection_string):
    await queue.send(STEP, visibility_timeout=30 * 24 * 3600)

    async with plain_client(azurite_connection_string, queue.name) as raw_reader:
        props = await raw_reader.get_queue_properties()
    assert props.approximate_message_count == 1
    assert await queue.receive() == []


async def test_messages_never_expire(queue, azurite_connection_string):
    await queue.send(STEP)

    async with plain_client(azurite_connection_string, queue.name) as raw_reader:
        [raw] = await raw_reader.peek_messages(max_messages=1)

    assert raw.expires_on is None or raw.expires_on > datetime.now(UTC) + timedelta(days=365)


async def test_the_dequeue_count_grows_with_every_redelivery(queue):
    await queue.send(STEP)

    counts = []
    for _ in range(3):
        [message] = await eventually(queue.receive)
        counts.append(message.dequeue_count)
        await queue.update_visibility(message, 0)  # what a crashed worker's expired lease amounts to

    assert counts == [1, 2, 3]


async def test_poisoned_messages_land_in_a_real_poison_queue_readable_by_the_functions_host(
    queue, azurite_connection_string
):
    await queue.send(STEP)
    [message] = await queue.receive()

    await queue.move_to_poison(message)

    async with QueueServiceClient.from_connection_string(azurite_connection_string) as service:
        names = {q.name async for q in service.list_queues(name_starts_with=queue.name)}
    assert names == {queue.name, f"{queue.name}-poison"}
    async with plain_client(
        azurite_connection_string, f"{queue.name}-poison", message_decode_policy=TextBase64DecodePolicy()
    ) as poison_reader:
        [poisoned] = await poison_reader.peek_messages(max_messages=1)
    assert json.loads(poisoned.content) == STEP
    assert await queue.receive() == []


async def test_a_message_that_is_not_base64_json_is_quarantined_not_retried_forever(queue, azurite_connection_string):
    await queue.send({"warmup": True})
    [warmup] = await queue.receive()
    await queue.delete(warmup)
    async with plain_client(azurite_connection_string, queue.name) as producer:
        await producer.send_message("not base64 {")

    await queue.send(STEP)
    received = await eventually(lambda: queue.receive(max_messages=32))

    assert [m.body for m in received] == [STEP]
    [quarantined] = await queue.poison().receive()
    assert quarantined.body["undecodable"] == "not base64 {"
