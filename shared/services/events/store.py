"""What the events service keeps in the `events` table (a StateStore): seen events, reaction history, leases.

Layout:
  PartitionKey "seen-<0-3>"  RowKey sha256("<source lower>\\n<id>")  one row per processed event: `source`, `eventId`,
                             `type`, `cluster`, `outcome` (why aksvend did or did not act), `operations`, `at`,
                             `expiresAt`. The dedupe key is (topic or source, id); 4 partitions by the hash, so a
                             delivery's rows go in at most 4 entity-group transactions (`insert_batch`) and
                             stay well under a partition's 2,000 entities/s target.
  PartitionKey "history"     RowKey = cluster key: `records`, the cluster's recent `PastReaction`s as JSON (bounded:
                             the newest `MAX_HISTORY` within `MAX_HISTORY_CHARS`, keeping the latest per rule and
                             pool so cooldowns and planned counts survive the trim).
  PartitionKey "lease"       RowKey = cluster key: `holder`, `until`. Decisions about one cluster are serialized by
                             this lease (read history, decide, submit, write history), across instances.
  PartitionKey "meta"        RowKey "purge": `nextAt`, when the sweeper purges expired `seen` rows again.
  PartitionKey "raised"      RowKey = cluster key: the cluster has a pressure raise the sweeper may lower (an
                             index, so the sweeper need not read every history); set before the history that opens
                             a raise is saved, removed after the one that closes it (and by the sweeper when stale).

Table Storage has no TTL: `expiresAt` is checked on read (an expired row counts as unseen) and the sweeper
deletes expired rows (`purge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.events import PastReaction, acted, parse_time
from shared.engine.ports import PARTITION_KEY, ROW_KEY, StateStore
from shared.errors import ConflictError, PreconditionFailedError, RetryableError

SEEN_PREFIX = "seen-"
SEEN_SPREAD = 4
SEEN_PARTITIONS = tuple(f"{SEEN_PREFIX}{d}" for d in range(SEEN_SPREAD))
MAX_TRANSACTION = 100  # Table Storage: at most 100 operations per entity-group transaction
HISTORY_PARTITION = "history"
LEASE_PARTITION = "lease"
META_PARTITION = "meta"
RAISED_PARTITION = "raised"
MAX_HISTORY = 100
MAX_HISTORY_CHARS = 24_000  # a string property holds 64 KiB of UTF-16; keep well inside it
MAX_OUTCOME_CHARS = 2_000
LEASE_POLL_SECONDS = 0.02


def seen_address(key: tuple[str, str]) -> tuple[str, str]:
    """(PartitionKey, RowKey) of an event's dedupe row: ids and topics may hold characters Table keys refuse."""
    digest = hashlib.sha256(f"{key[0].lower()}\n{key[1]}".encode()).hexdigest()
    return f"{SEEN_PREFIX}{int(digest[0], 16) % SEEN_SPREAD}", digest


@dataclass(frozen=True, slots=True)
class Seen:
    outcome: str
    operations: tuple[str, ...]


