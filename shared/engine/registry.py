"""The cluster registry and each cluster's FIFO of operations.

AKS refuses a second mutating operation on a cluster (409 OperationNotAllowed), so aksvend runs the operations
of one cluster one after another: each cluster row holds a queue of operation ids, and only the head may run.
Every change is an etag-conditioned read-modify-write retried on conflict (after a short random pause that grows
with each lost round, so that many writers of one row spread out instead of colliding again in step), so
concurrent submits and completions never lose an entry. A request to scale a cluster that is still being created
simply waits in the queue: it does not fail.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from shared.engine.ports import StateStore
from shared.engine.records import CLUSTER_PARTITION, ClusterRecord, request_hash
from shared.errors import ConflictError, PreconditionFailedError

MAX_CONFLICT_RETRIES = 50
CONFLICT_PAUSE_SECONDS = 0.01  # the first pause's ceiling after a lost write; doubled each round up to the cap
MAX_CONFLICT_PAUSE_SECONDS = 0.25


class ClusterRegistry:
    """The clusters aksvend manages, one row each, and each cluster's FIFO of operations.

    `generation` counts the registrations and state changes this instance made, so that a cache of the
    registry in this process (the events intake's index) knows at once when it is stale; what other instances
    change it learns when its time to live runs out."""

    def __init__(self, table: StateStore) -> None:
        self.table = table
        self.generation = 0
        self.pause: Callable[[int], Awaitable[None]] = jittered_pause  # before round n >= 1 of a change


    async def get(self, key: str) -> ClusterRecord | None:
        found = await self.table.get(CLUSTER_PARTITION, key)
        return ClusterRecord.from_entity(found.entity, found.etag) if found else None

    async def all(self) -> list[ClusterRecord]:
        rows = await self.table.query_partition(CLUSTER_PARTITION)
        return [ClusterRecord.from_entity(v.entity, v.etag) for v in rows]

    async def page(self, after: str | None, state: str | None, limit: int) -> list[ClusterRecord]:
        """At most `limit` records after key `after` in key order, of `state` if given: the store filters them, so
        a page of the listing reads about a page (shared/services/listing.py)."""
        rows = await self.table.query_range(CLUSTER_PARTITION, after, {"state": state} if state else {}, limit)
        return [ClusterRecord.from_entity(v.entity, v.etag) for v in rows]

    async def create_or_get(self, record: ClusterRecord) -> ClusterRecord:
        try:
            etag = await self.table.insert(record.to_entity())
            self.generation += 1
            return record.with_(etag=etag)
        except ConflictError:
            existing = await self.get(record.key)
            assert existing is not None  # inserted by someone else a moment ago; clusters are never removed
            return existing

    async def change(self, key: str, edit: Callable[[ClusterRecord], ClusterRecord | None]) -> ClusterRecord | None:
        """Apply `edit` to the current record until the write wins (at most MAX_CONFLICT_RETRIES rounds, each
        reading again; PreconditionFailedError after). `edit` returning None means no change; what it raises is
        raised."""
        for attempt in range(MAX_CONFLICT_RETRIES):
            if attempt:
                await self.pause(attempt)
            current = await self.get(key)
            if current is None:
                return None
            changed = edit(current)
            if changed is None:
                return current
            try:
                etag = await self.table.update_if_match(changed.to_entity(), current.etag or "*")
                self.generation += changed.state != current.state
                return changed.with_(etag=etag)
            except PreconditionFailedError:
                continue
        raise PreconditionFailedError(f"cluster {key}: too many concurrent changes")

    async def enqueue(self, key: str, op_id: str, now: datetime) -> ClusterRecord | None:
        def add(c: ClusterRecord) -> ClusterRecord | None:
            return None if op_id in c.queue else c.with_(queue=(*c.queue, op_id), updated_at=now)

        return await self.change(key, add)

    async def dequeue(self, key: str, op_id: str, now: datetime, *, state: str | None = None,
                      applied: dict | None = None, dropped: Mapping[str, Any] | None = None) -> ClusterRecord | None:
        """Remove a finished operation, record the cluster's new state, and return the record (whose queue head,
        if any, may start now). `dropped`: the operation was refused unsent and leaves no trace: the desired request
        becomes `dropped` again (as its last operation left it) and that operation stays the last one."""

        def remove(c: ClusterRecord) -> ClusterRecord | None:
            if op_id not in c.queue:
                return None
            changes: dict = {"queue": tuple(o for o in c.queue if o != op_id), "updated_at": now}
            if dropped is not None:
                changes.update(request=dict(dropped), request_hash=request_hash(dropped))
            else:
                changes["last_operation"] = op_id
            if state:
                changes["state"] = state
            if applied is not None:
                changes["applied"] = applied
            return c.with_(**changes)

        return await self.change(key, remove)


async def jittered_pause(attempt: int) -> None:
    """After `attempt` lost rounds: a random pause up to a ceiling that doubles each round ("full jitter"), so
    that writers of one row spread out instead of colliding again in step."""
    ceiling = min(MAX_CONFLICT_PAUSE_SECONDS, CONFLICT_PAUSE_SECONDS * 2 ** min(attempt, 5))
    await asyncio.sleep(random.uniform(0, ceiling))
