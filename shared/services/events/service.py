"""The events use case: Event Grid and CloudEvents deliveries in, reactions out as engine operations.

`EventService.handle_events(body, headers, now)` serves the webhook (`POST /api/events`) and the Event Grid
trigger alike:

0. Authenticate (`authenticate`, auth.py): the sender, Event Grid, a cluster's agent or the local stack. Each event
   must be the sender's to deliver (shared/domain/events/senders.py: its kind's senders, the agent's own cluster, an
   Azure event's topic); one that is not refuses the whole delivery (403), before anything is written.
1. Parse (both schemas; CloudEvents when the media type says so or the events carry `specversion`). Any problem
   in the delivery is a `MalformedInput` (HTTP 400) before anything is written, so Event Grid dead-letters that
   delivery and nothing of it is half applied. A subscription validation event is answered with its code.
2. Dedupe on (topic or source, id): the `events` table keeps one row per processed event of a managed cluster
   until it expires (`EventSettings.dedupe_seconds`, past Event Grid's 24 h of retries). A seen event is
   acknowledged again, never acted on twice; the same event twice in one delivery counts once.
3. Interpret each event through the registry of event kinds (shared/domain/events/registry.py) and map it to a
   managed cluster of the cluster registry by the event's `target`: an AKS event's topic is the cluster's ARM id
   (compared case-insensitively); a `VirtualMachinePreempted` annotation names a VMSS instance in the node
   resource group `MC_<rg>_<cluster>_<location>` of the subscription; custom events carry `data.clusterId`.
   The managed clusters are looked up in a cached index (`IndexCache`: `index_ttl_seconds`, rebuilt at once
   when this instance registers a cluster). Unknown types and events of clusters aksvend does not manage are
   counted in one summary row per delivery (with the reasons) and acknowledged with 200: retrying them could
   never help, and a delivery of strangers' events must not cost a row each.
4. Per cluster, under its lease (one decider at a time, across instances): read the reaction history, build
   the view, `react()`, submit each action (`react.apply`) with the action's idempotency key and the operation
   source the event's kind names, append the decision to the history, publish notices, then mark the event seen.
   A crash before the mark redelivers the event; the history or the operation's idempotency key then keeps it
   from acting twice.

`sweep(now)` (the sweeper timer) scales spot fallbacks back after their cooldown (on their node counts read from ARM,
fallback.py `to_read`), lowers pressure raises after their quiet period (clusters with a fallback, or marked as
raised in the store), and purges expired dedupe and summary rows every `purge_every_seconds`, a page at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.events import (
    REGISTRY,
    Decision,
    DomainEvent,
    Envelope,
    Inbound,
    KindRegistry,
    NoAction,
    PastReaction,
    parse_webhook_handshake,
    raised_pools,
    sweep_all,
    sweep_source,
)
from shared.domain.events.fallback import to_read
from shared.domain.events.senders import SENDER_RULES, Sender, may_validate
from shared.domain.lifecycle import LifecycleEvent
from shared.domain.operation_source import OperationSource
from shared.domain.request import ClusterRequest
from shared.domain.violations import Violation, pointer
from shared.engine import Engine
from shared.engine.ports import StateStore
from shared.engine.records import ClusterRecord
from shared.errors import RetryableError
from shared.refusals import MalformedInput, NotPermitted
from shared.services.callers import TokenValidator
from shared.services.events.agent_keys import AgentKeys
from shared.services.events.auth import EventAuth
from shared.services.events.intake import Index, IndexCache, has_fallback, parse_delivery
from shared.services.events.model import Acknowledged, EventSettings, SweepReport, Tally, Validation
from shared.services.events.react import apply, fallback_counts, notice_event, observed_view, view_of
from shared.services.events.store import EventStore, Mark

log = logging.getLogger("aksvend.events")
Notify = Callable[[Sequence[LifecycleEvent]], Awaitable[None]]
Groups = dict[str, list[DomainEvent]]


@dataclass
class _Applied:
    """What the actions of one decision became."""

    record: ClusterRecord
    notes: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    refused: set[str | None] = field(default_factory=set)


class EventService:
    def __init__(self, engine: Engine, table: StateStore, settings: EventSettings | None = None, *,
                 default_subscription_id: str, notify: Notify | None = None, kinds: KindRegistry = REGISTRY,
                 tokens: TokenValidator | None = None, agent_keys: AgentKeys | None = None) -> None:
        """`notify` records outbound notices (policy notices as CloudEvents); by default the engine's lifecycle
        sink (the outbox), when it has one. `kinds` are the event kinds it reads and reacts to. `tokens` validates
        Event Grid's bearer tokens and `agent_keys` holds the agents' keys (None: that way in is off)."""
        self.engine = engine
        self.settings = settings or EventSettings()
        self.store = EventStore(table, dedupe_seconds=self.settings.dedupe_seconds,
                                lease_seconds=self.settings.lease_seconds)
        self.default_subscription_id = default_subscription_id
        self.kinds = kinds
        self.notify = notify or (engine.lifecycle.record if engine.lifecycle is not None else None)
        self.index = IndexCache(engine.registry, engine.clock, timedelta(seconds=self.settings.index_ttl_seconds))
        self.auth = EventAuth(self.settings, engine.clock, engine.registry, tokens=tokens, agent_keys=agent_keys)

    # ---- the webhook's checks ------------------------------------------------------------------------------
    async def authenticate(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> Sender:
        """Who sent this request (auth.py): Event Grid, a cluster's agent, or the local stack; else a refusal."""
        return await self.auth.sender(headers, query, body)

    def webhook_handshake(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The CloudEvents abuse-protection handshake (OPTIONS): the headers to answer 200 with."""
        handshake = parse_webhook_handshake(headers)
        if handshake is None:
            raise MalformedInput("HandshakeMissing", "an OPTIONS request to the events webhook needs the header "
                                                     "WebHook-Request-Origin")
        return handshake.response_headers(self.settings.allowed_rate)

    # ---- deliveries ------------------------------------------------------------------------------------------
    async def handle_events(self, body: Any, headers: Mapping[str, str], now: datetime, *,
                            sender: Sender) -> Validation | Acknowledged:
        """A delivery from `sender` (`authenticate`): refused whole (403) when any event is not the sender's to
        deliver (senders.py), before anything is written."""
        batch = parse_delivery(body, headers)
        if batch.problems:
            raise MalformedInput("MalformedEvents", f"the delivery has {len(batch.problems)} problem(s); none of "
                                 "its events was applied", batch.problems[:50])
        if batch.handshake is not None:
            if not may_validate(sender):
                raise NotPermitted("EventsNotPermitted", f"{sender.describe()} may not validate a subscription")
            return Validation(batch.handshake.response())
        events = self._permitted(batch.events, sender)
        unique: dict[tuple[str, str], DomainEvent] = {}
        for event in events:
            unique.setdefault(event.key, event)
        tally = Tally(len(events), duplicates=len(events) - len(unique))
        groups, loose = await self._by_cluster(unique.values())
        await self.store.summarize([(e.key, e.envelope.type, why) for e, why in loose], now)
        tally.unmapped += len(loose)
        await asyncio.gather(*(self._react_all(key, events, now, tally) for key, events in groups.items()))
        return tally.acknowledged()

    def _permitted(self, inbound: Sequence[Inbound], sender: Sender) -> list[DomainEvent]:
        """The events read, when `sender` may deliver each of them; else NotPermitted naming each refused event
        (its index in the delivery). Refused events are logged (type and reason), never marked seen: a forged event
        must not make a genuine one with the same id look like a duplicate."""
        events: list[DomainEvent] = []
        refused: list[Violation] = []
        for i, item in enumerate(inbound):
            if not isinstance(item, Envelope):
                continue
            event = self.kinds.interpret(item)
            why = self.kinds.refusal(sender, event)
            if why is not None:
                refused.append(Violation("EVENT_NOT_PERMITTED", pointer(i), why, source=SENDER_RULES))
            events.append(event)
        if refused:
            for v in refused[:20]:
                log.warning("events delivery refused (%s): event %s: %s", sender.describe(), v.path or "0", v.message)
            raise NotPermitted("EventsNotPermitted", f"{len(refused)} event(s) of the delivery may not come from "
                               f"{sender.describe()}; none of its events was applied", refused[:50])
        return events

    async def _by_cluster(self, events: Collection[DomainEvent]) -> tuple[Groups, list[tuple[DomainEvent, str]]]:
        """The events grouped by the managed cluster they are about; the others with why they are only recorded."""
        index = await self.index.get() if events else Index()
        groups: Groups = {}
        loose: list[tuple[DomainEvent, str]] = []
        for event in events:
            record, why = index.cluster_of(event)
            if record is None:
                loose.append((event, why))
            else:
                groups.setdefault(record.key, []).append(event)
        return groups, loose

    async def _react_all(self, key: str, events: Sequence[DomainEvent], now: datetime, tally: Tally) -> None:
        """The cluster's events in delivery order, under its lease: the seen ones looked up together, the record
        read once (and again after each action), the new ones' dedupe rows written together at the end (a crash
        before that redelivers them, and the history or the actions' idempotency keys keep them from acting
        twice)."""
        async with self.store.locked(key, self.engine.clock, self.settings.lease_wait_seconds):
            history = await self.store.history(key)
            seen = await self.store.seen_many(key, [e.key for e in events], now)
            record = await self.engine.registry.get(key)
            marks: list[Mark] = []
            try:
                for event in events:
                    if event.key in seen:
                        tally.duplicates += 1
                        continue
                    history, record = await self._react_one(key, record, event, history, now, tally, marks)
            finally:
                await self.store.mark_many(key, marks, now)

    async def _react_one(self, key: str, record: ClusterRecord | None, event: DomainEvent, history: list[PastReaction],
                         now: datetime, tally: Tally, marks: list[Mark]) -> tuple[list[PastReaction],
                                                                                  ClusterRecord | None]:
        if record is None or record.state == "deleted":
            marks.append(Mark(event.key, event.envelope.type, None, f"cluster {key} is not managed by aksvend"))
            tally.unmapped += 1
            return history, record
        kind = self.kinds.kind_of(event.envelope.type)
        view = await observed_view(self.engine, record, reads_version=kind.reads_version)
        decision = self.kinds.react(event, view, history, now)
        applied = await self._apply(key, record, decision, kind.source(event))
        history = await self._remember(key, history, decision, applied.refused, now)
        if decision.notices and self.notify is not None:
            await self.notify([notice_event(applied.record, n, event.key, now) for n in decision.notices])
        outcome = "; ".join(applied.notes)
        marks.append(Mark(event.key, event.envelope.type, key, outcome, tuple(applied.operations)))
        log.info("event %s on %s: %s", event.key[1][:100], key, outcome[:500])
        tally.operations.extend(applied.operations)
        tally.outcomes.append({"id": event.key[1], "cluster": key, "outcome": outcome,
                               "operations": applied.operations})
        return history, applied.record

    async def _apply(self, key: str, record: ClusterRecord, decision: Decision, source: OperationSource) -> _Applied:
        """Each action as an engine operation; the record as the last one left it (for the notices)."""
        applied = _Applied(record)
        for action in decision.actions:
            if isinstance(action, NoAction):
                applied.notes.append(action.reason)
                continue
            done = await apply(self.engine, applied.record, action,
                               default_subscription_id=self.default_subscription_id, source=source)
            applied.notes.append(f"{action.reason} -> {done.note}")
            if done.operation_id:
                applied.operations.append(done.operation_id)
            else:
                applied.refused.add(action.pool_name)
            applied.record = await self.engine.registry.get(key) or applied.record
        return applied

    async def _remember(self, key: str, history: list[PastReaction], decision: Decision, refused: set[str | None],
                        now: datetime) -> list[PastReaction]:
        """The history with the decision's records; a refused action's target is dropped (it was not asked for)."""
        kept = [dataclasses.replace(r, target=None) if refused and r.pool in refused else r
                for r in decision.record if r.rule != "ignored"]
        if not kept:
            return history
        return await self._save(key, history, [*history, *kept], now)

    async def _save(self, key: str, before: list[PastReaction], after: list[PastReaction],
                    now: datetime) -> list[PastReaction]:
        """Save the history; the cluster's mark as raised is set before a raise opens, cleared after it closes."""
        was, now_raised = bool(raised_pools(before)), bool(raised_pools(after))
        if now_raised and not was:
            await self.store.mark_raised(key, True)
        await self.store.save_history(key, after, now)
        if was and not now_raised:
            await self.store.mark_raised(key, False)
        return after

    # ---- the sweeper -------------------------------------------------------------------------------------------
    async def sweep(self, now: datetime) -> SweepReport:
        """Scale on-demand fallbacks back after their cooldown, lower pressure raises after their quiet period;
        purge expired dedupe rows when due."""
        scaled: list[str] = []
        raised = await self.store.raised_clusters()
        for record in await self.engine.registry.all():
            if record.state in ("deleted", "deleting") or not (has_fallback(record) or record.key in raised):
                continue
            try:
                async with self.store.locked(record.key, self.engine.clock, self.settings.lease_wait_seconds):
                    scaled.extend(await self._sweep_cluster(record.key, now, marked=record.key in raised))
            except RetryableError as err:
                log.info("fallback sweep of %s skipped this round: %s", record.key, err)
        purged = 0
        if await self.store.purge_due(now, timedelta(seconds=self.settings.purge_every_seconds)):
            purged, more = await self.store.purge(now)
            if more:
                await self.store.purge_again(now)
        return SweepReport(tuple(scaled), purged)

    async def _sweep_cluster(self, key: str, now: datetime, *, marked: bool) -> list[str]:
        record = await self.engine.registry.get(key)
        if record is None:
            return []
        history, view = await self.store.history(key), view_of(record)
        counts = await fallback_counts(self.engine, record, to_read(view, history, now))  # ARM's, not the request's
        decision, operations = sweep_all(view, history, now, counts), []
        for action in decision.actions if decision.acts else ():
            if isinstance(action, NoAction):
                continue
            applied = await apply(self.engine, record, action, default_subscription_id=self.default_subscription_id,
                                  source=sweep_source(ClusterRequest.model_validate(record.request),
                                                      action.pool_name or ""))
            log.info("sweep on %s: %s -> %s", key, action.reason, applied.note)
            if applied.operation_id:
                operations.append(applied.operation_id)
            record = await self.engine.registry.get(key) or record
        if decision.record:
            await self._save(key, history, [*history, *decision.record], now)
        elif marked and not raised_pools(history):
            await self.store.mark_raised(key, False)  # a stale mark: nothing to lower
        return operations
