"""The outbox: lifecycle events recorded in Table Storage with the change that caused them, published later.

`Outbox.publish(events)` (the `EventPublisher` port) only records; `Outbox.drain(publisher)`, run by the
sweeper, sends what is pending to the real publisher (Event Grid). Why, and how:

* Never lost: a transition records its events in the same request that makes it, so an Event Grid outage
  (or a crash right after the transition) cannot drop them. A failed send leaves them pending, with the
  attempt count, the error code and the time of the next attempt (exponential backoff, `backoff_delay`),
  for as long as it takes.
* Never duplicated by us: the row key is the event's deterministic id, so recording the same event twice
  (a retried transition, a redelivered webhook) keeps one row. Publishing is at-least-once: a crash between
  the send and the "sent" mark sends that batch again, with the same ids, which subscribers dedupe on.
* In order: pending events are sent oldest first (recording time, then position in the recording call).
  A batch that fails stops the drain, so that a later event never overtakes an earlier one; an event that
  is still backing off also holds back the ones after it.
* One drainer at a time per event: before sending, the drainer claims each event with an etag-conditional
  write (state `sending`, lease until `now + lease`); a second drainer's claim fails and it stops. A claim
  whose drainer died expires and is taken over. Marking sent is conditional on the claim's etag.
* Poison: an event that Event Grid refuses for good (`FatalError` for that event alone, e.g. too large) is
  marked `dead` and kept, with the error, for an operator; it no longer blocks the others. A batch refused
  as a whole is retried one event at a time to find the culprit.
* Sent rows stay, marked `sent` with their time, until `purge(older_than)` removes them (the sweeper calls it
  with a retention of days), so the partition stays small.

Layout: partition `outbox`, one row per event; properties `state`, `recordedAt`, `sequence`, `attempts`,
`nextAttemptAt`, `leaseUntil`, `lastError`, `sentAt`, `event` (the CloudEvent as JSON).
"""

from __future__ import annotations

import logging
import random as random_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.domain.lifecycle import LifecycleEvent
from shared.engine.ports import PARTITION_KEY, ROW_KEY, Clock, StateStore, Versioned
from shared.errors import ConflictError, FatalError, PreconditionFailedError, RetryableError, backoff_delay
from shared.services.ports_events import EventPublisher

__all__ = ["DEFAULT_RETENTION", "OUTBOX_PARTITION", "DrainReport", "Outbox", "OutboxSweep", "sweep_outbox"]

log = logging.getLogger(__name__)

OUTBOX_PARTITION = "outbox"
State = Literal["pending", "sending", "sent", "dead"]
_MAX_BATCH = 100  # Event Grid: at most 1 MB per request; our events are small, the publisher splits by size too.
DEFAULT_RETENTION = timedelta(days=7)  # how long sent rows stay, for operators (they are never needed again)


@dataclass(frozen=True, slots=True)
class DrainReport:
    sent: int
    pending: int
    dead: int


