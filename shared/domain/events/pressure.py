"""Pool pressure (`aksvend.pool.pressure`, custom): the in-cluster agent saw pods that pool `P` could not place.

Reaction, on a non-spot pool: `ceil(pendingPods / 10)` more nodes, at most `maxNodesPerPool` (and AKS's 1,000).
An autoscaled pool gets a higher autoscale maximum, and only when the autoscaler is already at its maximum (below
it, the autoscaler places the pods itself); a fixed pool gets a higher count. At most one raise per pool per
`cooldownSeconds` (a raise exactly `cooldownSeconds` ago no longer holds it). Spot or unknown pools: no action.
Operation source: `reaction:pool-pressure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.events.envelope import Envelope
from shared.domain.events.kind import EventKind, NamesItsCluster, Unknown, addressed_fields
from shared.domain.events.model import (
    AKS_MAX_NODES_PER_POOL,
    ClusterView,
    Decision,
    PastReaction,
    PoolState,
    ScalePool,
    last_of,
    nothing,
    planned,
)
from shared.domain.events.senders import AGENT
from shared.domain.operation_source import OperationSource

POOL_PRESSURE = "aksvend.pool.pressure"
RULE = "pool-pressure"
MAX_PENDING_PODS = 100_000
PENDING_PODS_PER_NODE = 10  # a rough packing estimate; the agent does not know the pods' requests in aggregate


@dataclass(frozen=True, slots=True)
class PoolPressure(NamesItsCluster):
    """The in-cluster agent saw pods that the pool could not place."""

    envelope: Envelope
    cluster_id: str
    pool: str
    pending_pods: int


def read(envelope: Envelope) -> PoolPressure | Unknown:
    fields = addressed_fields(envelope)
    if isinstance(fields, Unknown):
        return fields
    data, cluster, pool = fields
    pending = data.get("pendingPods")
    if isinstance(pending, bool) or not isinstance(pending, int) or not 0 <= pending <= MAX_PENDING_PODS:
        return Unknown(envelope, f"{POOL_PRESSURE}: data.pendingPods must be an integer 0-{MAX_PENDING_PODS}")
    return PoolPressure(envelope, cluster, pool, pending)


def on_pressure(event: PoolPressure, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    pool = view.pool(event.pool)
    what = f"{event.pending_pods} pending pod{'s' if event.pending_pods != 1 else ''} on pool '{event.pool}'"
    if pool is None:
        return nothing(f"{what}, which is not in the cluster's request (unknown pool)")
    if pool.spot is not None:
        return nothing(f"{what}: a spot pool is not raised for pressure; evictions are replaced by its fallback")
    if event.pending_pods <= 0:
        return nothing(f"{what}: nothing to place")
    seen = PastReaction(now, event.key, RULE, pool.name)
    cooldown = timedelta(seconds=view.reactions.cooldown_seconds)
    last = last_of(history, RULE, pool.name, with_target=True)
    if last is not None and now - last.at < cooldown:
        return nothing(f"{what}: raised at {last.at.isoformat()}, cooldown until {(last.at + cooldown).isoformat()}",
                       seen)
    return _raise(event, view.state(pool.name) or PoolState.of(pool), view, history, now, what, seen)


def _raise(event: PoolPressure, state: PoolState, view: ClusterView, history: Sequence[PastReaction], now: datetime,
           what: str, seen: PastReaction) -> Decision:
    """The raise itself: of the autoscale maximum (when the autoscaler is at it) or of the count."""
    nodes = math.ceil(event.pending_pods / PENDING_PODS_PER_NODE)
    bound = min(view.reactions.max_nodes_per_pool, AKS_MAX_NODES_PER_POOL)
    asked = planned(history, (RULE,), event.pool)
    if state.max_count is not None:
        current = max(state.max_count, asked or 0)
        if state.count < current:
            return nothing(f"{what}: the autoscaler has room ({state.count} of at most {current} nodes) and will "
                           "place them", seen)
        label = "autoscale maximum"
    else:
        current = max(state.count, asked or 0)
        label = "node count"
    target = min(current + nodes, bound)
    if target <= current:
        return nothing(f"{what}: the {label} {current} is at the bound of {bound} (maxNodesPerPool)", seen)
    reason = (f"{what}: raise the {label} {current} -> {target} (+{nodes} for {PENDING_PODS_PER_NODE} pods per "
              f"node, bound {bound})")
    action = (ScalePool(event.pool, None, reason, max_count=target) if state.max_count is not None
              else ScalePool(event.pool, target, reason))
    return Decision((action,), (PastReaction(now, event.key, RULE, event.pool, target),))


def _source(event: PoolPressure) -> OperationSource:
    return OperationSource.reaction(RULE)


KIND = EventKind[PoolPressure](types=(POOL_PRESSURE,), interpret=read, react=on_pressure, source=_source,
                               senders=AGENT)
