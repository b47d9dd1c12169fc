"""In-memory fakes of the engine's ports (storage, queue, ARM, secrets, the clock), for unit tests of services,
and `drain`, which delivers a fake queue's messages as a worker would.

They subclass the ports and reuse the adapters' codecs (`encode_entity`, `encode_body`), so they refuse what
Azure refuses and hand out copies, never references to stored state. tests/integration/test_storage_contract.py
runs the same tests against these and the Azure adapters.

Time is injected: `FakeClock` is the one test clock (a `shared.engine.ports.Clock`); give one to
`FakeStepQueue` to make visibility delays pass instantly with `advance`.
"""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.adapters.queue import MAX_RECEIVE, decode_body, encode_body, poison_name, visibility_seconds
from shared.adapters.store import decode_entity, encode_entity
from shared.engine import Engine
from shared.engine.ports import (
    PARTITION_KEY,
    RESOURCE_EXISTS,
    ROW_KEY,
    ArmResult,
    Clock,
    PollResult,
    ReceivedMessage,
    StateStore,
    StepQueue,
    Versioned,
)
from shared.engine.records import OPERATION_ROW
from shared.errors import ConflictError, FatalError, PreconditionFailedError, RetryableError

__all__ = ["FakeArm", "FakeClock", "FakeSecrets", "FakeStateStore", "FakeStepQueue", "drain", "state"]

T0 = datetime(2026, 11, 27, tzinfo=UTC)


