"""The local stand-in of the Functions host's queue trigger keeps polling through storage failures, as the host
does: a failing receive is logged and polled again, it never ends the runner (and with it the local worker's queue
processing) for good."""

from __future__ import annotations

import asyncio

from local.host.queue_runner import QueueRunner, QueueSemantics
from shared.errors import RetryableError
from tests.fakes import FakeStepQueue


class FlakyQueue(FakeStepQueue):
    """A queue whose first `failures` receives fail as storage does when it is down."""

    def __init__(self, failures: int) -> None:
        super().__init__("steps")
        self.failures = failures

    async def receive(self, max_messages: int = 1, visibility_timeout: int = 30):
        if self.failures > 0:
            self.failures -= 1
            raise RetryableError("ServerBusy", "The server is busy")
        return await super().receive(max_messages, visibility_timeout)


async def test_a_failing_receive_is_polled_again_and_the_message_is_handled():
    queue = FlakyQueue(failures=3)
    await queue.send({"op": "x", "start": True})
    handled = asyncio.Event()

    async def handler(body: dict) -> None:
        handled.set()

    stop = asyncio.Event()
    runner = QueueRunner(queue, handler, semantics=QueueSemantics(min_polling_interval=0.001,
                                                                 max_polling_interval=0.01))
    task = asyncio.create_task(runner.run(stop))
    try:
        await asyncio.wait_for(handled.wait(), timeout=30)  # a bound that turns a dead runner into a failure
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
    assert queue.failures == 0 and runner.handled == 1
