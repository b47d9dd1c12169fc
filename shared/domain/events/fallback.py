"""Spot fallback: replace evicted spot nodes with on-demand ones, and give them back after the cooldown. The reaction
of both spot event kinds (spot.py: an eviction, or the preempt notice ~30 s before it).

- The fallback of spot pool `P` is the on-demand pool `P + "od"`. Pool names have at most 12 characters
  (6 for Windows), so `P` is cut to make room for the suffix: `batchworkers` -> `batchworkeod`.
- It copies `P` (VM size, OS, zones, max pods, disks, and the labels and taints the request set), minus any
  label or taint under `kubernetes.azure.com/` (AKS's own: it puts the spot ones on spot nodes itself), with
  regular priority, no autoscaler, the label `aksvend.io/spot-fallback-for=P` and the taint
  `aksvend.io/spot-fallback=true:NoSchedule`: only workloads that tolerate it (the batch workloads that tolerate
  the spot taint, told to tolerate this one too) land there (docs/decisions/0007-fallback-taints.md).
- Each evicted node adds one fallback node: the target is what the history already asked for (or the observed
  count when it says nothing) plus one, never above `min(maxNodesPerPool, max nodes of P)` nor above the extra-node
  ceilings (bounds.py; the request asked for 0 fallback nodes). A preempt notice and the later eviction of the
  same node count once. Scale-ups are never held back by the cooldown: a second eviction within it adds capacity
  (bounded).
- Scale-down: spot capacity is not observed directly, so "no eviction of P for `cooldownSeconds`" stands for
  "spot capacity is back". The sweeper timer calls `sweep`, which then scales the fallback to 0 (kept, not
  deleted: scaling an existing pool takes ~100 s, creating one ~4 min).
- Operation sources: `reaction:spot-fallback:<spot pool>` (an eviction; the lifecycle events add
  `aksvend.spot.replaced` for it) and `reaction:fallback-scale-down:<spot pool>` (the sweeper).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from shared.domain.events.bounds import Room, refused, room
from shared.domain.events.model import (
    AKS_MAX_NODES_PER_POOL,
    ClusterView,
    CreatePool,
    Decision,
    PastReaction,
    ScalePool,
    last_of,
    nothing,
    planned,
)
from shared.domain.operation_source import OperationSource
from shared.domain.request import ClusterRequest, Pool

AKS_PREFIX = "kubernetes.azure.com/"  # AKS's own labels and taints
SPOT_LABEL = f"{AKS_PREFIX}scalesetpriority"
SPOT_TAINT = f"{SPOT_LABEL}=spot:NoSchedule"
FALLBACK_LABEL = "aksvend.io/spot-fallback-for"
FALLBACK_TAINT = "aksvend.io/spot-fallback=true:NoSchedule"
FALLBACK_SUFFIX = "od"
MAX_LABELS = 50  # the request's limits on labels and taints per pool
MAX_TAINTS = 50
POOL_NAME_MAX = 12
WINDOWS_POOL_NAME_MAX = 6
SPOT_FALLBACK = "spot-fallback"
FALLBACK_SCALE_DOWN = "fallback-scale-down"
_FALLBACK_RULES = (SPOT_FALLBACK, FALLBACK_SCALE_DOWN)


def fallback_pool_name(pool: str, *, windows: bool = False) -> str:
    """`P + "od"`, with `P` cut so that the name fits (12 characters, 6 for Windows)."""
    limit = WINDOWS_POOL_NAME_MAX if windows else POOL_NAME_MAX
    return pool[: limit - len(FALLBACK_SUFFIX)] + FALLBACK_SUFFIX


def fallback_pool(spot: Pool, count: int) -> Pool:
    """The on-demand twin of a spot pool."""
    taints = [t for t in spot.taints if not t.startswith(AKS_PREFIX) and t != FALLBACK_TAINT][:MAX_TAINTS - 1]
    taints.append(FALLBACK_TAINT)  # a user taint past the 49th gives way: ours keeps other workloads off
    labels = {k: v for k, v in spot.labels.items() if not k.startswith(AKS_PREFIX) and k != FALLBACK_LABEL}
    labels = dict(list(labels.items())[:MAX_LABELS - 1])
    labels[FALLBACK_LABEL] = spot.name
    spec = spot.model_dump()
    spec.update(name=fallback_pool_name(spot.name, windows=spot.os == "Windows"), spot=None, autoscale=None,
                count=count, taints=taints, labels=labels)
    return Pool.model_validate(spec)


def eviction_source(spot_pool: str) -> OperationSource:
    """The source of an operation that adds on-demand capacity for evicted nodes of `spot_pool`."""
    return OperationSource.reaction(SPOT_FALLBACK, spot_pool)


def scale_down_source(request: ClusterRequest, fallback: str) -> OperationSource:
    """The source of the sweeper's scale-down of fallback pool `fallback`: names the spot pool it stands in for."""
    pool = next((p for p in request.user_pools if p.name == fallback), None)
    return OperationSource.reaction(FALLBACK_SCALE_DOWN, pool.labels.get(FALLBACK_LABEL, "") if pool else "")


