"""Intake helpers of the events service: which schema a delivery is in, which managed cluster an event is about,
and the operation source of a reaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain import armid
from shared.domain.events import (
    AksSystemEvent,
    Batch,
    DomainEvent,
    PoolPressure,
    PreemptNotice,
    SpotPreempted,
    Unknown,
    parse_cloudevents,
    parse_eventgrid_batch,
)
from shared.domain.reactions_spot import FALLBACK_LABEL
from shared.domain.request import ClusterRequest
from shared.engine import ClusterRegistry
from shared.engine.records import ClusterRecord
from shared.services.events_react import node_resource_group


@dataclass(frozen=True, slots=True)
class Index:
    """Managed clusters by ARM id (lower case) and by (subscription, node resource group), both lower case."""

    by_id: dict[str, ClusterRecord]
    by_node_group: dict[tuple[str, str], ClusterRecord]


async def cluster_index(registry: ClusterRegistry) -> Index:
    by_id: dict[str, ClusterRecord] = {}
    by_group: dict[tuple[str, str], ClusterRecord] = {}
    for record in await registry.all():
        if record.state == "deleted":
            continue
        request = ClusterRequest.model_validate(record.request)
        by_id[armid.key(armid.resource_id(request.subscription_id, request.resource_group,
                                          "Microsoft.ContainerService", "managedClusters", request.name))] = record
        by_group[(request.subscription_id.lower(), node_resource_group(request).lower())] = record
    return Index(by_id, by_group)


def parse_delivery(body: Any, headers: Mapping[str, str]) -> Batch:
    """Event Grid schema or CloudEvents: by the media type, else by the events' shape (`specversion`)."""
    media = next((v for k, v in headers.items() if k.lower() == "content-type"), "").split(";")[0].strip().lower()
    if isinstance(body, bytes | bytearray | str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            return parse_eventgrid_batch(body if isinstance(body, str) else bytes(body))
    if media.startswith("application/cloudevents"):
        return parse_cloudevents(body)
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, dict) and "specversion" in first:
        return parse_cloudevents(body)
    return parse_eventgrid_batch(body)


def cluster_of(event: DomainEvent, index: Index) -> tuple[ClusterRecord | None, str]:
    if isinstance(event, Unknown):
        return None, f"recorded and acknowledged: {event.reason}"
    if isinstance(event, SpotPreempted):
        record = index.by_node_group.get((event.subscription_id.lower(), event.node_resource_group.lower()))
        return record, (f"no managed cluster has node resource group '{event.node_resource_group}' in subscription "
                        f"{event.subscription_id}")
    cluster_id = event.cluster_id if isinstance(event, AksSystemEvent | PreemptNotice | PoolPressure) else None
    if cluster_id is None:
        return None, f"the topic '{event.envelope.source[:300]}' is not a managed cluster id (unknown cluster)"
    return index.by_id.get(armid.key(cluster_id)), f"cluster {cluster_id} is not managed by aksvend"


def operation_source(event: DomainEvent) -> str:
    """The operation source (see shared/services/lifecycle_sink.py, which derives outbound events from it)."""
    if isinstance(event, SpotPreempted | PreemptNotice):
        return f"reaction:spot-fallback:{event.pool}"
    if isinstance(event, PoolPressure):
        return "reaction:pool-pressure"
    return "reaction:upgrade"


def has_fallback(record: ClusterRecord) -> bool:
    pools = record.request.get("userPools") or []
    return any(isinstance(p, dict) and FALLBACK_LABEL in (p.get("labels") or {}) and p.get("count", 0) > 0
               for p in pools)