class EventStore:
    def __init__(self, table: StateStore, *, dedupe_seconds: float, lease_seconds: float) -> None:
        self.table = table
        self.dedupe = timedelta(seconds=dedupe_seconds)
        self.lease = timedelta(seconds=lease_seconds)
        self._locks: dict[str, asyncio.Lock] = {}

    # ---- dedupe ------------------------------------------------------------------------------------------
    async def seen(self, key: tuple[str, str], now: datetime) -> Seen | None:
        found = await self.table.get(*seen_address(key))
        if found is None or found.entity.get("expiresAt", now) <= now:
            return None
        return Seen(found.entity.get("outcome", ""), tuple(found.entity.get("operations") or ()))

    def _seen_row(self, key: tuple[str, str], now: datetime, *, type_: str, cluster: str | None, outcome: str,
                  operations: Sequence[str]) -> dict[str, Any]:
        partition, row = seen_address(key)
        return {PARTITION_KEY: partition, ROW_KEY: row, "source": key[0][:1000], "eventId": key[1][:500],
                "type": type_[:300], "cluster": cluster, "outcome": outcome[:MAX_OUTCOME_CHARS],
                "operations": list(operations) or None, "at": now, "expiresAt": now + self.dedupe}

    async def mark(self, key: tuple[str, str], now: datetime, *, type_: str, cluster: str | None, outcome: str,
                   operations: Sequence[str] = ()) -> None:
        """Record the event as processed (last writer wins: a redelivery decides the same)."""
        await self.table.upsert(self._seen_row(key, now, type_=type_, cluster=cluster, outcome=outcome,
                                               operations=operations))

    async def mark_new(self, key: tuple[str, str], now: datetime, *, type_: str, cluster: str | None,
                       outcome: str) -> bool:
        """Record an event that needs nothing but recording; False when it was seen (and has not expired)."""
        row = self._seen_row(key, now, type_=type_, cluster=cluster, outcome=outcome, operations=())
        try:
            await self.table.insert(row)
            return True
        except ConflictError:
            found = await self.table.get(row[PARTITION_KEY], row[ROW_KEY])
            if found is not None and found.entity.get("expiresAt", now) > now:
                return False
            await self.table.upsert(row)
            return True

    async def mark_new_many(self, events: Sequence[tuple[tuple[str, str], str, str]], now: datetime,
                            concurrency: int) -> tuple[int, int]:
        """Record events that need nothing but recording, given as (key, type, outcome): (new, duplicates). One
        transaction per partition when the store can (falling back to one insert each if one was seen)."""
        rows = [self._seen_row(key, now, type_=type_, cluster=None, outcome=outcome, operations=())
                for key, type_, outcome in events]
        limit = asyncio.Semaphore(concurrency)
        fresh = 0

        async def one(i: int) -> None:
            nonlocal fresh
            key, type_, outcome = events[i]
            async with limit:
                fresh += await self.mark_new(key, now, type_=type_, cluster=None, outcome=outcome)

        async def chunk(part: list[int]) -> None:
            nonlocal fresh
            try:
                async with limit:
                    await self.table.insert_batch([rows[i] for i in part])
                fresh += len(part)
                return
            except ConflictError:  # one was seen: insert them one by one, to count the duplicates
                pass
            await asyncio.gather(*(one(i) for i in part))

        by_partition: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            by_partition.setdefault(row[PARTITION_KEY], []).append(i)
        parts = [ids[n:n + MAX_TRANSACTION] for ids in by_partition.values()
                 for n in range(0, len(ids), MAX_TRANSACTION)]
        await asyncio.gather(*(chunk(part) for part in parts))
        return fresh, len(rows) - fresh

    async def purge(self, now: datetime) -> int:
        """Delete expired dedupe rows; the number deleted."""
        deleted = 0
        for partition in SEEN_PARTITIONS:
            for row in await self.table.query_partition(partition):
                if row.entity.get("expiresAt", now) <= now:
                    with contextlib.suppress(PreconditionFailedError):
                        await self.table.delete_if_match(partition, row.entity[ROW_KEY], row.etag)
                        deleted += 1
        return deleted

    async def purge_due(self, now: datetime, every: timedelta) -> bool:
        """True (and the next time moved on) when a purge is due; one sweeper instance wins the claim."""
        found = await self.table.get(META_PARTITION, "purge")
        if found is not None and found.entity.get("nextAt", now) > now:
            return False
        row = {PARTITION_KEY: META_PARTITION, ROW_KEY: "purge", "nextAt": now + every}
        try:
            if found is None:
                await self.table.insert(row)
            else:
                await self.table.update_if_match(row, found.etag)
        except (ConflictError, PreconditionFailedError):
            return False
        return True

    # ---- reaction history ----------------------------------------------------------------------------------
    async def history(self, cluster: str) -> list[PastReaction]:
        found = await self.table.get(HISTORY_PARTITION, cluster)
        return [r for r in (_reaction(x) for x in (found.entity.get("records") or [])) if r] if found else []

    async def save_history(self, cluster: str, records: Sequence[PastReaction], now: datetime) -> None:
        kept = trim(records)
        await self.table.upsert({PARTITION_KEY: HISTORY_PARTITION, ROW_KEY: cluster,
                                 "records": [_record(r) for r in kept], "updatedAt": now})

    async def raised_clusters(self) -> set[str]:
        """The clusters marked as having a pressure raise to lower."""
        return {row.entity[ROW_KEY] for row in await self.table.query_partition(RAISED_PARTITION)}

    async def mark_raised(self, cluster: str, raised: bool) -> None:
        """Set or clear the cluster's mark in the index of raised clusters."""
        if raised:
            await self.table.upsert({PARTITION_KEY: RAISED_PARTITION, ROW_KEY: cluster})
            return
        found = await self.table.get(RAISED_PARTITION, cluster)
        if found is not None:
            with contextlib.suppress(PreconditionFailedError):
                await self.table.delete_if_match(RAISED_PARTITION, cluster, found.etag)

    # ---- per-cluster lease ---------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def locked(self, cluster: str, clock: Any, wait_seconds: float) -> AsyncIterator[None]:
        """Hold the cluster's lease (in-process lock first, then the table row). Waits at most `wait_seconds`
        for another holder, then raises RetryableError (the caller answers 503; Event Grid delivers again)."""
        lock = self._locks.setdefault(cluster, asyncio.Lock())
        async with lock:
            etag = await self._acquire(cluster, clock, wait_seconds)
            try:
                yield
            finally:
                with contextlib.suppress(PreconditionFailedError):
                    await self.table.delete_if_match(LEASE_PARTITION, cluster, etag)

    async def _acquire(self, cluster: str, clock: Any, wait_seconds: float) -> str:
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + wait_seconds
        while True:
            now = clock.now()
            row = {PARTITION_KEY: LEASE_PARTITION, ROW_KEY: cluster, "holder": holder, "until": now + self.lease}
            try:
                return await self.table.insert(row)
            except ConflictError:
                found = await self.table.get(LEASE_PARTITION, cluster)
                if found is not None and found.entity.get("until", now) <= now:
                    with contextlib.suppress(PreconditionFailedError):
                        return await self.table.update_if_match(row, found.etag)
            if time.monotonic() > deadline:
                raise RetryableError(f"cluster {cluster}: another instance is reacting to its events")
            await asyncio.sleep(LEASE_POLL_SECONDS)  # polling the lease row against a deadline


