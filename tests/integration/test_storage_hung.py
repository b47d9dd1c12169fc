"""Storage that accepts connections and never answers: the app's storage clients (built by shared.bootstrap, as in
Azure) give up after their timeouts with a RetryableError (HTTP 503 with Retry-After; a step re-sent later), instead
of holding the request for azure-core's default 300 s per read. The timeouts are the product's, shortened here
(`STORAGE_TIMEOUTS`) only so that the test is quick; a hung endpoint is a local socket that reads and never writes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from shared import bootstrap
from shared.config import Settings
from shared.errors import RetryableError

pytestmark = pytest.mark.integration
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@contextlib.asynccontextmanager
async def hung_endpoint() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that accepts and reads, and never answers; its port."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


def settings_for(port: int) -> Settings:
    conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
            f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
            f"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    return Settings(local=True, storage_connection=conn)


async def test_a_hung_table_endpoint_is_a_retryable_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(bootstrap, "STORAGE_TIMEOUTS", {"connection_timeout": 1.0, "read_timeout": 0.5,
                                                        "retry_total": 1, "retry_backoff_factor": 0.01})
    async with hung_endpoint() as port:
        table = bootstrap._table(settings_for(port), "hung")
        async with table:
            with pytest.raises(RetryableError):
                await asyncio.wait_for(table.get("p", "r"), timeout=120)  # the bound only turns a hang into a failure


async def test_a_hung_queue_endpoint_is_a_retryable_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(bootstrap, "STORAGE_TIMEOUTS", {"connection_timeout": 1.0, "read_timeout": 0.5,
                                                        "retry_total": 1, "initial_backoff": 0.1})
    async with hung_endpoint() as port:
        queue = bootstrap._queue(settings_for(port), "hung")
        async with queue:
            with pytest.raises(RetryableError):
                await asyncio.wait_for(queue.receive(1, 30), timeout=120)


def test_the_product_sets_storage_timeouts_well_under_the_function_timeout():
    assert bootstrap.STORAGE_TIMEOUTS["connection_timeout"] <= 10
    assert bootstrap.STORAGE_TIMEOUTS["read_timeout"] <= 30
