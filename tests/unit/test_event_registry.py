"""The registry of event kinds: a new reaction is one module that declares an `EventKind`, registered in one line.

The kind below stands for such a module (docs/architecture.md, "Adding an event reaction"): registered next to the
built-in kinds, the events service reads, maps, decides and submits it with nothing else changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pytest

from shared.domain.events import (
    REGISTRY,
    ClusterView,
    Decision,
    Envelope,
    EventKind,
    KindRegistry,
    PastReaction,
    ScalePool,
    Unknown,
    interpret,
)
from shared.domain.events.kind import custom_fields
from shared.domain.events.model import nothing
from shared.domain.events.senders import Local
from shared.domain.events.target import ByClusterId
from shared.domain.operation_source import OperationSource
from shared.services.events import Acknowledged, EventService
from tests.fakes import FakeStateStore
from tests.requests import SUB
from tests.unit.test_events_service import CLUSTER_ID, custom, make_world

RESIZE = "example.pool.resize"


@dataclass(frozen=True, slots=True)
class Resize:
    """An agent asks for pool `pool` to have `count` nodes."""

    envelope: Envelope
    cluster_id: str
    pool: str
    count: int

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key

    @property
    def target(self) -> ByClusterId:
        return ByClusterId(self.cluster_id, self.envelope.source)


def read(envelope: Envelope) -> Resize | Unknown:
    data, cluster, pool = custom_fields(envelope)
    count = data.get("count")
    if cluster is None or pool is None or isinstance(count, bool) or not isinstance(count, int):
        return Unknown(envelope, f"{RESIZE}: needs data.clusterId, data.pool and data.count")
    return Resize(envelope, cluster, pool, count)


def on_resize(event: Resize, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    if view.pool(event.pool) is None:
        return nothing(f"pool '{event.pool}' is not in the cluster's request")
    return Decision((ScalePool(event.pool, event.count, f"asked to resize '{event.pool}' to {event.count}"),),
                    (PastReaction(now, event.key, "resize", event.pool, event.count),))


def resize_source(event: Resize) -> OperationSource:
    return OperationSource.reaction("resize", event.pool)


RESIZE_KIND = EventKind[Resize](types=(RESIZE,), interpret=read, react=on_resize, source=resize_source)
WITH_RESIZE = KindRegistry((*REGISTRY.kinds, RESIZE_KIND))


def test_every_built_in_kind_reads_types_of_its_own():
    types = [t for kind in REGISTRY.kinds for t in kind.types]
    assert types and len(types) == len(set(types))
    assert all(REGISTRY.kind_of(t).types for t in types)


def test_a_type_registered_twice_is_refused_when_the_registry_is_built():
    with pytest.raises(ValueError, match=RESIZE):
        KindRegistry((RESIZE_KIND, RESIZE_KIND))


def test_a_type_no_kind_reads_is_unknown_with_the_reason():
    envelope = Envelope("cloudevents", "/agents/x", "1", RESIZE, None, None, {})
    event = interpret(envelope)
    assert isinstance(event, Unknown) and RESIZE in event.reason
    assert isinstance(WITH_RESIZE.interpret(envelope), Unknown)  # registered, but its data is missing


async def test_a_registered_kind_is_read_mapped_decided_and_submitted_with_its_source():
    world = await make_world()
    service = EventService(world.engine, FakeStateStore(), default_subscription_id=SUB, kinds=WITH_RESIZE)
    outcome = await service.handle_events(custom(RESIZE, {"clusterId": CLUSTER_ID, "pool": "gpu", "count": 3}), {},
                                          world.clock.now(), sender=Local())
    assert isinstance(outcome, Acknowledged) and len(outcome.operations) == 1, outcome
    ops = await world.operations()
    assert (ops[-1]["kind"], ops[-1]["pool"], ops[-1]["source"]) == ("put-pool", "gpu", "reaction:resize:gpu")
    assert (await world.pool("gpu") or {}).get("count") == 3
    assert [(h.rule, h.target) for h in await service.store.history(outcome.outcomes[0]["cluster"])] == [
        ("resize", 3)]


async def test_the_same_event_without_the_registration_is_only_recorded():
    world = await make_world()
    outcome = await world.deliver(custom(RESIZE, {"clusterId": CLUSTER_ID, "pool": "gpu", "count": 3}))
    assert isinstance(outcome, Acknowledged) and outcome.unmapped == 1 and not outcome.operations
