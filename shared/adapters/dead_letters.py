"""The `DeadLetters` port (shared/services/rejected.py) on an Azure Storage queue, read raw.

A `<queue>-poison-poison` queue holds what the Functions host could not bind, so its messages are read without a
decode policy: the text as the service stores it, whatever it is. The queue is never created here: the host
creates it when it first moves a message there, and a queue that does not exist has nothing to drain.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from shared.adapters.sdk_errors import sdk_errors
from shared.services.rejected import DeadLetter

HIDDEN_SECONDS = 300  # while a drain records a message; if it dies, the message comes back for the next run


class AzureDeadLetters:
    def __init__(self, service: QueueServiceClient, name: str, *, owns_client: bool = True) -> None:
        self._service = service
        self._owns_client = owns_client
        self._client: QueueClient = service.get_queue_client(name)
        self._name = name

    @classmethod
    def from_connection_string(cls, conn_str: str, queue_name: str, **client_kwargs: Any) -> AzureDeadLetters:
        return cls(QueueServiceClient.from_connection_string(conn_str, **client_kwargs), queue_name)

    @property
    def name(self) -> str:
        return self._name

    async def take(self, max_messages: int) -> list[DeadLetter]:
        with sdk_errors():
            try:
                pages = self._client.receive_messages(messages_per_page=max_messages, max_messages=max_messages,
                                                      visibility_timeout=HIDDEN_SECONDS).by_page()
                raw = [m async for m in await pages.__anext__()]
            except (StopAsyncIteration, ResourceNotFoundError):  # none, or no queue: nothing ever went there
                return []
        return [DeadLetter(m.id, str(m.pop_receipt), str(m.content), int(m.dequeue_count or 0)) for m in raw]

    async def remove(self, letter: DeadLetter) -> None:
        with sdk_errors():
            await self._client.delete_message(letter.id, letter.receipt)

    async def close(self) -> None:
        await self._client.close()
        if self._owns_client:
            await self._service.close()

    async def __aenter__(self) -> AzureDeadLetters:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

