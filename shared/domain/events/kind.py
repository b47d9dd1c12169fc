"""What one kind of inbound event declares, once, in its own module: the `EventKind` the registry holds.

An event kind is recognised by its type string (Event Grid `eventType`, CloudEvents `type`), interpreted from the
envelope into a typed event (or `Unknown` with the reason, when its data is missing or mistyped), and reacted to by
a pure function of (event, cluster view, history, now) -> Decision. It names the operation source of the operations
its actions become. The typed event itself says which cluster it is about (`target`, see target.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.domain.events.envelope import Envelope
from shared.domain.events.model import ClusterView, Decision, PastReaction
from shared.domain.events.target import ByClusterId, ClusterTarget, NoCluster, cluster_id_of
from shared.domain.operation_source import OperationSource

POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}\Z")


class DomainEvent(Protocol):
    """A typed inbound event (or `Unknown`)."""

    @property
    def envelope(self) -> Envelope: ...

    @property
    def key(self) -> tuple[str, str]:
        """The dedupe key: (topic or source, id)."""

    @property
    def target(self) -> ClusterTarget: ...


class Keyed:
    """The dedupe key of an event that has an `envelope` (a mixin of the event dataclasses: no fields, no slots)."""

    __slots__ = ()
    envelope: Envelope

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key


class NamesItsCluster(Keyed):
    """An event whose cluster is named by its ARM id (`cluster_id`); the topic or source goes into the reason when
    that id is not a managed cluster's."""

    __slots__ = ()
    cluster_id: str | None

    @property
    def target(self) -> ByClusterId:
        return ByClusterId(self.cluster_id, self.envelope.source)


@dataclass(frozen=True, slots=True)
class Unknown(Keyed):
    """An event aksvend does not react to, or could not read: recorded with the reason and acknowledged."""

    envelope: Envelope
    reason: str

    @property
    def target(self) -> NoCluster:
        return NoCluster(f"recorded and acknowledged: {self.reason}")


E = TypeVar("E")


@dataclass(frozen=True)  # not slots: a slotted frozen Generic cannot be built as EventKind[X](...)
class EventKind(Generic[E]):
    """One kind of inbound event and aksvend's reaction to it."""

    types: tuple[str, ...]  # the event types it reads, exactly as sent
    interpret: Callable[[Envelope], E | Unknown]
    react: Callable[[E, ClusterView, Sequence[PastReaction], datetime], Decision]
    source: Callable[[E], OperationSource]  # the source of the operations its actions become
    reads_version: bool = False  # the reaction needs the current Kubernetes version and the upgrades ARM offers
    # Who may deliver it besides the local stack (senders.py: `AZURE`, `AGENT`); empty: the local stack only.
    senders: frozenset[type[Any]] = frozenset()
    # Why an envelope did not come from where this kind is published (its topic or source), None when it did:
    # checked for Event Grid deliveries (senders.py). None here: not bound to a topic.
    origin: Callable[[Envelope], str | None] | None = None


def custom_fields(envelope: Envelope) -> tuple[dict[str, Any], str | None, str | None]:
    """(data, cluster id, pool) of a custom `aksvend.*` event; None for a cluster id or pool that is not valid."""
    data = envelope.data if isinstance(envelope.data, dict) else {}
    cluster = cluster_id_of(data.get("clusterId"))
    pool = data.get("pool")
    return data, cluster, pool if isinstance(pool, str) and POOL_NAME.fullmatch(pool) else None


def addressed_fields(envelope: Envelope) -> tuple[dict[str, Any], str, str] | Unknown:
    """(data, cluster id, pool) of a custom event that must name both, or Unknown saying which is missing."""
    data, cluster, pool = custom_fields(envelope)
    if cluster is None:
        return Unknown(envelope, f"{envelope.type}: data.clusterId must be a managed cluster's ARM id")
    if pool is None:
        return Unknown(envelope, f"{envelope.type}: data.pool must be a pool name (^[a-z][a-z0-9]{{0,11}}$)")
    return data, cluster, pool
