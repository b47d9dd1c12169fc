"""The events use case: Event Grid and CloudEvents deliveries in, reactions out as engine operations.

`EventService.handle_events(body, headers, now)` serves the webhook (`POST /api/events`) and the Event Grid
trigger alike:

1. Parse (both schemas; CloudEvents when the media type says so or the events carry `specversion`). Any problem
   in the delivery is a 400 `Problem` before anything is written, so Event Grid dead-letters that delivery and
   nothing of it is half applied. A subscription validation event is answered with its code.
2. Dedupe on (topic or source, id): the `events` table keeps one row per processed event until it expires
   (`EventSettings.dedupe_seconds`, past Event Grid's 24 h of retries). A seen event is acknowledged again,
   never acted on twice; the same event twice in one delivery counts once.
3. Map each event to a managed cluster through the registry: an AKS event's topic is the cluster's ARM id
   (compared case-insensitively); a `VirtualMachinePreempted` annotation names a VMSS instance in the node
   resource group `MC_<rg>_<cluster>_<location>` of the subscription; custom events carry `data.clusterId`.
   Unknown types and events of clusters aksvend does not manage are recorded (with the reason) and
   acknowledged with 200: retrying them could never help.
4. Per cluster, under its lease (one decider at a time, across instances): read the reaction history, build
   the view, `react()`, submit each action (`events_react.apply`) with the action's idempotency key, append the
   decision to the history, publish notices, then mark the event seen. A crash before the mark redelivers
   the event; the history or the operation's idempotency key then keeps it from acting twice.

`sweep(now)` (the sweeper timer) scales spot fallbacks back once their cooldown has passed, and purges
expired dedupe rows every `purge_every_seconds`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.events import (
    AksSystemEvent,
    DomainEvent,
    Envelope,
    interpret,
    parse_webhook_handshake,
)
from shared.domain.lifecycle import LifecycleEvent
from shared.domain.reactions import CreatePool, NoAction, PastReaction, react, sweep
from shared.domain.reactions_spot import FALLBACK_LABEL
from shared.domain.request import ClusterRequest
from shared.engine import Engine
from shared.engine.ports import StateStore
from shared.errors import RetryableError
from shared.services.events_intake import (
    Index,
    cluster_index,
    cluster_of,
    has_fallback,
    operation_source,
    parse_delivery,
)
from shared.services.events_react import apply, notice_event, observed_version, view_of
from shared.services.events_store import EventStore
from shared.services.problems import Problem

log = logging.getLogger("aksvend.events")
Notify = Callable[[Sequence[LifecycleEvent]], Awaitable[None]]
SECRET_HEADER = "x-aksvend-secret"
MAX_REPORTED = 100


@dataclass(frozen=True, slots=True)
class EventSettings:
    webhook_secret: str | None = None  # AKSVEND_EVENTS_WEBHOOK_SECRET; None: no check
    dedupe_seconds: float = 48 * 3600.0
    lease_seconds: float = 30.0  # a crashed decider's lease is taken over after this
    lease_wait_seconds: float = 10.0  # then 503, and Event Grid delivers again
    purge_every_seconds: float = 3600.0
    allowed_rate: int | None = None  # WebHook-Allowed-Rate; None: "*"
    concurrency: int = 32  # table writes in flight for one delivery

    def __repr__(self) -> str:  # never print the secret
        return f"EventSettings(webhook_secret={'set' if self.webhook_secret else None}, ...)"


@dataclass(frozen=True, slots=True)
class Validation:
    """Answer 200 with `body` (Event Grid's subscription validation)."""

    body: dict[str, str]


@dataclass(frozen=True, slots=True)
class Acknowledged:
    received: int
    duplicates: int = 0
    unmapped: int = 0
    operations: tuple[str, ...] = ()
    outcomes: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"received": self.received, "duplicates": self.duplicates, "unmapped": self.unmapped,
                "operations": list(self.operations), "outcomes": list(self.outcomes[:MAX_REPORTED])}


