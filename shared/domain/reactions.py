"""The reaction policy: `react(event, cluster, history, now) -> Decision`, pure and total (it never raises).

Rules, within the cluster's `reactions` settings (docs/design.md section 2); every action carries a human reason:
- spot eviction (`SpotPreempted`) or preempt notice (`PreemptNotice`) of spot pool P: one more node in the
  on-demand fallback `P + "od"`, created when missing, bounded; see `reactions_spot` (also for the scale-down,
  which the sweeper timer asks of `sweep` once no eviction was seen for `cooldownSeconds`).
- `PoolPressure` on non-spot pool P: `ceil(pendingPods / 10)` more nodes, at most `maxNodesPerPool` (and
  AKS's 1,000). An autoscaled pool gets a higher autoscale maximum, and only when the autoscaler is already at
  its maximum (below it, the autoscaler places the pods itself); a fixed pool gets a higher count. At most one
  raise per pool per `cooldownSeconds` (a raise exactly `cooldownSeconds` ago no longer holds it).
- `NewKubernetesVersionAvailable`: an upgrade when `autoUpgrade` allows it; see `reactions_upgrade`.
- `ClusterSupportEnding` / `ClusterSupportEnded` / `NodePoolRollingFailed`: no action, an outbound notice.
- anything else, an event for another cluster, or an event already in the history: no action.

Idempotency: an event whose key is in the history gets no action. Targets are absolute counts computed from
what the history already asked for, so the same event and history always give the same decision, and a
redelivered event never scales twice. Each action carries the engine idempotency key `<source>|<id>|<n>`.
`ClusterView.operation_running` does not hold anything back: the engine serializes operations per cluster.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from shared.domain import armid
from shared.domain.events import (
    AksSystemEvent,
    DomainEvent,
    PoolPressure,
    PreemptNotice,
    SpotPreempted,
    Unknown,
)
from shared.domain.reactions_model import (
    AKS_MAX_NODES_PER_POOL,
    Action,
    ClusterView,
    CreatePool,
    Decision,
    NoAction,
    Notice,
    PastReaction,
    PoolState,
    ScalePool,
    UpgradeCluster,
    last_of,
    nothing,
    planned,
)
from shared.domain.reactions_spot import fallback_pool, fallback_pool_name, on_eviction, sweep
from shared.domain.reactions_upgrade import on_new_versions

__all__ = [
    "PENDING_PODS_PER_NODE", "Action", "ClusterView", "CreatePool", "Decision", "NoAction", "Notice", "PastReaction",
    "PoolState", "ScalePool", "UpgradeCluster", "fallback_pool", "fallback_pool_name", "react", "sweep",
]

PENDING_PODS_PER_NODE = 10  # a rough packing estimate; the agent does not know the pods' requests in aggregate
SUPPORT_ENDING = "aksvend.cluster.supportEnding"
SUPPORT_ENDED = "aksvend.cluster.supportEnded"
ROLLING_FAILED = "aksvend.pool.rollingFailed"


def react(event: DomainEvent, cluster: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    """The decision for one event about one cluster, given the cluster's recent reactions."""
    done = next((h for h in history if h.event_key == event.key), None)
    if done is not None:
        return nothing(f"event {event.key[1]} from {event.key[0]} was already decided at {done.at.isoformat()}")
    decision = _decide(event, cluster, history, now)
    source, event_id = event.key
    keyed = tuple(a if isinstance(a, NoAction) else dataclasses.replace(a, key=f"{source}|{event_id}|{i}")
                  for i, a in enumerate(decision.actions))
    record = decision.record or (PastReaction(now, event.key, "notice" if decision.notices else "ignored"),)
    return Decision(keyed, record, decision.notices)


