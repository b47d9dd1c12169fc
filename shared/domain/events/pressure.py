"""Pool pressure (`aksvend.pool.pressure`, custom): the in-cluster agent saw pods that pool `P` could not place.

Reaction, on a non-spot pool: `ceil(pendingPods / 10)` more nodes, at most `maxNodesPerPool` (and AKS's 1,000)
and at most the extra-node ceilings above what the request asked for (bounds.py; past them the raise is refused
with a notice). An autoscaled pool gets a higher autoscale maximum, and only when the autoscaler is already at its
maximum (below it, the autoscaler places the pods itself); a fixed pool gets a higher count. At most one raise per
pool per `cooldownSeconds` (a raise exactly `cooldownSeconds` ago no longer holds it). Spot or unknown pools: no
action. GPU pools (a GPU size or the `gpu` workload): no action unless the pool says `scaleOnPressure: true`; any
pool saying `false`: no action.

Each raise records its `base`: the value the request asked for before the first raise of an open series (a
series is open while its latest target is above its base and nobody set the pool above that target). The sweeper
lowers the pool back to it after `decaySeconds` without pressure (decay.py).
Operation source: `reaction:pool-pressure`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.events.bounds import refused, room
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
from shared.domain.request import Pool
from shared.domain.vmsizes import lookup

POOL_PRESSURE = "aksvend.pool.pressure"
RULE = "pool-pressure"
DECAY = "pressure-decay"  # the sweeper's lowering of a raise (decay.py); shares the raise's series
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
    if not scales_on_pressure(pool):
        return nothing(f"{what}: the pool is not raised for pressure (scaleOnPressure "
                       f"{'false' if pool.scale_on_pressure is False else 'not true, on a GPU pool'})")
    if event.pending_pods <= 0:
        return nothing(f"{what}: nothing to place")
    seen = PastReaction(now, event.key, RULE, pool.name)
    cooldown = timedelta(seconds=view.reactions.cooldown_seconds)
    last = last_of(history, RULE, pool.name, with_target=True)
    if last is not None and now - last.at < cooldown:
        return nothing(f"{what}: raised at {last.at.isoformat()}, cooldown until {(last.at + cooldown).isoformat()}",
                       seen)
    return _raise(event, view.state(pool.name) or PoolState.of(pool), view, history, now, what, seen)


def scales_on_pressure(pool: Pool) -> bool:
    """`scaleOnPressure`, or by default: yes, unless the pool has GPUs (by its size, or the `gpu` workload)."""
    if pool.scale_on_pressure is not None:
        return pool.scale_on_pressure
    size = lookup(pool.vm_size)
    return pool.workload != "gpu" and not (size is not None and size.gpus > 0)


def open_raise(history: Sequence[PastReaction], pool: str) -> PastReaction | None:
    """The latest raise of the pool when its series is open (its target above its base); None otherwise."""
    last = _latest_with_base(h for h in history if h.rule in (RULE, DECAY) and h.pool == pool)
    return last if last and last.target is not None and last.base is not None and last.target > last.base else None


def raised_pools(history: Sequence[PastReaction]) -> list[str]:
    """The pools with an open raise (the sweeper lowers them once the pressure is gone)."""
    return [p for p in dict.fromkeys(h.pool for h in history if h.rule in (RULE, DECAY) and h.pool)
            if open_raise(history, p) is not None]


def _base(history: Sequence[PastReaction], pool: str, requested: int) -> int:
    """What the request asked for before the open series of raises; the value now when none is open, or when the
    pool was set above the series' target since (the caller took the pool over)."""
    last = open_raise(history, pool)
    if last is None or last.base is None or last.target is None or requested > last.target:
        return requested
    return last.base


def _raise(event: PoolPressure, state: PoolState, view: ClusterView, history: Sequence[PastReaction], now: datetime,
           what: str, seen: PastReaction) -> Decision:
    """The raise itself: of the autoscale maximum (when the autoscaler is at it) or of the count."""
    nodes = math.ceil(event.pending_pods / PENDING_PODS_PER_NODE)
    bound = min(view.reactions.max_nodes_per_pool, AKS_MAX_NODES_PER_POOL)
    asked = planned(history, (RULE, DECAY), event.pool)
    requested = state.max_count if state.max_count is not None else state.count
    current = max(requested, asked or 0)
    if state.max_count is not None and state.count < current:
        return nothing(f"{what}: the autoscaler has room ({state.count} of at most {current} nodes) and will "
                       "place them", seen)
    label = "autoscale maximum" if state.max_count is not None else "node count"
    base = _base(history, event.pool, requested)
    left = room(view, history, event.pool, base=base)
    target = min(current + nodes, bound, base + left.nodes)
    if target <= current and base + left.nodes < bound:
        return refused(view, history, now, key=event.key, pool=event.pool, bound=left.bound, why=left.why,
                       what=f"{what}: the {label} is {current}, requested {base}", records=[seen])
    if target <= current:
        return nothing(f"{what}: the {label} {current} is at the bound of {bound} (maxNodesPerPool)", seen)
    reason = (f"{what}: raise the {label} {current} -> {target} (+{nodes} for {PENDING_PODS_PER_NODE} pods per "
              f"node, bound {min(bound, base + left.nodes)}: maxNodesPerPool, {left.bound} above {base})")
    action = (ScalePool(event.pool, None, reason, max_count=target) if state.max_count is not None
              else ScalePool(event.pool, target, reason))
    return Decision((action,), (PastReaction(now, event.key, RULE, event.pool, target, base=base),))


def _latest_with_base(reactions: Iterable[PastReaction]) -> PastReaction | None:
    ranked = max(((r.at, i, r) for i, r in enumerate(reactions) if r.target is not None and r.base is not None),
                 key=lambda t: (t[0], t[1]), default=None)
    return ranked[2] if ranked else None


def _source(event: PoolPressure) -> OperationSource:
    return OperationSource.reaction(RULE)


KIND = EventKind[PoolPressure](types=(POOL_PRESSURE,), interpret=read, react=on_pressure, source=_source,
                               senders=AGENT)