@dataclass(frozen=True, slots=True)
class SweepReport:
    scaled_down: tuple[str, ...] = ()
    purged: int = 0


@dataclass
class _Tally:
    duplicates: int = 0
    unmapped: int = 0
    operations: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)


class EventService:
    def __init__(self, engine: Engine, table: StateStore, settings: EventSettings | None = None, *,
                 default_subscription_id: str, notify: Notify | None = None) -> None:
        """`notify` records outbound notices (policy notices as CloudEvents); by default the engine's lifecycle
        sink (the outbox), when it has one."""
        self.engine = engine
        self.settings = settings or EventSettings()
        self.store = EventStore(table, dedupe_seconds=self.settings.dedupe_seconds,
                                lease_seconds=self.settings.lease_seconds)
        self.default_subscription_id = default_subscription_id
        sink = getattr(engine, "events", None)
        self.notify = notify or (sink.record if sink is not None else None)

    # ---- the webhook's checks ------------------------------------------------------------------------------
    def check_secret(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """401 unless the configured secret is in `X-Aksvend-Secret` or the query parameter `code`."""
        expected = self.settings.webhook_secret
        if not expected:
            return
        lower = {k.lower(): v for k, v in headers.items()}
        for presented in (lower.get(SECRET_HEADER), query.get("code")):
            if presented and hmac.compare_digest(presented.encode(), expected.encode()):
                return
        raise Problem(401, "Unauthorized", "the events webhook needs the shared secret (header X-Aksvend-Secret "
                                           "or query parameter code)")

    def webhook_handshake(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The CloudEvents abuse-protection handshake (OPTIONS): the headers to answer 200 with."""
        handshake = parse_webhook_handshake(headers)
        if handshake is None:
            raise Problem(400, "HandshakeMissing", "an OPTIONS request to the events webhook needs the header "
                                                   "WebHook-Request-Origin")
        return handshake.response_headers(self.settings.allowed_rate)

    # ---- deliveries ------------------------------------------------------------------------------------------
    async def handle_events(self, body: Any, headers: Mapping[str, str], now: datetime) -> Validation | Acknowledged:
        batch = parse_delivery(body, headers)
        if batch.problems:
            raise Problem(400, "MalformedEvents", f"the delivery has {len(batch.problems)} problem(s); none of its "
                          "events was applied", list(batch.problems[:50]))
        if batch.handshake is not None:
            return Validation(batch.handshake.response())
        unique: dict[tuple[str, str], Envelope] = {}
        for envelope in batch.notifications:
            unique.setdefault(envelope.dedupe_key, envelope)
        tally = _Tally(duplicates=len(batch.notifications) - len(unique))
        index = await cluster_index(self.engine.registry) if unique else Index({}, {})
        groups: dict[str, list[DomainEvent]] = {}
        loose: list[tuple[DomainEvent, str]] = []
        for envelope in unique.values():
            event = interpret(envelope)
            record, why = cluster_of(event, index)
            if record is None:
                loose.append((event, why))
            else:
                groups.setdefault(record.key, []).append(event)
        fresh, seen = await self.store.mark_new_many([(e.key, e.envelope.type, why) for e, why in loose], now,
                                                     self.settings.concurrency)
        tally.unmapped += fresh
        tally.duplicates += seen
        await asyncio.gather(*(self._react_all(key, events, now, tally) for key, events in groups.items()))
        return Acknowledged(len(batch.notifications), tally.duplicates, tally.unmapped, tuple(tally.operations),
                            tuple(tally.outcomes))

    async def _react_all(self, key: str, events: Sequence[DomainEvent], now: datetime, tally: _Tally) -> None:
        async with self.store.locked(key, self.engine.clock, self.settings.lease_wait_seconds):
            history = await self.store.history(key)
            for event in events:
                if await self.store.seen(event.key, now) is not None:
                    tally.duplicates += 1
                    continue
                history = await self._react_one(key, event, history, now, tally)

    async def _react_one(self, key: str, event: DomainEvent, history: list[PastReaction], now: datetime,
                         tally: _Tally) -> list[PastReaction]:
        record = await self.engine.registry.get(key)
        if record is None or record.state == "deleted":
            await self.store.mark(event.key, now, type_=event.envelope.type, cluster=None,
                                  outcome=f"cluster {key} is not managed by aksvend")
            tally.unmapped += 1
            return history
        upgrade_event = isinstance(event, AksSystemEvent) and event.kind == "NewKubernetesVersionAvailable"
        version = await observed_version(self.engine, record) if upgrade_event else None
        decision = react(event, view_of(record, kubernetes_version=version), history, now)
        notes, operations, refused = [], [], set()
        for action in decision.actions:
            if isinstance(action, NoAction):
                notes.append(action.reason)
                continue
            applied = await apply(self.engine, record, action, default_subscription_id=self.default_subscription_id,
                                  source=operation_source(event))
            notes.append(f"{action.reason} -> {applied.note}")
            if applied.operation_id:
                operations.append(applied.operation_id)
            else:
                refused.add(action.pool.name if isinstance(action, CreatePool) else getattr(action, "pool", None))
            record = await self.engine.registry.get(key) or record
        kept = [dataclasses.replace(r, target=None) if refused and r.pool in refused else r
                for r in decision.record if r.rule != "ignored"]
        if kept:
            history = [*history, *kept]
            await self.store.save_history(key, history, now)
        if decision.notices and self.notify is not None:
            await self.notify([notice_event(record, n, event.key, now) for n in decision.notices])
        outcome = "; ".join(notes)
        await self.store.mark(event.key, now, type_=event.envelope.type, cluster=key, outcome=outcome,
                              operations=operations)
        log.info("event %s on %s: %s", event.key[1][:100], key, outcome[:500])
        tally.operations.extend(operations)
        tally.outcomes.append({"id": event.key[1], "cluster": key, "outcome": outcome, "operations": operations})
        return history

    # ---- the sweeper -------------------------------------------------------------------------------------------
    async def sweep(self, now: datetime) -> SweepReport:
        """Scale on-demand fallbacks back after their cooldown; purge expired dedupe rows when due."""
        scaled: list[str] = []
        for record in await self.engine.registry.all():
            if record.state in ("deleted", "deleting") or not has_fallback(record):
                continue
            try:
                async with self.store.locked(record.key, self.engine.clock, self.settings.lease_wait_seconds):
                    scaled.extend(await self._sweep_cluster(record.key, now))
            except RetryableError as err:
                log.info("fallback sweep of %s skipped this round: %s", record.key, err)
        purged = 0
        if await self.store.purge_due(now, timedelta(seconds=self.settings.purge_every_seconds)):
            purged = await self.store.purge(now)
        return SweepReport(tuple(scaled), purged)

    async def _sweep_cluster(self, key: str, now: datetime) -> list[str]:
        record = await self.engine.registry.get(key)
        if record is None:
            return []
        history = await self.store.history(key)
        decision = sweep(view_of(record), history, now)
        if not decision.acts:
            return []
        operations = []
        request = ClusterRequest.model_validate(record.request)
        for action in decision.actions:
            if isinstance(action, NoAction):
                continue
            pool = next((p for p in request.user_pools if p.name == getattr(action, "pool", None)), None)
            spot = pool.labels.get(FALLBACK_LABEL, "") if pool else ""
            applied = await apply(self.engine, record, action, default_subscription_id=self.default_subscription_id,
                                  source=f"reaction:fallback-scale-down:{spot}")
            log.info("fallback sweep on %s: %s -> %s", key, action.reason, applied.note)
            if applied.operation_id:
                operations.append(applied.operation_id)
            record = await self.engine.registry.get(key) or record
        await self.store.save_history(key, [*history, *decision.record], now)
        return operations
