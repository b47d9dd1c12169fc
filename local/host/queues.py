"""Queue triggers for the local host: host.json's `extensions.queues` settings, and a StepQueue-shaped view of a
Storage queue that hands the function a real `func.QueueMessage` (id, body bytes, dequeue count, times).

The delivery loop itself is `local.host.queue_runner.QueueRunner` (batch, dequeue count, visibility after failure,
`<queue>-poison`, polling back-off). Its handler receives `{"message": func.QueueMessage}`; its poison callback
is not used, because in Azure the poison queue is just another queue, and whatever function triggers on it runs.
With `messageEncoding: base64` a message that is not base64 cannot be bound: each delivery fails without calling
the function, and after maxDequeueCount it moves to the poison queue unchanged (what Storage extension 5.x does).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage  # what the Python worker hands a queue trigger
from azure.storage.queue.aio import QueueClient

from local.host.functions import FunctionSpec, invoke
from local.host.queue_runner import QueueRunner, QueueSemantics
from shared.engine.ports import ReceivedMessage

log = logging.getLogger("aksvend.local.host")
POISON_SUFFIX = "-poison"


class BindingError(ValueError):
    """The message cannot be turned into the function's argument (not base64 under messageEncoding base64)."""


def read_host_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def timespan(value: Any, default: float) -> float:
    """host.json durations: "hh:mm:ss[.fff]" or "d.hh:mm:ss" -> seconds."""
    match = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)", str(value or ""))
    if not match:
        return default
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def queue_semantics(host_json: dict[str, Any], lease_seconds: float) -> tuple[QueueSemantics, str]:
    """QueueSemantics and the message encoding from host.json (defaults as the Functions host documents them)."""
    q = (host_json.get("extensions") or {}).get("queues") or {}
    semantics = QueueSemantics(batch_size=max(1, min(32, int(q.get("batchSize", 16)))),
                               max_dequeue_count=max(1, int(q.get("maxDequeueCount", 5))),
                               visibility_timeout=timespan(q.get("visibilityTimeout"), 0.0),
                               lease_seconds=max(1, round(lease_seconds)),
                               max_polling_interval=max(0.1, timespan(q.get("maxPollingInterval"), 60.0)))
    return semantics, str(q.get("messageEncoding", "base64")).lower()


class TriggerQueue:
    """One Storage queue as QueueRunner sees it (the StepQueue port), delivering `func.QueueMessage`s."""

    def __init__(self, connection_string: str, name: str, encoding: str = "base64") -> None:
        self.name = name
        self.encoding = encoding
        self.client = QueueClient.from_connection_string(connection_string, name)
        self.poison = QueueClient.from_connection_string(connection_string, name + POISON_SUFFIX)

    async def create(self) -> None:
        for client in (self.client, self.poison):
            with contextlib.suppress(ResourceExistsError):
                await client.create_queue()

    async def close(self) -> None:
        await self.client.close()
        await self.poison.close()

    async def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        pages = self.client.receive_messages(messages_per_page=max_messages, max_messages=max_messages,
                                             visibility_timeout=max(1, visibility_timeout)).by_page()
        try:
            raw_messages = [m async for m in await pages.__anext__()]
        except StopAsyncIteration:
            return []
        received = []
        for raw in raw_messages:
            body = self._decode(raw.content)
            message = None if body is None else QueueMessage(
                id=raw.id, body=body, dequeue_count=raw.dequeue_count, expiration_time=raw.expires_on,
                insertion_time=raw.inserted_on, time_next_visible=raw.next_visible_on, pop_receipt=raw.pop_receipt)
            received.append(ReceivedMessage(raw.id, raw.pop_receipt, raw.dequeue_count,
                                            {"message": message, "content": raw.content}))
        return received

    def _decode(self, content: str | None) -> bytes | None:
        if self.encoding != "base64":
            return (content or "").encode("utf-8")
        try:
            return base64.b64decode(content or "", validate=True)
        except (binascii.Error, ValueError):
            return None

    async def delete(self, message: ReceivedMessage) -> None:
        await self.client.delete_message(message.id, message.pop_receipt)

    async def update_visibility(self, message: ReceivedMessage, visibility_timeout: float) -> ReceivedMessage:
        updated = await self.client.update_message(message.id, message.pop_receipt,
                                                   visibility_timeout=max(0, round(visibility_timeout)))
        return ReceivedMessage(message.id, updated.pop_receipt, message.dequeue_count, message.body)

    async def move_to_poison(self, message: ReceivedMessage) -> None:
        # The content goes over unchanged (still base64), as the host copies it; send first, then delete.
        await self.poison.send_message(message.body["content"], time_to_live=-1)
        await self.client.delete_message(message.id, message.pop_receipt)

    async def send(self, message: dict[str, Any], visibility_timeout: float = 0) -> None:
        text = json.dumps(message)
        content = base64.b64encode(text.encode()).decode() if self.encoding == "base64" else text
        await self.client.send_message(content, visibility_timeout=round(visibility_timeout), time_to_live=-1)


async def run_queue_function(spec: FunctionSpec, connection_string: str, semantics: QueueSemantics, encoding: str,
                             stop: asyncio.Event) -> None:
    """Poll the function's queue until `stop`, calling it per message; storage errors are retried, not fatal."""
    queue = TriggerQueue(connection_string, str(spec.trigger["queueName"]), encoding)

    async def handle(body: dict[str, Any]) -> None:
        if body["message"] is None:  # the host cannot bind it: a failed delivery, then the poison queue
            raise BindingError(f"the message is not valid {encoding}")
        await invoke(spec, body["message"])

    runner = QueueRunner(queue, handle, semantics=semantics)  # type: ignore[arg-type]
    try:
        while not stop.is_set():
            try:
                await queue.create()
                await runner.run(stop)
            except Exception as exc:  # Azurite restarting, a stale receipt: log and poll again, as the host does
                log.warning("queue %s: %s; polling again shortly", queue.name, type(exc).__name__,
                            exc_info=log.isEnabledFor(logging.DEBUG))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=semantics.max_polling_interval)
    finally:
        await queue.close()
