"""Who delivered an event, as the webhook's authentication established it, and what that sender may deliver.

A delivery is authenticated once (shared/services/events/auth.py) and yields one sender:

- `EventGrid`: Azure Event Grid, by an Entra ID token with the subscriber app role, or through the Event Grid
  trigger (the Functions host's system key). It may deliver Azure system events only (each kind names them:
  `EventKind.senders`), and each of those only from where its kind is published (`EventKind.origin`: an AKS event
  from its cluster's topic, a Health Resources annotation from the subscription of the annotated resource).
- `Agent(cluster_id)`: an in-cluster agent that signed with its cluster's key. It may deliver the agent's custom
  kinds only, and only about its own cluster: an event whose `target` is another cluster (or none) is refused, and
  so is one whose `source` is not its cluster's ARM id or a path below it (events are deduplicated on (source,
  id), so a foreign source would let one cluster's agent mark another cluster's events as seen).
- `Local`: the shared secret, or no check at all: local mode only. Anything goes.

`refusal(sender, kind, event)` says why an event may not come from that sender (None: it may); the service
refuses the whole delivery (403) when any event of it is refused, so nothing of a forged delivery is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.events.kind import DomainEvent, EventKind
from shared.domain.events.target import ByClusterId

# The `source` of an EVENT_NOT_PERMITTED violation: where the rules of who may send what are written.
SENDER_RULES = 'aksvend docs/events.md "How each source is authenticated"'


@dataclass(frozen=True, slots=True)
class EventGrid:
    """Azure Event Grid (an Entra-authenticated webhook delivery, or the Event Grid trigger)."""

    def describe(self) -> str:
        return "Event Grid"


@dataclass(frozen=True, slots=True)
class Agent:
    """The in-cluster agent of one cluster, proven by that cluster's key."""

    cluster_id: str  # the managed cluster's ARM id

    def describe(self) -> str:
        return f"the agent of cluster {self.cluster_id}"


@dataclass(frozen=True, slots=True)
class Local:
    """Local mode's convenience: the shared secret, or no check."""

    def describe(self) -> str:
        return "the local stack"


Sender = EventGrid | Agent | Local
AZURE: frozenset[type[Any]] = frozenset({EventGrid})  # Azure system events: Event Grid delivers them
AGENT: frozenset[type[Any]] = frozenset({Agent})  # the in-cluster agent's custom events


def may_validate(sender: Sender) -> bool:
    """Whether the sender may complete Event Grid's subscription validation handshake."""
    return not isinstance(sender, Agent)


def refusal(sender: Sender, kind: EventKind[Any], event: DomainEvent) -> str | None:
    """Why `event` (of `kind`) may not come from `sender`; None when it may."""
    if isinstance(sender, Local):
        return None
    if type(sender) not in kind.senders:
        return f"{event.envelope.type[:200]} events are not accepted from {sender.describe()}"
    if isinstance(sender, Agent):
        own = ByClusterId(sender.cluster_id, "").index_key
        if event.target.index_key != own:
            return f"{sender.describe()} may send events about that cluster only (data.clusterId)"
        source, prefix = event.envelope.source.lower(), sender.cluster_id.lower()
        if source != prefix and not source.startswith(prefix + "/"):
            # The dedupe key is (source, id): another cluster's source would let this agent pre-empt its events.
            return f"{sender.describe()} must send with a source of its cluster's ARM id or below it (<id>/...)"
        return None
    return kind.origin(event.envelope) if kind.origin is not None else None
