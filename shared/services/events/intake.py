"""Intake helpers of the events service: which schema a delivery is in, and which managed cluster an event is about
(through the event's `target`, whatever its kind)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain import arm, jsontext
from shared.domain.events import (
    FALLBACK_LABEL,
    Batch,
    DomainEvent,
    default_node_resource_group,
    index_keys,
    parse_cloudevents,
    parse_eventgrid_batch,
)
from shared.domain.request import ClusterRequest
from shared.engine import ClusterRegistry
from shared.engine.ports import Clock
from shared.engine.records import ClusterRecord


@dataclass(frozen=True, slots=True)
class Index:
    """Managed clusters by the keys events find them under: ARM id, and (subscription, node resource group)."""

    by_key: dict[tuple[str, ...], ClusterRecord] = field(default_factory=dict)

    def cluster_of(self, event: DomainEvent) -> tuple[ClusterRecord | None, str]:
        """The managed cluster the event is about, or None and why it is only recorded."""
        target = event.target
        key = target.index_key
        return (self.by_key.get(key) if key is not None else None), target.unmanaged()


class IndexCache:
    """The index, rebuilt when older than `ttl` or when this instance's registry registered a cluster or changed
    one's state since (`ClusterRegistry.generation`): a delivery no longer reads the whole registry."""

    def __init__(self, registry: ClusterRegistry, clock: Clock, ttl: timedelta) -> None:
        self.registry, self.clock, self.ttl = registry, clock, ttl
        self._index: Index | None = None
        self._built: tuple[datetime, int] | None = None
        self.builds = 0

    async def get(self) -> Index:
        now, generation = self.clock.now(), self.registry.generation
        if (self._index is None or self._built is None or generation != self._built[1]
                or not timedelta(0) <= now - self._built[0] < self.ttl):
            self._index = await cluster_index(self.registry)
            self._built = (now, generation)
            self.builds += 1
        return self._index


async def cluster_index(registry: ClusterRegistry) -> Index:
    by_key: dict[tuple[str, ...], ClusterRecord] = {}
    for record in await registry.all():
        if record.state == "deleted":
            continue
        request = ClusterRequest.model_validate(record.request)
        keys = index_keys(arm.ids(request)["cluster"], request.subscription_id, default_node_resource_group(request))
        by_key.update(dict.fromkeys(keys, record))
    return Index(by_key)


def parse_delivery(body: Any, headers: Mapping[str, str]) -> Batch:
    """Event Grid schema or CloudEvents: by the media type, else by the events' shape (`specversion`)."""
    media = next((v for k, v in headers.items() if k.lower() == "content-type"), "").split(";")[0].strip().lower()
    if isinstance(body, bytes | bytearray | str):
        try:
            body = jsontext.loads(body)
        except jsontext.JsonRefused:  # the parser says why, as a problem of the batch
            return parse_eventgrid_batch(body if isinstance(body, str) else bytes(body))
    if media.startswith("application/cloudevents"):
        return parse_cloudevents(body)
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, dict) and "specversion" in first:
        return parse_cloudevents(body)
    return parse_eventgrid_batch(body)


def has_fallback(record: ClusterRecord) -> bool:
    """Whether the cluster has a spot fallback pool with nodes (the sweeper only looks at those)."""
    pools = record.request.get("userPools") or []
    return any(isinstance(p, dict) and FALLBACK_LABEL in (p.get("labels") or {}) and p.get("count", 0) > 0
               for p in pools)