def trim(records: Sequence[PastReaction]) -> list[PastReaction]:
    """The newest records that fit, plus the latest of each (rule, pool): the policy's cooldowns and planned
    counts read those. Records that acted come before the others (newest first), so that a flood of events that
    decide nothing cannot push out what the token buckets are replayed from (shared/domain/events/bounds.py)."""
    ordered = sorted(enumerate(records), key=lambda pair: (pair[1].at, pair[0]))
    latest: dict[tuple[str, str | None], int] = {}
    for i, r in ordered:
        latest[(r.rule, r.pool)] = i
    keep = set(latest.values())
    size = sum(len(json.dumps(_record(records[i]))) for i in keep)
    newest = list(reversed(ordered))
    for i, r in [pair for pair in newest if acted(pair[1])] + [pair for pair in newest if not acted(pair[1])]:
        if len(keep) >= MAX_HISTORY:
            break
        if i in keep:
            continue
        size += len(json.dumps(_record(r)))
        if size > MAX_HISTORY_CHARS:
            break
        keep.add(i)
    return [r for i, r in ordered if i in keep]


def _record(r: PastReaction) -> dict[str, Any]:
    out: dict[str, Any] = {"at": r.at.isoformat(), "rule": r.rule}
    if r.event_key is not None:
        out["key"] = list(r.event_key)
    for name in ("pool", "target", "node", "version", "base"):
        value = getattr(r, name)
        if value is not None:
            out[name] = value
    return out


def _reaction(x: Any) -> PastReaction | None:
    if not isinstance(x, dict) or not isinstance(x.get("at"), str):
        return None
    at = parse_time(x["at"])
    key, rule = x.get("key"), x.get("rule")
    if at is None or not isinstance(rule, str):
        return None
    return PastReaction(at, (key[0], key[1]) if isinstance(key, list) and len(key) == 2 else None, rule,
                        x.get("pool"), x.get("target"), x.get("node"), x.get("version"), x.get("base"))
