"""In-memory fakes of the storage ports, for unit tests of services.

They subclass the ports and reuse the adapters' codecs (`encode_entity`, `encode_body`), so they refuse what
Azure refuses and hand out copies, never references to stored state. tests/integration/test_storage_contract.py
runs the same tests against these and the Azure adapters.

Time is injected: pass a `ManualClock` to `FakeStepQueue` to make visibility delays pass instantly.
"""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.adapters.queue import MAX_RECEIVE, decode_body, encode_body, poison_name, visibility_seconds
from shared.adapters.store import decode_entity, encode_entity
from shared.engine.ports import PARTITION_KEY, ROW_KEY, ReceivedMessage, StateStore, StepQueue, Versioned
from shared.errors import ConflictError, PreconditionFailedError

__all__ = ["FakeStateStore", "FakeStepQueue", "ManualClock"]


class FakeStateStore(StateStore):
    """A StateStore in a dict; etags are `W/"<n>"` from a counter."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self._etags = itertools.count(1)

    def _write(self, flat: dict[str, Any]) -> str:
        etag = f'W/"{next(self._etags)}"'
        self._rows[(flat[PARTITION_KEY], flat[ROW_KEY])] = (flat, etag)
        return etag

    async def get(self, partition_key: str, row_key: str) -> Versioned | None:
        found = self._rows.get((partition_key, row_key))
        return Versioned(decode_entity(found[0]), found[1]) if found else None

    async def insert(self, entity: Mapping[str, Any]) -> str:
        flat = encode_entity(entity)
        if (flat[PARTITION_KEY], flat[ROW_KEY]) in self._rows:
            raise ConflictError(f"entity ({flat[PARTITION_KEY]}, {flat[ROW_KEY]}) already exists")
        return self._write(flat)

    async def insert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        flats = [encode_entity(e) for e in entities]
        if not flats:
            return
        if len(flats) > 100 or len({f[PARTITION_KEY] for f in flats}) != 1:
            raise ValueError("a batch holds 1-100 entities of one partition")
        keys = [(f[PARTITION_KEY], f[ROW_KEY]) for f in flats]
        if any(k in self._rows for k in keys) or len(set(keys)) != len(keys):
            raise ConflictError("an entity of the batch already exists; none was created")
        for flat in flats:
            self._write(flat)

    async def update_if_match(self, entity: Mapping[str, Any], etag: str) -> str:
        flat = encode_entity(entity)
        found = self._rows.get((flat[PARTITION_KEY], flat[ROW_KEY]))
        if found is None or found[1] != etag:
            raise PreconditionFailedError("entity changed or was deleted since it was read")
        return self._write(flat)

    async def upsert(self, entity: Mapping[str, Any]) -> str:
        return self._write(encode_entity(entity))

    async def delete_if_match(self, partition_key: str, row_key: str, etag: str) -> None:
        found = self._rows.get((partition_key, row_key))
        if found is None:
            return
        if found[1] != etag:
            raise PreconditionFailedError("entity changed since it was read")
        del self._rows[(partition_key, row_key)]

    async def query_partition(self, partition_key: str) -> list[Versioned]:
        return [
            Versioned(decode_entity(flat), etag)
            for (pk, _), (flat, etag) in sorted(self._rows.items())
            if pk == partition_key
        ]


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _Stored:
    id: str
    text: str
    visible_at: float
    dequeue_count: int = 0
    pop_receipt: str | None = None


class FakeStepQueue(StepQueue):
    """A StepQueue in a list, with visibility by an injected clock; `poison()` shares the same registry."""

    def __init__(
        self, name: str, clock: Callable[[], float] = time.monotonic, _registry: dict[str, FakeStepQueue] | None = None
    ) -> None:
        self._name = name
        self._clock = clock
        self._messages: list[_Stored] = []
        self._registry = _registry if _registry is not None else {}
        self._registry[name] = self

    @property
    def name(self) -> str:
        return self._name

    @property
    def raw_texts(self) -> list[str]:
        """What the service would store: base64 of the JSON body (for tests that look at the wire)."""
        return [base64.b64encode(m.text.encode()).decode() for m in self._messages]

    def poison(self) -> FakeStepQueue:
        name = poison_name(self._name)
        return self._registry.get(name) or FakeStepQueue(name, self._clock, self._registry)

    async def send(self, message: Mapping[str, Any], visibility_timeout: float = 0) -> None:
        text = encode_body(message)
        self._messages.append(_Stored(uuid.uuid4().hex, text, self._clock() + visibility_seconds(visibility_timeout)))

    async def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        if not 1 <= max_messages <= MAX_RECEIVE:
            raise ValueError(f"max_messages must be between 1 and {MAX_RECEIVE}")
        now = self._clock()
        taken = [m for m in self._messages if m.visible_at <= now][:max_messages]
        for stored in taken:
            stored.visible_at = now + visibility_seconds(visibility_timeout, minimum=1)
            stored.dequeue_count += 1
            stored.pop_receipt = uuid.uuid4().hex
        return [self._received(stored) for stored in taken]

    async def delete(self, message: ReceivedMessage) -> None:
        self._messages.remove(self._leased(message))

    async def update_visibility(self, message: ReceivedMessage, visibility_timeout: float) -> ReceivedMessage:
        stored = self._leased(message)
        stored.visible_at = self._clock() + visibility_seconds(visibility_timeout)
        stored.pop_receipt = uuid.uuid4().hex
        return ReceivedMessage(message.id, stored.pop_receipt, message.dequeue_count, message.body)

    async def move_to_poison(self, message: ReceivedMessage) -> None:
        await self.poison().send(message.body)
        await self.delete(message)

    def _leased(self, message: ReceivedMessage) -> _Stored:
        for stored in self._messages:
            if stored.id == message.id and stored.pop_receipt == message.pop_receipt:
                return stored
        raise PreconditionFailedError(f"message {message.id} was received again or deleted; its lease is lost")

    @staticmethod
    def _received(stored: _Stored) -> ReceivedMessage:
        assert stored.pop_receipt is not None
        body = decode_body(base64.b64encode(stored.text.encode()).decode())
        return ReceivedMessage(stored.id, stored.pop_receipt, stored.dequeue_count, body)