def fallback_bound(view: ClusterView, spot: Pool) -> int:
    """The most nodes a fallback may have: maxNodesPerPool, and no more than its spot pool may have."""
    return min(view.reactions.max_nodes_per_pool, spot.max_nodes, AKS_MAX_NODES_PER_POOL)


def effective_bound(view: ClusterView, spot: Pool, left: Room) -> str:
    """The bound a fallback's target was held to, as the pressure reaction says it: the smallest of
    maxNodesPerPool, the spot pool's own maximum and the extra-node room above the request's 0 nodes."""
    return (f"bound {min(fallback_bound(view, spot), left.nodes)}: maxNodesPerPool "
            f"{view.reactions.max_nodes_per_pool}, pool '{spot.name}' at most {spot.max_nodes}, {left.bound} "
            f"{left.nodes} above 0")


def on_eviction(view: ClusterView, history: Sequence[PastReaction], now: datetime, *, key: tuple[str, str],
                pool: str, node: str | None, what: str) -> Decision:
    """One node of spot pool `pool` is being (or was) evicted; `what` says how we know, for the reason."""
    spot = view.pool(pool)
    if spot is None:
        return nothing(f"{what} on pool '{pool}', which is not in the cluster's request (unknown pool)")
    if spot.spot is None:
        return nothing(f"{what} on pool '{pool}', which is not a spot pool")
    if view.reactions.spot_fallback == "none":
        return nothing(f"{what} on spot pool '{pool}'; spotFallback is 'none', so no on-demand capacity is added")
    name = fallback_pool_name(pool, windows=spot.os == "Windows")
    if view.pool(name) is not None:
        return nothing(f"{what} on spot pool '{pool}', but its fallback name '{name}' is a requested pool; "
                       "rename one of them to enable the fallback")
    seen = PastReaction(now, key, SPOT_FALLBACK, name, node=node)
    counted = next((h for h in history if node and h.node == node and h.rule == SPOT_FALLBACK), None)
    if counted is not None:
        return nothing(f"{what}: node {node} was already counted at {counted.at.isoformat()}", seen)
    state = view.state(name)
    current = planned(history, _FALLBACK_RULES, name)
    if current is None:
        current = state.count if state else 0
    # the request asked for 0 fallback nodes; a fallback node costs what the spot pool's VM size costs on demand
    bound, left = fallback_bound(view, spot), room(view, history, name, priced_as=pool)
    target = min(current + 1, bound, left.nodes)
    if target <= current and left.nodes < bound:
        return refused(view, history, now, key=key, pool=name, bound=left.bound, why=left.why,
                       what=f"{what} on spot pool '{pool}': fallback pool '{name}' has {current} nodes", records=[seen])
    if target <= current:
        return nothing(f"{what} on spot pool '{pool}'; fallback pool '{name}' is at its bound of {bound} nodes "
                       f"(maxNodesPerPool {view.reactions.max_nodes_per_pool}, pool '{pool}' at most "
                       f"{spot.max_nodes})", seen)
    record = PastReaction(now, key, SPOT_FALLBACK, name, target, node, base=0)
    exists = state is not None or planned(history, _FALLBACK_RULES, name) is not None
    reason = (f"{what} on spot pool '{pool}': {'scale' if exists else 'create'} on-demand fallback '{name}' to "
              f"{target} node{'s' if target != 1 else ''} ({effective_bound(view, spot, left)})")
    action = ScalePool(name, target, reason) if exists else CreatePool(fallback_pool(spot, target), reason)
    return Decision((action,), (record,))  # `aksvend.spot.replaced` goes out when the operation succeeds


