"""What the events service keeps in the `events` table (a StateStore): seen events, reaction history, leases.

Layout:
  PartitionKey "seen-<0-3>"  RowKey sha256("<source lower>\\n<id>")  one row per processed event of a managed cluster:
                             `source`, `eventId`, `type`, `cluster`, `outcome` (why aksvend did or did not act),
                             `operations`, `at`, `expiresAt`. The dedupe key is (topic or source, id) within the
                             cluster; the partition is chosen by the cluster's key (4 of them, to spread clusters
                             under a partition's 2,000 entities/s target), so that a delivery's rows about one
                             cluster are looked up with a few queries and written in one transaction per 100.
  PartitionKey "history"     RowKey = cluster key: `records`, the cluster's recent `PastReaction`s as JSON (bounded:
                             the newest `MAX_HISTORY` within `MAX_HISTORY_CHARS`, keeping the latest per rule and
                             pool so cooldowns and planned counts survive the trim).
  PartitionKey "lease"       RowKey = cluster key: `holder`, `until`. Decisions about one cluster are serialized by
                             this lease (read history, decide, submit, write history), across instances.
  PartitionKey "unmanaged"   RowKey "<time>-<random>"  one summary row per delivery for its events that aksvend does not
                             act on (clusters it does not manage, kinds it does not know): `count`, the counts by
                             `types` and by `reasons` (the first `MAX_SUMMARY_KEYS` of each), `samples` (a few
                             event ids), `at`, `expiresAt`. Nothing is decided on them, so they need no dedupe
                             row each: a 5,000-event delivery of strangers' events writes one row, not 5,000.
  PartitionKey "meta"        RowKey "purge": `nextAt`, when the sweeper purges expired `seen` rows again.
  PartitionKey "raised"      RowKey = cluster key: the cluster has a pressure raise the sweeper may lower (an
                             index, so the sweeper need not read every history); set before the history that opens
                             a raise is saved, removed after the one that closes it (and by the sweeper when stale).

Table Storage has no TTL: `expiresAt` is checked on read (an expired row counts as unseen) and the sweeper
deletes expired rows (`purge`), a page at a time: the store filters on `expiresAt`, so a purge reads only rows it
deletes, at most `PURGE_PAGE` per sweep; a full page makes the next sweep purge again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.events import PastReaction, acted, history_key, parse_time
from shared.engine.ports import PARTITION_KEY, ROW_KEY, StateStore
from shared.errors import ConflictError, PreconditionFailedError, RetryableError

SEEN_PREFIX = "seen-"
SEEN_SPREAD = 4
SEEN_PARTITIONS = tuple(f"{SEEN_PREFIX}{d}" for d in range(SEEN_SPREAD))
UNMANAGED_PARTITION = "unmanaged"
MAX_SUMMARY_KEYS = 20
MAX_SUMMARY_SAMPLES = 10
MAX_TRANSACTION = 100  # Table Storage: at most 100 operations per entity-group transaction
PURGE_PAGE = 1000
PURGE_CONCURRENCY = 16
HISTORY_PARTITION = "history"
LEASE_PARTITION = "lease"
META_PARTITION = "meta"
RAISED_PARTITION = "raised"
MAX_HISTORY = 100
MAX_HISTORY_CHARS = 24_000  # a string property holds 64 KiB of UTF-16; keep well inside it
MAX_OUTCOME_CHARS = 2_000
LEASE_POLL_SECONDS = 0.02


def seen_address(cluster: str, key: tuple[str, str]) -> tuple[str, str]:
    """(PartitionKey, RowKey) of the dedupe row of an event about `cluster`: the partition by the cluster, so that
    a delivery's rows for one cluster go in one transaction; the row by the event (ids and topics may hold
    characters Table keys refuse)."""
    spread = hashlib.sha256(cluster.encode()).digest()[0] % SEEN_SPREAD
    return f"{SEEN_PREFIX}{spread}", hashlib.sha256(f"{key[0].lower()}\n{key[1]}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Mark:
    """What the dedupe row of one processed event says."""

    key: tuple[str, str]
    type_: str
    cluster: str | None
    outcome: str
    operations: tuple[str, ...] = ()


class EventStore:
    def __init__(self, table: StateStore, *, dedupe_seconds: float, lease_seconds: float) -> None:
        self.table = table
        self.dedupe = timedelta(seconds=dedupe_seconds)
        self.lease = timedelta(seconds=lease_seconds)
        self._locks: dict[str, asyncio.Lock] = {}

    # ---- dedupe ------------------------------------------------------------------------------------------
    async def seen_many(self, cluster: str, keys: Sequence[tuple[str, str]], now: datetime) -> set[tuple[str, str]]:
        """Which of the keys of events about `cluster` were seen (and have not expired): a few queries, not a
        read per key."""
        wanted = {seen_address(cluster, key): key for key in keys}
        partition = seen_address(cluster, ("", ""))[0]
        found = await self.table.get_many(partition, [row for _, row in wanted])
        return {wanted[(partition, row)] for row, v in found.items() if v.entity.get("expiresAt", now) > now}

    async def mark_many(self, cluster: str, marks: Sequence[Mark], now: datetime) -> None:
        """Record processed events about `cluster` (last writer wins), one transaction per 100 rows."""
        rows = [self._seen_row(cluster, m, now) for m in marks]
        await asyncio.gather(*(self.table.upsert_batch(rows[n:n + MAX_TRANSACTION])
                               for n in range(0, len(rows), MAX_TRANSACTION)))

    def _seen_row(self, cluster: str, m: Mark, now: datetime) -> dict[str, Any]:
        partition, row = seen_address(cluster, m.key)
        return {PARTITION_KEY: partition, ROW_KEY: row, "source": m.key[0][:1000], "eventId": m.key[1][:500],
                "type": m.type_[:300], "cluster": m.cluster, "outcome": m.outcome[:MAX_OUTCOME_CHARS],
                "operations": list(m.operations) or None, "at": now, "expiresAt": now + self.dedupe}

    async def summarize(self, events: Sequence[tuple[tuple[str, str], str, str]], now: datetime) -> None:
        """One row for events that need nothing but a record, given as (key, type, why)."""
        if not events:
            return
        types = Counter(type_[:200] for _, type_, _ in events)
        reasons = Counter(why[:300] for _, _, why in events)
        await self.table.insert({
            PARTITION_KEY: UNMANAGED_PARTITION, ROW_KEY: f"{now.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:12]}",
            "count": len(events), "types": dict(types.most_common(MAX_SUMMARY_KEYS)),
            "reasons": dict(reasons.most_common(MAX_SUMMARY_KEYS)),
            "samples": [[key[0][:300], key[1][:200]] for key, _, _ in events[:MAX_SUMMARY_SAMPLES]],
            "at": now, "expiresAt": now + self.dedupe})

    async def purge(self, now: datetime, page: int = PURGE_PAGE) -> tuple[int, bool]:
        """Delete up to `page` expired dedupe and summary rows: (the number deleted, whether more may be left)."""
        deleted, limit = 0, asyncio.Semaphore(PURGE_CONCURRENCY)

        async def delete(partition: str, row: Any) -> None:
            nonlocal deleted
            async with limit:
                with contextlib.suppress(PreconditionFailedError):
                    await self.table.delete_if_match(partition, row.entity[ROW_KEY], row.etag)
                    deleted += 1

        left = page
        for partition in (*SEEN_PARTITIONS, UNMANAGED_PARTITION):
            rows = await self.table.query_expired(partition, "expiresAt", now, left)
            await asyncio.gather(*(delete(partition, row) for row in rows))
            left -= len(rows)
            if left <= 0:
                return deleted, True
        return deleted, False

    async def purge_again(self, now: datetime) -> None:
        """Make the purge due at the next sweep (a page was full)."""
        await self.table.upsert({PARTITION_KEY: META_PARTITION, ROW_KEY: "purge", "nextAt": now})

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
        out["key"] = list(history_key(r.event_key))
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