class Outbox:
    """Lifecycle events in a StateStore; see the module docstring."""

    def __init__(self, store: StateStore, clock: Clock, *, lease_seconds: float = 60.0,
                 random: Callable[[], float] = random_module.random, max_batch: int = _MAX_BATCH) -> None:
        self._store = store
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._random = random
        self._max_batch = max_batch

    # --- recording (the EventPublisher port) --------------------------------------------------------------

    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        """Record `events` as pending, in order; an event recorded before (same id) is left as it is."""
        now = self._clock.now()
        for sequence, event in enumerate(events):
            entity = {PARTITION_KEY: OUTBOX_PARTITION, ROW_KEY: event.id, "state": "pending", "recordedAt": now,
                      "sequence": sequence, "attempts": 0, "nextAttemptAt": now, "type": event.type,
                      "event": event.to_dict()}
            try:
                await self._store.insert(entity)
            except ConflictError:
                continue

    async def record(self, events: Sequence[LifecycleEvent]) -> None:
        """The engine's LifecycleSink port: the same as `publish`."""
        await self.publish(events)

    # --- draining -------------------------------------------------------------------------------------------

    async def drain(self, publisher: EventPublisher) -> DrainReport:
        """Send pending events in order until none is left, one fails, or one is still backing off."""
        sent = 0
        while True:
            rows = await self._store.query_partition(OUTBOX_PARTITION)
            now = self._clock.now()
            waiting = sorted((r for r in rows if _due_state(r, now) is not None), key=_order)
            batch = self._due_prefix(waiting, now)
            if not batch:
                break
            claimed = await self._claim(batch, now)
            if not claimed:
                break
            done, stop = await self._send(publisher, claimed)
            sent += done
            if stop:
                break
        rows = await self._store.query_partition(OUTBOX_PARTITION)
        states = [r.entity.get("state") for r in rows]
        return DrainReport(sent, sum(s in ("pending", "sending") for s in states), states.count("dead"))

    async def pending(self) -> list[LifecycleEvent]:
        """Events not yet sent (pending or being sent), in publishing order."""
        rows = await self._store.query_partition(OUTBOX_PARTITION)
        waiting = sorted((r for r in rows if r.entity.get("state") in ("pending", "sending")), key=_order)
        return [LifecycleEvent.from_dict(r.entity["event"]) for r in waiting]

    async def entries(self) -> list[dict[str, Any]]:
        """Every row, for operators and tests (attempts, lastError, state ...), in publishing order."""
        rows = await self._store.query_partition(OUTBOX_PARTITION)
        return [dict(r.entity) for r in sorted(rows, key=_order)]

    async def purge(self, older_than: timedelta) -> int:
        """Delete rows sent more than `older_than` ago; return how many."""
        cutoff = self._clock.now() - older_than
        removed = 0
        for row in await self._store.query_partition(OUTBOX_PARTITION):
            sent_at = row.entity.get("sentAt")
            if row.entity.get("state") == "sent" and isinstance(sent_at, datetime) and sent_at < cutoff:
                try:
                    await self._store.delete_if_match(OUTBOX_PARTITION, row.entity[ROW_KEY], row.etag)
                    removed += 1
                except PreconditionFailedError:
                    continue
        return removed

    # --- steps ------------------------------------------------------------------------------------------------

    def _due_prefix(self, waiting: list[Versioned], now: datetime) -> list[Versioned]:
        """The oldest waiting events that may be sent now, stopping at the first that may not (order)."""
        batch: list[Versioned] = []
        for row in waiting:
            if _due_state(row, now) != "due" or len(batch) >= self._max_batch:
                break
            batch.append(row)
        return batch

    async def _claim(self, batch: list[Versioned], now: datetime) -> list[Versioned]:
        claimed = []
        for row in batch:
            entity = {**row.entity, "state": "sending", "leaseUntil": now + self._lease}
            try:
                etag = await self._store.update_if_match(entity, row.etag)
            except PreconditionFailedError:
                break  # another drainer has it; keep order by stopping here
            claimed.append(Versioned(entity, etag))
        return claimed

    async def _send(self, publisher: EventPublisher, claimed: list[Versioned]) -> tuple[int, bool]:
        """Publish the claimed rows; return (how many were sent, whether to stop draining)."""
        events = [LifecycleEvent.from_dict(r.entity["event"]) for r in claimed]
        try:
            await publisher.publish(events)
        except RetryableError as exc:
            await self._release(claimed, exc.code, exc.delay_seconds)
            log.warning("outbox: publishing %d events failed, will retry: %s", len(events), exc.code)
            return 0, True
        except FatalError as exc:
            if len(claimed) > 1:
                return await self._send_one_by_one(publisher, claimed)
            await self._mark(claimed[0], state="dead", error=exc.code)
            log.error("outbox: event %s refused for good: %s", claimed[0].entity[ROW_KEY], exc.code)
            return 0, False
        except Exception as exc:
            # A bug, not an outcome: put the events back (never lost) and let it surface.
            await self._release(claimed, type(exc).__name__, None)
            raise
        for row in claimed:
            await self._mark(row, state="sent")
        return len(claimed), False

    async def _send_one_by_one(self, publisher: EventPublisher, claimed: list[Versioned]) -> tuple[int, bool]:
        sent = 0
        for index, row in enumerate(claimed):
            done, stop = await self._send(publisher, [row])
            sent += done
            if stop:
                await self._release(claimed[index + 1:], None, None, count_attempt=False)
                return sent, True
        return sent, False

    async def _release(self, rows: list[Versioned], error: str | None, delay: float | None, *,
                       count_attempt: bool = True) -> None:
        now = self._clock.now()
        for row in rows:
            attempts = int(row.entity.get("attempts", 0)) + (1 if count_attempt else 0)
            wait = backoff_delay(attempts - 1, self._random, base_seconds=2.0, cap_seconds=300.0,
                                 retry_after=delay) if count_attempt else 0.0
            entity = {**row.entity, "state": "pending", "attempts": attempts, "leaseUntil": None,
                      "nextAttemptAt": now + timedelta(seconds=wait)}
            if error is not None:
                entity["lastError"] = error
            await self._write_claimed(row, entity)

    async def _mark(self, row: Versioned, *, state: State, error: str | None = None) -> None:
        entity = {**row.entity, "state": state, "leaseUntil": None, "attempts": int(row.entity.get("attempts", 0)) + 1}
        if state == "sent":
            entity["sentAt"] = self._clock.now()
        if error is not None:
            entity["lastError"] = error
        await self._write_claimed(row, entity)

    async def _write_claimed(self, row: Versioned, entity: dict[str, Any]) -> None:
        try:
            await self._store.update_if_match(entity, row.etag)
        except PreconditionFailedError:
            # Our lease expired and another drainer took the event over; it decides now.
            log.warning("outbox: lost the claim on event %s", row.entity[ROW_KEY])


def _order(row: Versioned) -> tuple[Any, ...]:
    return (row.entity["recordedAt"], row.entity.get("sequence", 0), row.entity[ROW_KEY])


def _due_state(row: Versioned, now: datetime) -> Literal["due", "later"] | None:
    """None: nothing to do (sent, dead, claimed by a live drainer); "later": waiting to be retried."""
    state = row.entity.get("state")
    if state == "sending":
        lease = row.entity.get("leaseUntil")
        if isinstance(lease, datetime) and lease > now:
            return "later"  # a live drainer holds it: later ones wait behind it
        return "due"
    if state != "pending":
        return None
    next_at = row.entity.get("nextAttemptAt")
    return "later" if isinstance(next_at, datetime) and next_at > now else "due"


@dataclass(frozen=True, slots=True)
class OutboxSweep:
    sent: int
    pending: int
    dead: int
    purged: int


async def sweep_outbox(outbox: Outbox, publisher: EventPublisher | None, *,
                       retention: timedelta = DEFAULT_RETENTION) -> OutboxSweep:
    """The sweeper's turn at the outbox: send what is due (when a topic is configured), then purge rows sent
    longer than `retention` ago. A failed send is not an error here: the events stay pending, with their
    backoff, for the next sweep; only a bug raises."""
    if publisher is None:
        report = DrainReport(0, len(await outbox.pending()), 0)
    else:
        report = await outbox.drain(publisher)
    purged = await outbox.purge(retention)
    if report.dead:
        log.warning("outbox: %d events were refused for good and are kept as dead", report.dead)
    return OutboxSweep(report.sent, report.pending, report.dead, purged)