def sweep(view: ClusterView, history: Sequence[PastReaction], now: datetime,
          counts: Mapping[str, int | None] | None = None) -> Decision:
    """Scale each fallback with nodes back to 0 once no eviction of its spot pool was seen for the cooldown
    (an eviction exactly `cooldownSeconds` ago no longer holds it). Called by the sweeper timer.

    `counts`: the fallbacks' node counts as ARM reports them (`to_read` says which, `_in_arm` how they decide);
    without them, the history and the request are trusted."""
    cooldown = timedelta(seconds=view.reactions.cooldown_seconds)
    actions, records = [], []
    waiting: list[str] = []
    for spot in (p for p in view.pools if p.spot is not None):
        name = fallback_pool_name(spot.name, windows=spot.os == "Windows")
        if view.pool(name) is not None:
            continue  # a requested pool, not ours
        state, asked = view.state(name), planned(history, _FALLBACK_RULES, name)
        current = asked if asked is not None else (state.count if state else 0)
        last = last_of(history, SPOT_FALLBACK, name)
        found = _in_arm(view, name, current, counts, waiting)
        if found is None or found[0] <= 0:
            continue
        current, seen = found
        if last is not None and now - last.at < cooldown:
            waiting.append(f"'{name}' until {(last.at + cooldown).isoformat()}")
            continue
        since = f"since {last.at.isoformat()}" if last else "in the recent history"
        reason = (f"no eviction of spot pool '{spot.name}' {since} (cooldown {view.reactions.cooldown_seconds} s): "
                  f"scale on-demand fallback '{name}' from {seen} to 0")
        down = last_of(history, FALLBACK_SCALE_DOWN, name)  # a scale-down again after one asked for: a new key
        key = (f"sweep|{view.cluster_id.lower()}|{name}|{last.at.isoformat() if last else 'none'}"
               + (f"|{down.at.isoformat()}" if down and (not last or down.at > last.at) else ""))
        actions.append(ScalePool(name, 0, reason, key=key))
        records.append(PastReaction(now, None, FALLBACK_SCALE_DOWN, name, 0, base=0))
    if not actions:
        held = f"; holding {', '.join(waiting)}" if waiting else ""
        return nothing(f"no on-demand fallback to scale down{held}")
    return Decision(tuple(actions), tuple(records))


def _in_arm(view: ClusterView, name: str, current: int, counts: Mapping[str, int | None] | None,
            waiting: list[str]) -> tuple[int, str] | None:
    """The fallback's count to decide on and how it is known; None: skip it this round (`waiting` says why).

    A count read from ARM (0 for a pool ARM does not have; None: the read failed, skipped) is what the decision rests
    on: nodes in ARM are scaled down even when the history says a scale-down was asked for already (it failed, or
    someone scaled the pool up), unless an operation that may be that scale-down is still queued; a pool ARM shows
    empty while the request still asks for nodes is set to 0 in the request only once nothing is queued (a queued
    create or scale-out would bring the nodes, which the next round then sees)."""
    if counts is None or name not in counts:
        return current, str(current)
    in_arm = counts[name]
    if in_arm is None:
        waiting.append(f"'{name}' (its node count could not be read from ARM this round)")
        return None
    if in_arm == 0 and current == 0:
        return None
    if view.operation_running and (in_arm == 0 or current == 0):
        waiting.append(f"'{name}' ({in_arm} nodes in ARM, {current} asked for; an operation is queued)")
        return None
    return max(in_arm, current), f"{in_arm} in ARM"


def to_read(view: ClusterView, history: Sequence[PastReaction], now: datetime) -> list[str]:
    """The fallbacks whose node count the sweeper reads from ARM before `sweep` (one GET each): those past their
    cooldown that have, or are asked to have, nodes. A fallback asked to have none is not read every minute: if ARM
    still has nodes there (a failed scale-down), the drift check sees it (docs/drift.md)."""
    cooldown = timedelta(seconds=view.reactions.cooldown_seconds)
    names = []
    for spot in (p for p in view.pools if p.spot is not None):
        name = fallback_pool_name(spot.name, windows=spot.os == "Windows")
        state, last = view.state(name), last_of(history, SPOT_FALLBACK, name)
        if state is None or view.pool(name) is not None or (last is not None and now - last.at < cooldown):
            continue
        asked = planned(history, _FALLBACK_RULES, name)
        if (asked if asked is not None else state.count) > 0:
            names.append(name)
    return names
