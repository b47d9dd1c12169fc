"""The dead letters against Azurite: what the Functions host could not bind ends in `<queue>-poison-poison`, which
no trigger reads; the `dead_letters` timer (`RejectedMessages.drain`) moves it into the `rejected` table with why."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue.aio import QueueClient

from shared.adapters.dead_letters import AzureDeadLetters
from shared.adapters.store import AzureTableStateStore
from shared.services.rejected import DEAD_SUFFIX, RejectedMessages
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration

NOT_BASE64 = '{"op": "op-1", "step": "put:cluster"} not base64 \u00e9'


async def _put_raw(conn: str, queue: str, *texts: str) -> None:
    async with QueueClient.from_connection_string(conn, queue) as client:  # no encode policy: the text as it is
        await client.create_queue()
        for text in texts:
            await client.send_message(text)


async def test_the_dead_letters_of_both_queues_are_recorded_as_received_with_why_and_removed(
        azurite_connection_string, unique_queue_name, unique_table_name):
    steps, requests = f"{unique_queue_name}s", f"{unique_queue_name}r"
    await _put_raw(azurite_connection_string, steps + DEAD_SUFFIX, NOT_BASE64, "%%%")
    await _put_raw(azurite_connection_string, requests + DEAD_SUFFIX, "<cluster/>")
    async with AsyncExitStack() as stack:
        table = await stack.enter_async_context(AzureTableStateStore.from_connection_string(
            azurite_connection_string, unique_table_name))
        dead = [await stack.enter_async_context(AzureDeadLetters.from_connection_string(
            azurite_connection_string, q + DEAD_SUFFIX)) for q in (steps, requests)]
        rejected = RejectedMessages(table, FakeClock(), dead)
        assert await rejected.drain() == 3
        assert await rejected.drain() == 0  # removed: nothing comes back
        kept_steps, kept_requests = await rejected.list(steps), await rejected.list(requests)
    assert sorted(r["body"] for r in kept_steps) == sorted([NOT_BASE64, "%%%"])
    assert [r["body"] for r in kept_requests] == ["<cluster/>"]
    for row in kept_steps + kept_requests:
        assert f"{row['PartitionKey']}{DEAD_SUFFIX}" in row["reason"] and "could not bind" in row["reason"]
    async with QueueClient.from_connection_string(azurite_connection_string, steps + DEAD_SUFFIX) as client:
        assert (await client.get_queue_properties()).approximate_message_count == 0


async def test_a_dead_letter_queue_that_never_existed_has_nothing_to_drain_and_is_not_created(
        azurite_connection_string, unique_queue_name, unique_table_name):
    name = unique_queue_name + DEAD_SUFFIX
    async with AzureTableStateStore.from_connection_string(azurite_connection_string, unique_table_name) as table, \
            AzureDeadLetters.from_connection_string(azurite_connection_string, name) as dead:
        assert await RejectedMessages(table, FakeClock(), [dead]).drain() == 0
    async with QueueClient.from_connection_string(azurite_connection_string, name) as client:
        with pytest.raises(ResourceNotFoundError):
            await client.get_queue_properties()


async def test_the_runtime_drains_the_dead_letters_of_both_queues_of_the_function_app(armemu,
                                                                                     azurite_connection_string):
    from local.credential import AsyncOfflineCredential
    from shared.bootstrap import QUEUES, open_runtime
    from shared.config import Settings

    settings = Settings(local=True, storage_connection=azurite_connection_string, arm_endpoint=armemu.base_url,
                        arm_ca_cert=armemu.ca_cert, default_subscription_id=armemu.subscription_id)
    async with AsyncExitStack() as stack:
        rt = await open_runtime(settings, stack, credential=AsyncOfflineCredential())
        assert [d.name for d in rt.rejected.dead_letters] == [q + DEAD_SUFFIX for q in QUEUES]
        assert QUEUES == ("cluster-requests", "provisioning-steps")
