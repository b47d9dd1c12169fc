"""The ports the provisioning engine depends on: a state store, a step queue, ARM, secrets and a clock.

Services see only these Protocols; `shared.adapters.store` / `shared.adapters.queue` implement them on Azure
Table Storage and Azure Storage queues, `tests.fakes` in memory. `tests/integration/test_storage_contract.py`
runs one set of tests against both, so the fakes cannot drift from what Azure does.

StateStore: one table. An entity is a dict with the string keys `PartitionKey` and `RowKey` (the engine uses
one partition per operation) plus properties whose values are str, int, float, bool, timezone-aware datetime,
or lists/dicts of JSON values. A property set to None is not stored and reads back absent (use `.get`).
Every write returns the new etag; conditional writes take the etag read earlier, so two workers can never
both advance the same step: the loser gets `PreconditionFailedError` and must re-read.

StepQueue: at-least-once delivery of dict messages. A received message is invisible for its visibility
timeout; delete it when done, or let it reappear (its dequeue count grows). `<name>-poison` holds messages
that failed too often, as the Functions host does after `maxDequeueCount`.

Errors (see `shared.errors`): `ConflictError`, `PreconditionFailedError`, `PayloadTooLargeError`, and for
transient or unexpected storage failures `RetryableError` / `FatalError`.

ArmPort speaks ARM's long-running-operation protocol at the level the engine reasons about: send a PUT or
DELETE once, then read the operation's status once per invocation. It raises `shared.errors.RetryableError`
or `FatalError` (mapped at the adapter edge), never SDK exceptions.

Clock is the one clock of the product: everything that needs the time (the engine, the outbox, ticket intake,
rejected messages) takes a `Clock`, so that a test moves all of them with one `tests.fakes.FakeClock`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

__all__ = [
    "MAX_VISIBILITY_DELAY_SECONDS",
    "PARTITION_KEY",
    "ROW_KEY",
    "ArmPort",
    "ArmResult",
    "Clock",
    "Entity",
    "LroStatus",
    "PollResult",
    "ReceivedMessage",
    "SecretStore",
    "StateStore",
    "StepQueue",
    "Versioned",
]

PARTITION_KEY = "PartitionKey"
ROW_KEY = "RowKey"
# Azure Storage queues refuse a visibility timeout beyond 7 days; longer delays are capped to it.
MAX_VISIBILITY_DELAY_SECONDS = 7 * 24 * 3600

Entity = dict[str, Any]


class Versioned(NamedTuple):
    """An entity as read, with the etag that a conditional write must present."""

    entity: Entity
    etag: str


MAX_KEYS_PER_QUERY = 14  # row keys in one `get_many` query: Table Storage allows 15 comparisons in a filter


class StateStore(Protocol):
    """One table of entities addressed by (partition key, row key), with optimistic concurrency by etag."""

    async def get(self, partition_key: str, row_key: str) -> Versioned | None:
        """The entity and its etag, or None if there is none."""
        ...

    async def insert(self, entity: Mapping[str, Any]) -> str:
        """Create the entity; return its etag. Raises ConflictError if it already exists."""
        ...

    async def insert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        """Create up to 100 entities of one partition, all or none (an entity-group transaction).
        Raises ConflictError, and creates nothing, if any of them exists."""
        ...

    async def upsert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        """Create or replace up to 100 entities of one partition, all or none (an entity-group transaction)."""
        ...

    async def get_many(self, partition_key: str, row_keys: Sequence[str]) -> dict[str, Versioned]:
        """The entities of the partition with these row keys that exist, by row key: a few queries (each names up
        to `MAX_KEYS_PER_QUERY` row keys), not one request per key."""
        ...

    async def update_if_match(self, entity: Mapping[str, Any], etag: str) -> str:
        """Replace the whole entity if it still has `etag`; return the new etag.

        Raises PreconditionFailedError if it was changed or deleted since it was read.
        """
        ...

    async def upsert(self, entity: Mapping[str, Any]) -> str:
        """Create or replace the entity unconditionally (last writer wins); return its etag."""
        ...

    async def delete_if_match(self, partition_key: str, row_key: str, etag: str) -> None:
        """Delete the entity if it still has `etag`; nothing if it is already gone.

        Raises PreconditionFailedError if it was changed since it was read.
        """
        ...

    async def query_partition(self, partition_key: str) -> list[Versioned]:
        """Every entity of the partition, ordered by row key."""
        ...

    async def query_expired(self, partition_key: str, property_name: str, before: datetime,
                            limit: int) -> list[Versioned]:
        """At most `limit` entities of the partition whose datetime property `property_name` is at or before
        `before`, filtered by the store (one page at a time), so that a purge never reads a whole partition."""
        ...

    async def query_range(self, partition_key: str, after: str | None, equal: Mapping[str, str],
                          limit: int) -> list[Versioned]:
        """At most `limit` entities of the partition whose row key is after `after` (None: from the first), in
        row-key order, whose string properties equal those of `equal`: filtered by the store, so that a page of a
        listing reads about a page, never the whole partition."""
        ...


@dataclass(frozen=True)
class ReceivedMessage:
    """A message taken from a queue. `pop_receipt` proves the current lease; it changes on every update."""

    id: str
    pop_receipt: str
    dequeue_count: int
    body: dict[str, Any]


class StepQueue(Protocol):
    """A queue of dict messages with visibility timeouts, and its poison queue."""

    @property
    def name(self) -> str: ...

    async def send(self, message: Mapping[str, Any], visibility_timeout: float = 0) -> None:
        """Enqueue `message`, invisible for `visibility_timeout` seconds (rounded up, capped at 7 days)."""
        ...

    async def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        """Up to `max_messages` (1-32) visible messages, each hidden from others for `visibility_timeout` s."""
        ...

    async def delete(self, message: ReceivedMessage) -> None:
        """Remove a processed message. Raises PreconditionFailedError if its lease was lost."""
        ...

    async def update_visibility(self, message: ReceivedMessage, visibility_timeout: float) -> ReceivedMessage:
        """Hide the message for `visibility_timeout` more seconds from now (0: visible again at once).

        Returns the message with its new pop receipt. Raises PreconditionFailedError if its lease was lost.
        """
        ...

    async def move_to_poison(self, message: ReceivedMessage) -> None:
        """Send the body unchanged to `<name>-poison`, then delete the message here."""
        ...

    def poison(self) -> StepQueue:
        """The `<name>-poison` queue, to read what was moved there."""
        ...


LroStatus = Literal["InProgress", "Succeeded", "Failed", "Canceled"]


@dataclass(frozen=True, slots=True)
class ArmResult:
    """The answer to a PUT or DELETE. `poll_url` is set while the operation runs on (Azure-AsyncOperation,
    else Location); `resource` is the body ARM returned, if any."""

    status: int
    resource: Mapping[str, Any] | None
    poll_url: str | None
    retry_after: float | None

    @property
    def provisioning_state(self) -> str | None:
        props = (self.resource or {}).get("properties")
        return props.get("provisioningState") if isinstance(props, Mapping) else None


@dataclass(frozen=True, slots=True)
class PollResult:
    status: LroStatus
    retry_after: float | None = None
    error_code: str | None = None
    error_message: str = ""


RESOURCE_EXISTS = "ResourceExists"  # the FatalError code of a PUT with `only_new` whose resource ARM has already


class ArmPort(Protocol):
    async def put(self, resource_type: str, resource_id: str, api_version: str,
                  body: Mapping[str, Any], only_new: bool = False) -> ArmResult:
        """`only_new`: create it only if ARM has no such resource (`If-None-Match: *`); if it has one, nothing is
        changed and `FatalError(RESOURCE_EXISTS)` is raised."""
        ...

    async def delete(self, resource_type: str, resource_id: str, api_version: str) -> ArmResult: ...

    async def patch(self, resource_type: str, resource_id: str, api_version: str, body: Mapping[str, Any],
                    etag: str | None = None) -> ArmResult:
        """A partial update (only the fields of `body`); with `etag`, sent `If-Match` so that ARM refuses it (412,
        retried) when the resource changed since it was read (shared/engine/target_rules.py)."""
        ...

    async def get(self, resource_type: str, resource_id: str, api_version: str) -> Mapping[str, Any] | None:
        """The resource, or None when it does not exist."""
        ...

    async def poll(self, resource_type: str, poll_url: str) -> PollResult: ...

    async def usages(self, subscription_id: str, location: str) -> Mapping[str, Any] | None:
        """`GET .../providers/Microsoft.Compute/locations/{location}/usages`: the region's vCPU quotas and their use
        (`{"value": [{"name": {"value"}, "limit", "currentValue"}]}`); None when ARM has no answer for it."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""
        ...


class SecretStore(Protocol):
    async def get_or_create(self, scope: str, name: str) -> str:
        """The secret `name` of `scope` (an operation's cluster), generated on first use and kept."""
        ...
