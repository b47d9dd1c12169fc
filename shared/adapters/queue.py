"""The StepQueue port on Azure Storage queues (azure-storage-queue, async client).

Choices, and why:

* Wire format: the body is compact JSON, UTF-8, then base64: what the Functions queue trigger decodes with its
  default `messageEncoding: base64` (the host base64-decodes and hands the Python worker the bytes;
  `func.QueueMessage.get_json()` parses them). `TextBase64EncodePolicy` does exactly that for a str; for UTF-8
  text it is byte-for-byte what `BinaryBase64EncodePolicy` gives for the encoded bytes.
* Receiving decodes by hand (no SDK decode policy): a message that is not base64 JSON of an object, written by
  someone else, would otherwise make the SDK fail the whole batch, every time. Such a message is moved to the
  poison queue as `{"undecodable": <raw text>, "messageId": ...}` and skipped.
* Messages never expire (`time_to_live=-1`): the default 7-day TTL could silently drop a monitor step that
  re-enqueued itself with a long delay, leaving its operation running forever.
* Visibility delays are rounded up to whole seconds and capped at 7 days, the service's maximum.
* A stale pop receipt (the message was received again by someone else, or already deleted) becomes
  `PreconditionFailedError`; other failures go through `shared.adapters.sdk_errors`.
* Queues (`<name>` and `<name>-poison`) are created on first use; both share one service client.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from shared.adapters.sdk_errors import Special, error_code, sdk_errors
from shared.engine.ports import MAX_VISIBILITY_DELAY_SECONDS, ReceivedMessage
from shared.errors import PayloadTooLargeError, PreconditionFailedError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_RECEIVE",
    "AzureStepQueue",
    "decode_body",
    "encode_body",
    "poison_name",
    "visibility_seconds",
]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024  # of the base64 text the service stores
MAX_RECEIVE = 32
POISON_SUFFIX = "-poison"
_STALE_RECEIPT_CODES = frozenset({"MessageNotFound", "PopReceiptMismatch"})


def poison_name(queue_name: str) -> str:
    return queue_name + POISON_SUFFIX


def encode_body(message: Mapping[str, Any]) -> str:
    """Compact JSON of the message; raises PayloadTooLargeError if its base64 form exceeds 64 KiB."""
    text = json.dumps(message, separators=(",", ":"), allow_nan=False)
    encoded_length = 4 * math.ceil(len(text.encode("utf-8")) / 3)
    if encoded_length > MAX_MESSAGE_BYTES:
        raise PayloadTooLargeError(f"message is {encoded_length} bytes in base64; queues allow {MAX_MESSAGE_BYTES}")
    return text


def decode_body(raw: str) -> dict[str, Any]:
    """Base64, UTF-8, JSON object; raises ValueError for anything else."""
    try:
        body = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not base64 JSON") from exc
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def visibility_seconds(delay: float, minimum: int = 0) -> int:
    """Whole seconds in [minimum, 7 days], rounding up so a delay is never shorter than asked."""
    return max(minimum, min(MAX_VISIBILITY_DELAY_SECONDS, math.ceil(delay)))


class AzureStepQueue:
    """StepQueue on one Azure Storage queue; see the module docstring for the choices."""

    def __init__(self, service: QueueServiceClient, name: str, *, owns_client: bool = True) -> None:
        self._service = service
        self._name = name
        self._owns_client = owns_client
        self._client: QueueClient = service.get_queue_client(name, message_encode_policy=TextBase64EncodePolicy())
        self._queue_ready = False
        self._queue_lock = asyncio.Lock()
        self._poison: AzureStepQueue | None = None

    @classmethod
    def from_connection_string(cls, conn_str: str, queue_name: str, **client_kwargs: Any) -> AzureStepQueue:
        return cls(QueueServiceClient.from_connection_string(conn_str, **client_kwargs), queue_name)

    @property
    def name(self) -> str:
        return self._name

    async def close(self) -> None:
        await self._client.close()
        if self._poison is not None:
            await self._poison.close()
        if self._owns_client:
            await self._service.close()

    async def __aenter__(self) -> AzureStepQueue:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def poison(self) -> AzureStepQueue:
        if self._poison is None:
            self._poison = AzureStepQueue(self._service, poison_name(self._name), owns_client=False)
        return self._poison

    async def send(self, message: Mapping[str, Any], visibility_timeout: float = 0) -> None:
        text = encode_body(message)
        await self._ensure_queue()
        with sdk_errors():
            await self._client.send_message(
                text, visibility_timeout=visibility_seconds(visibility_timeout), time_to_live=-1
            )

    async def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        if not 1 <= max_messages <= MAX_RECEIVE:
            raise ValueError(f"max_messages must be between 1 and {MAX_RECEIVE}")
        await self._ensure_queue()
        with sdk_errors():
            pages = self._client.receive_messages(
                messages_per_page=max_messages,
                max_messages=max_messages,
                visibility_timeout=visibility_seconds(visibility_timeout, minimum=1),
            ).by_page()
            try:
                raw_messages = [raw async for raw in await pages.__anext__()]
            except StopAsyncIteration:
                return []
        received = []
        for raw in raw_messages:
            try:
                body = decode_body(raw.content)
            except ValueError:
                await self._quarantine(raw)
                continue
            # A received message always has its receipt and count; the SDK types them as optional.
            received.append(ReceivedMessage(raw.id, str(raw.pop_receipt), int(raw.dequeue_count or 0), body))
        return received

    async def delete(self, message: ReceivedMessage) -> None:
        with sdk_errors({HttpResponseError: _lease_lost(message)}):
            await self._client.delete_message(message.id, message.pop_receipt)

    async def update_visibility(self, message: ReceivedMessage, visibility_timeout: float) -> ReceivedMessage:
        with sdk_errors({HttpResponseError: _lease_lost(message)}):
            updated = await self._client.update_message(
                message.id, message.pop_receipt, visibility_timeout=visibility_seconds(visibility_timeout)
            )
        return ReceivedMessage(message.id, str(updated.pop_receipt), message.dequeue_count, message.body)

    async def move_to_poison(self, message: ReceivedMessage) -> None:
        # Send first: a crash in between leaves a duplicate in poison, never a lost message.
        await self.poison().send(message.body)
        await self.delete(message)

    async def _quarantine(self, raw: Any) -> None:
        log.warning("message %s on %s is not base64 JSON; moving it to %s", raw.id, self._name, poison_name(self._name))
        await self.poison().send({"undecodable": str(raw.content)[:32_000], "messageId": raw.id})
        with sdk_errors():
            await self._client.delete_message(raw.id, raw.pop_receipt)

    async def _ensure_queue(self) -> None:
        if self._queue_ready:
            return
        async with self._queue_lock:
            if self._queue_ready:
                return
            with sdk_errors(), contextlib.suppress(ResourceExistsError):
                await self._client.create_queue()
            self._queue_ready = True


def _lease_lost(message: ReceivedMessage) -> Special:
    """A stale pop receipt: the message was received again by someone else, or deleted."""

    def lost(exc: HttpResponseError) -> PreconditionFailedError | None:
        if isinstance(exc, ResourceNotFoundError) or error_code(exc) in _STALE_RECEIPT_CODES:
            return PreconditionFailedError(f"message {message.id} was received again or deleted; its lease is lost")
        return None

    return lost
