"""The sweeper's pass over a cluster (`sweep_all`): spot fallbacks back to 0 (fallback.py `sweep`), and pressure
raises back to what the request asked for (`decay`).

A pressure raise changes the desired request (through `put-pool`), so "what the request asked for" is kept in the
history: each raise records its `base` (pressure.py). Once no `aksvend.pool.pressure` event for the pool (acted on
or not) was seen for `reactions.bounds.decaySeconds` (exactly at it counts), `decay` sets the autoscale maximum,
or the count of a fixed pool, back to that base, and records the series as closed (target = base). If the pool is
no longer at the raise's target, someone else changed it since: the raise is forgotten without an action (a
record with target = base = the value now), so a caller's change is never undone. Operation source:
`reaction:pressure-decay:<pool>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from shared.domain.events.fallback import scale_down_source, sweep
from shared.domain.events.model import ClusterView, Decision, PastReaction, PoolState, ScalePool, last_of, nothing
from shared.domain.events.pressure import DECAY, RULE, open_raise
from shared.domain.operation_source import OperationSource
from shared.domain.request import ClusterRequest


def decay(view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    """Lower each raised pool back to its base after the quiet period."""
    quiet = timedelta(seconds=view.reactions.bounds.decay_seconds)
    actions: list[ScalePool] = []
    records: list[PastReaction] = []
    waiting: list[str] = []
    for pool in view.pools:
        raised = open_raise(history, pool.name)
        if raised is None or raised.base is None or raised.target is None:
            continue
        state = view.state(pool.name) or PoolState.of(pool)
        value = state.max_count if state.max_count is not None else state.count
        if value != raised.target:  # changed by someone else since: theirs now
            records.append(PastReaction(now, None, DECAY, pool.name, value, base=value))
            continue
        heard = last_of(history, RULE, pool.name) or raised
        if now - heard.at < quiet:
            waiting.append(f"'{pool.name}' until {(heard.at + quiet).isoformat()}")
            continue
        label = "autoscale maximum" if state.max_count is not None else "node count"
        reason = (f"no pressure on pool '{pool.name}' since {heard.at.isoformat()} (decaySeconds "
                  f"{view.reactions.bounds.decay_seconds}): lower its {label} from {value} back to {raised.base}")
        key = f"decay|{view.cluster_id.lower()}|{pool.name}|{raised.at.isoformat()}"
        actions.append(ScalePool(pool.name, None, reason, max_count=raised.base, key=key) if state.max_count is not None
                       else ScalePool(pool.name, raised.base, reason, key=key))
        records.append(PastReaction(now, None, DECAY, pool.name, raised.base, base=raised.base))
    if not actions:
        held = f"; holding {', '.join(waiting)}" if waiting else ""
        return nothing(f"no pressure raise to lower{held}", *records)
    return Decision(tuple(actions), tuple(records))


def sweep_all(view: ClusterView, history: Sequence[PastReaction], now: datetime,
              counts: Mapping[str, int | None] | None = None) -> Decision:
    """The fallbacks' scale-down (on their node counts read from ARM, `counts`: fallback.py `sweep`) and the raises'
    decay, as one decision (each action names its pool)."""
    parts = (sweep(view, history, now, counts), decay(view, history, now))
    acting = tuple(a for d in parts for a in d.actions if d.acts)
    records = tuple(r for d in parts for r in d.record)
    if not acting:
        return nothing("; ".join(a.reason for d in parts for a in d.actions), *records)
    return Decision(acting, records)


def sweep_source(request: ClusterRequest, pool: str) -> OperationSource:
    """The source of one of the sweeper's operations: a fallback's scale-down, or a raise's decay."""
    if any(p.name == pool for p in request.user_pools if p.labels.get("aksvend.io/spot-fallback-for")):
        return scale_down_source(request, pool)
    return OperationSource.reaction(DECAY, pool)