def _decide(event: DomainEvent, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    foreign = _foreign(event, view)
    if foreign:
        return nothing(foreign)
    if isinstance(event, SpotPreempted):
        return on_eviction(view, history, now, key=event.key, pool=event.pool, node=event.node,
                           what=f"spot VM {event.vmss_name}/{event.instance_id} evicted")
    if isinstance(event, PreemptNotice):
        return on_eviction(view, history, now, key=event.key, pool=event.pool, node=event.node,
                           what=f"preempt notice for node {event.node}")
    if isinstance(event, PoolPressure):
        return _on_pressure(event, view, history, now)
    if isinstance(event, AksSystemEvent):
        return _on_aks(event, view, history, now)
    if isinstance(event, Unknown):
        return nothing(f"recorded and acknowledged: {event.reason}")
    return nothing(f"not an event the policy knows: {type(event).__name__}")


def _foreign(event: DomainEvent, view: ClusterView) -> str | None:
    """Why the event is not about this cluster, or None when it is."""
    if isinstance(event, SpotPreempted):
        cluster = armid.parse(view.cluster_id)
        same_sub = cluster is None or cluster.subscription_id.lower() == event.subscription_id.lower()
        if not same_sub or event.node_resource_group.lower() != view.node_resource_group.lower():
            return (f"the evicted VM is in node resource group '{event.node_resource_group}', not this cluster's "
                    f"'{view.node_resource_group}'")
        return None
    if isinstance(event, PreemptNotice | PoolPressure | AksSystemEvent):
        if event.cluster_id is None:
            return f"the topic '{event.envelope.source[:300]}' is not a managed cluster id (unknown cluster)"
        if armid.key(event.cluster_id) != armid.key(view.cluster_id):
            return f"the event is about cluster {event.cluster_id}, not {view.cluster_id}"
    return None


def _on_pressure(event: PoolPressure, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    pool = view.pool(event.pool)
    what = f"{event.pending_pods} pending pod{'s' if event.pending_pods != 1 else ''} on pool '{event.pool}'"
    if pool is None:
        return nothing(f"{what}, which is not in the cluster's request (unknown pool)")
    if pool.spot is not None:
        return nothing(f"{what}: a spot pool is not raised for pressure; evictions are replaced by its fallback")
    if event.pending_pods <= 0:
        return nothing(f"{what}: nothing to place")
    seen = PastReaction(now, event.key, "pool-pressure", pool.name)
    cooldown = timedelta(seconds=view.reactions.cooldown_seconds)
    last = last_of(history, "pool-pressure", pool.name, with_target=True)
    if last is not None and now - last.at < cooldown:
        return nothing(f"{what}: raised at {last.at.isoformat()}, cooldown until {(last.at + cooldown).isoformat()}",
                       seen)
    state = view.state(pool.name) or PoolState.of(pool)
    nodes = math.ceil(event.pending_pods / PENDING_PODS_PER_NODE)
    bound = min(view.reactions.max_nodes_per_pool, AKS_MAX_NODES_PER_POOL)
    asked = planned(history, ("pool-pressure",), pool.name)
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
    action = (ScalePool(pool.name, None, reason, max_count=target) if state.max_count is not None
              else ScalePool(pool.name, target, reason))
    return Decision((action,), (PastReaction(now, event.key, "pool-pressure", pool.name, target),))


def _on_aks(event: AksSystemEvent, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    if event.kind == "NewKubernetesVersionAvailable":
        return on_new_versions(event, view, history, now)
    if event.kind == "ClusterSupportEnding":
        message = (f"support for Kubernetes {event.kubernetes_version} is ending on {view.cluster_id}; upgrade "
                   "to a supported minor")
        return nothing(message, notices=[Notice(SUPPORT_ENDING, message)])
    if event.kind == "ClusterSupportEnded":
        message = f"support for Kubernetes {event.kubernetes_version} has ended on {view.cluster_id}"
        return nothing(message, notices=[Notice(SUPPORT_ENDED, message)])
    if event.kind == "NodePoolRollingFailed":
        message = f"rolling upgrade of pool '{event.node_pool}' failed on {view.cluster_id}"
        return nothing(message, notices=[Notice(ROLLING_FAILED, message)])
    return nothing(f"{event.kind} on pool '{event.node_pool}': informational")
