"""Runs a queue-triggered function the way the Azure Functions host does, against Azurite.

Semantics copied from the Functions Storage queue extension (host.json `extensions.queues`): messages are
fetched in batches (`batchSize`, 16) and handled concurrently; a message whose handler returns is deleted; one
whose handler raises becomes visible again after `visibilityTimeout` (0 s); once its dequeue count reaches
`maxDequeueCount` (5) it moves to `<queue>-poison` and the poison handler (a function on the poison queue in
Azure) is called. While the queue is empty, polling backs off up to `maxPollingInterval`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared.engine.ports import ReceivedMessage, StepQueue
from shared.errors import AksvendError

log = logging.getLogger("aksvend.local.queue")

Handler = Callable[[dict[str, Any]], Awaitable[None]]
PoisonHandler = Callable[[dict[str, Any], int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class QueueSemantics:
    batch_size: int = 16
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0  # after a failure
    lease_seconds: int = 600  # how long a received message stays hidden while its handler runs
    min_polling_interval: float = 0.05
    max_polling_interval: float = 1.0


class QueueRunner:
    def __init__(self, queue: StepQueue, handler: Handler, *, poison: PoisonHandler | None = None,
                 semantics: QueueSemantics | None = None) -> None:
        self.queue = queue
        self.handler = handler
        self.poison = poison
        self.semantics = semantics or QueueSemantics()
        self.handled = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        delay = self.semantics.min_polling_interval
        while not stop.is_set():
            try:
                messages = await self.queue.receive(self.semantics.batch_size, self.semantics.lease_seconds)
            except AksvendError as err:  # storage down: as the host, keep polling (backed off), never stop
                log.warning("receiving from %s failed (%s); polling again", self.queue.name, type(err).__name__)
                messages = []
            if messages:
                await asyncio.gather(*(self._one(m) for m in messages))
                delay = self.semantics.min_polling_interval
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, self.semantics.max_polling_interval)

    async def _one(self, message: ReceivedMessage) -> None:
        if message.dequeue_count > self.semantics.max_dequeue_count:
            await self.queue.move_to_poison(message)
            if self.poison is not None:
                await self.poison(message.body, message.dequeue_count - 1)
            return
        try:
            await self.handler(message.body)
        except Exception as exc:  # the host logs and lets the message come back; so do we
            self.failed += 1
            log.warning("handler failed (delivery %d of %s): %s", message.dequeue_count, self.queue.name,
                        type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            await self.queue.update_visibility(message, self.semantics.visibility_timeout)
            return
        self.handled += 1
        await self.queue.delete(message)