class FakeStateStore(StateStore):
    """A StateStore in a dict; etags are `W/"<n>"` from a counter."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self._etags = itertools.count(1)
        self.range_reads = 0  # the rows `query_range` answered: what a listing read

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

    async def upsert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        flats = [encode_entity(e) for e in entities]
        if flats and (len(flats) > 100 or len({f[PARTITION_KEY] for f in flats}) != 1):
            raise ValueError("a batch holds 1-100 entities of one partition")
        for flat in flats:
            self._write(flat)

    async def get_many(self, partition_key: str, row_keys: Sequence[str]) -> dict[str, Versioned]:
        found = {}
        for key in row_keys:
            if (hit := await self.get(partition_key, key)) is not None:
                found[key] = hit
        return found

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

    async def query_expired(self, partition_key: str, property_name: str, before: datetime,
                            limit: int) -> list[Versioned]:
        rows = [v for v in await self.query_partition(partition_key)
                if isinstance(v.entity.get(property_name), datetime) and v.entity[property_name] <= before]
        return rows[:limit]

    async def query_range(self, partition_key: str, after: str | None, equal: Mapping[str, str],
                          limit: int) -> list[Versioned]:
        """As the adapter: row keys after `after`, equal properties, at most `limit`; `range_reads` counts rows."""
        rows = [v for v in await self.query_partition(partition_key)
                if (after is None or v.entity[ROW_KEY] > after)
                and all(v.entity.get(k) == value for k, value in equal.items())][:limit]
        self.range_reads += len(rows)
        return rows


class FakeClock(Clock):
    """The one test clock: at `at`, moving only by `advance`; or, made with `FakeClock.real()`, real time plus
    what `advance` added (next to real services, whose times must move on, while a test skips a backoff)."""

    def __init__(self, at: datetime | None = T0) -> None:
        self._at = at
        self._offset = timedelta()

    @classmethod
    def real(cls) -> FakeClock:
        return cls(None)

    def now(self) -> datetime:
        return (self._at if self._at is not None else datetime.now(UTC)) + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += timedelta(seconds=seconds)


@dataclass
class _Stored:
    id: str
    text: str
    visible_at: datetime
    dequeue_count: int = 0
    pop_receipt: str | None = None


class FakeStepQueue(StepQueue):
    """A StepQueue in a list, with visibility by an injected clock; `poison()` shares the same registry."""

    def __init__(self, name: str, clock: Clock | None = None,
                 _registry: dict[str, FakeStepQueue] | None = None) -> None:
        self._name = name
        self._clock = clock or FakeClock.real()
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
        self._messages.append(_Stored(uuid.uuid4().hex, text, self._in(visibility_seconds(visibility_timeout))))

    async def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        if not 1 <= max_messages <= MAX_RECEIVE:
            raise ValueError(f"max_messages must be between 1 and {MAX_RECEIVE}")
        now = self._clock.now()
        taken = [m for m in self._messages if m.visible_at <= now][:max_messages]
        for stored in taken:
            stored.visible_at = now + timedelta(seconds=visibility_seconds(visibility_timeout, minimum=1))
            stored.dequeue_count += 1
            stored.pop_receipt = uuid.uuid4().hex
        return [self._received(stored) for stored in taken]

    async def delete(self, message: ReceivedMessage) -> None:
        self._messages.remove(self._leased(message))

    async def update_visibility(self, message: ReceivedMessage, visibility_timeout: float) -> ReceivedMessage:
        stored = self._leased(message)
        stored.visible_at = self._in(visibility_seconds(visibility_timeout))
        stored.pop_receipt = uuid.uuid4().hex
        return ReceivedMessage(message.id, stored.pop_receipt, message.dequeue_count, message.body)

    async def move_to_poison(self, message: ReceivedMessage) -> None:
        await self.poison().send(message.body)
        await self.delete(message)

    def _in(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

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


class FakeArm:
    """ARM that finishes every PUT synchronously, unless told to answer an error for a resource once."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.resources: dict[str, dict] = {}
        self.errors: dict[str, list[Exception]] = {}
        self.puts: list[str] = []
        self.patches: list[tuple[str, Mapping[str, Any], str | None]] = []
        self.conditional_refused: list[str] = []  # the `only_new` PUTs refused because the resource existed
        self.posts: list[tuple[str, dict[str, str]]] = []
        self.actions: dict[str, Mapping[str, Any]] = {}
        self.clock = clock  # the time of `systemData.lastModifiedAt` (None: real time), as ARM writes it
        self.quota: dict[str, tuple[int, int]] | None = None  # what `usages` answers (None: no answer)

    async def put(self, resource_type: str, resource_id: str, api_version: str, body: Mapping[str, Any],
                  only_new: bool = False) -> ArmResult:
        self.puts.append(resource_id)
        if self.errors.get(resource_id):
            raise self.errors[resource_id].pop(0)
        if only_new and resource_id.lower() in self.resources:  # If-None-Match: * on what exists: 412, unchanged
            self.conditional_refused.append(resource_id)
            raise FatalError(RESOURCE_EXISTS, f"{resource_id} exists")
        now = self.clock.now() if self.clock is not None else datetime.now(UTC)
        resource = {**body, "id": resource_id, "properties": {**body.get("properties", {}),
                                                             "provisioningState": "Succeeded",
                                                             "principalId": "p-1"},
                    "systemData": {"lastModifiedAt": now.isoformat()}}
        self.resources[resource_id.lower()] = resource
        return ArmResult(200, resource, None, None)

    async def delete(self, resource_type: str, resource_id: str, api_version: str) -> ArmResult:
        if self.errors.get(resource_id):
            raise self.errors[resource_id].pop(0)
        if self._links(resource_id):  # ARM keeps a private DNS zone that has VNet links (409, as the emulator)
            raise RetryableError("CannotDeleteResource", "Cannot delete resource while nested resources exist")
        self.resources.pop(resource_id.lower(), None)
        return ArmResult(204, None, None, None)

    def _links(self, resource_id: str) -> list[str]:
        """The VNet links of a private DNS zone (none for another resource)."""
        zone = resource_id.lower()
        if "/privatednszones/" not in zone or "/virtualnetworklinks/" in zone:
            return []
        return [k for k in self.resources if k.startswith(f"{zone}/virtualnetworklinks/")]

    async def patch(self, resource_type: str, resource_id: str, api_version: str, body: Mapping[str, Any],
                    etag: str | None = None) -> ArmResult:
        """Merges `body`'s properties into the resource (one level, as ARM's PATCH of a property object does)."""
        self.patches.append((resource_id, body, etag))
        if self.errors.get(resource_id):
            raise self.errors[resource_id].pop(0)
        resource = self.resources[resource_id.lower()]
        resource["properties"] = {**resource.get("properties", {}), **body.get("properties", {})}
        return ArmResult(200, resource, None, None)

    async def get(self, resource_type: str, resource_id: str, api_version: str) -> Mapping[str, Any] | None:
        found = self.resources.get(resource_id.lower())
        if found is None or "/privatednszones/" not in resource_id.lower():
            return found
        return {**found, "properties": {**found.get("properties", {}),  # a zone's count, as ARM renders it
                                        **({"numberOfVirtualNetworkLinks": len(self._links(resource_id))}
                                           if "/virtualnetworklinks/" not in resource_id.lower() else {})}}

    async def poll(self, resource_type: str, poll_url: str) -> PollResult:
        return PollResult("Succeeded")

    async def post(self, resource_type: str, resource_id: str, api_version: str,
                   params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        """A POST action: `actions[<lower-cased id>]` (set by a test), None when none is set."""
        self.posts.append((resource_id, dict(params or {})))
        if self.errors.get(resource_id):
            raise self.errors[resource_id].pop(0)
        return self.actions.get(resource_id.lower())

    async def usages(self, subscription_id: str, location: str) -> Mapping[str, Any] | None:
        """The quotas set in `self.quota` (`{family: (limit, used)}`); None (no answer) when none is set."""
        if self.quota is None:
            return None
        return {"value": [{"name": {"value": family}, "limit": limit, "currentValue": used}
                          for family, (limit, used) in self.quota.items()]}


class FakeSecrets:
    async def get_or_create(self, scope: str, name: str) -> str:
        return "generated"


async def drain(engine: Engine, queue: StepQueue, limit: int = 500) -> None:
    """Deliver every visible message once, as a worker would, until the queue is empty."""
    for _ in range(limit):
        messages = await queue.receive(32, 30)
        if not messages:
            return
        for m in messages:
            await engine.handle(m.body)
            await queue.delete(m)
    raise AssertionError("the queue never emptied")


async def state(engine: Engine, op_id: str) -> str:
    found = await engine.ops.get(op_id, OPERATION_ROW)
    assert found is not None
    return str(found.entity["state"])


def engine_over_fakes(arm: FakeArm | None = None, *, timed_arm: bool = False,
                      ) -> tuple[Engine, FakeStepQueue, FakeArm, FakeClock]:
    """An engine over the fakes as the engine's unit tests use it: one clock for the queue and the engine (a delayed
    message becomes visible as time passes), polls every second, 10 s leases, a seeded jitter. `arm`: a fake ARM
    of the test's own; `timed_arm`: the fake ARM on the same clock."""
    import random

    from shared.engine import EngineSettings

    clock = FakeClock()
    queue = FakeStepQueue("steps", clock=clock)
    fake = arm or (FakeArm(clock=clock) if timed_arm else FakeArm())
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=fake, clock=clock,
                    secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10),
                    rng=random.Random(1))
    return engine, queue, fake, clock


async def created_over_fakes(raw: Mapping[str, Any], subscription_id: str, caller: Any) -> tuple[Any, Any, Any, Any]:
    """An engine over the fakes (queue, ARM, tables, secrets) with `raw` created through `Clusters` by `caller` and
    its steps drained: (engine, queue, fake ARM, Clusters)."""
    import random

    from shared.domain.policy import allow_all
    from shared.engine import Engine, EngineSettings
    from shared.services.clusters import Clusters

    clock = FakeClock()
    queue, fake = FakeStepQueue("steps", clock=clock), FakeArm()
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=fake, clock=clock,
                    secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1), rng=random.Random(1))
    clusters = Clusters(engine, allow_all(), subscription_id)
    await clusters.create(dict(raw), caller)
    await drain(engine, queue)
    return engine, queue, fake, clusters
