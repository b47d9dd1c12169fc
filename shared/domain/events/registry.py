"""The registry of event kinds: from an event's type to its interpretation and its reaction. Adding a reaction is a
new module that declares an `EventKind` (kind.py) and one line in `KINDS` below; nothing else dispatches on kinds.

`react(event, cluster, history, now) -> Decision` is the reaction policy: pure and total (it never raises).

- An event whose key is in the history gets no action (and nothing new is recorded): a redelivered event never
  acts twice.
- An event about another cluster, or one that names no cluster aksvend can read, gets no action (its `target`).
- Otherwise its kind reacts, within the cluster's `reactions` settings and its bounds (bounds.py: the token buckets
  are applied here, to every kind; the extra-node ceilings by the kinds that add nodes); every action carries a
  human reason and the engine idempotency key `<source>|<id>|<n>`. Targets are absolute counts computed from
  what the history already asked for, so the same event and history always give the same decision.
`ClusterView.operation_running` holds nothing back: the engine serializes operations per cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from shared.domain.events import aks, pressure, senders, spot, upgrade
from shared.domain.events.bounds import within_buckets
from shared.domain.events.envelope import Envelope
from shared.domain.events.kind import DomainEvent, EventKind, Unknown
from shared.domain.events.model import ClusterView, Decision, NoAction, PastReaction, history_key, nothing
from shared.domain.operation_source import OperationSource

KINDS: tuple[EventKind[Any], ...] = (
    upgrade.KIND,  # NewKubernetesVersionAvailable -> an upgrade by autoUpgrade
    aks.NOTICES,  # ClusterSupportEnding/Ended, NodePoolRolling* -> notices
    spot.EVICTED,  # VirtualMachinePreempted -> the on-demand fallback
    spot.NOTICE,  # aksvend.node.preemptNotice -> the on-demand fallback, ~30 s earlier
    pressure.KIND,  # aksvend.pool.pressure -> a raise of the pool
)


def _not_ours(envelope: Envelope) -> Unknown:
    return Unknown(envelope, f"event type '{envelope.type[:200]}' is not one aksvend reacts to")


def _ignore(event: Any, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    return nothing(f"not an event the policy knows: {type(event).__name__}")


def _no_operation(event: Any) -> OperationSource:
    return OperationSource.reaction("ignored")  # an ignored event decides no action


# Event Grid delivers types aksvend does not react to (the Health Resources subscription's AvailabilityStatusChanged):
# recorded and acknowledged. An agent has no business sending them.
IGNORED = EventKind[Any](types=(), interpret=_not_ours, react=_ignore, source=_no_operation, senders=senders.AZURE)


class KindRegistry:
    def __init__(self, kinds: Iterable[EventKind[Any]]) -> None:
        self.kinds = tuple(kinds)
        self._by_type: dict[str, EventKind[Any]] = {}
        for kind in self.kinds:
            for type_ in kind.types:
                if type_ in self._by_type:
                    raise ValueError(f"event type '{type_}' is registered twice")
                self._by_type[type_] = kind

    def kind_of(self, event_type: str) -> EventKind[Any]:
        """The kind registered for that type; `IGNORED` (no reaction) for any other."""
        return self._by_type.get(event_type, IGNORED)

    def interpret(self, envelope: Envelope) -> DomainEvent:
        """The typed reading of an event, or Unknown with the reason. Never raises."""
        return self.kind_of(envelope.type).interpret(envelope)

    def refusal(self, sender: senders.Sender, event: DomainEvent) -> str | None:
        """Why `sender` may not deliver `event` (senders.py); None when it may."""
        return senders.refusal(sender, self.kind_of(event.envelope.type), event)

    def react(self, event: DomainEvent, cluster: ClusterView, history: Sequence[PastReaction],
              now: datetime) -> Decision:
        """The decision for one event about one cluster, given the cluster's recent reactions."""
        mine = history_key(event.key)
        done = next((h for h in history if h.event_key is not None and history_key(h.event_key) == mine), None)
        if done is not None:
            return nothing(f"event {event.key[1]} from {event.key[0]} was already decided at {done.at.isoformat()}")
        foreign = event.target.foreign(cluster)
        kind = self.kind_of(event.envelope.type)
        decision = (nothing(foreign) if foreign
                    else within_buckets(kind.react(event, cluster, history, now), cluster, history, now, event.key))
        source, event_id = event.key
        keyed = tuple(a if isinstance(a, NoAction) else dataclasses.replace(a, key=f"{source}|{event_id}|{i}")
                      for i, a in enumerate(decision.actions))
        record = decision.record or (PastReaction(now, event.key, "notice" if decision.notices else "ignored"),)
        return Decision(keyed, record, decision.notices)


REGISTRY = KindRegistry(KINDS)
interpret = REGISTRY.interpret
react = REGISTRY.react
