"""Bounds on what event reactions may do without a human (docs/events.md, "Bounds"); the request's
`reactions.bounds` sets them, within the hard ceilings of its model (shared/domain/request.py `ReactionBounds`).

- **Token buckets**, one per pool and one per cluster: `reactionsPerPool` / `reactionsPerCluster` tokens, one back
  every `refillSeconds`. A reaction that asks for something (a pool target or a version) takes one token from the
  bucket of its pool and from the cluster's; with either empty, it is refused. The sweeper's scale-downs and decays
  take none (they only give back). No state of its own: the buckets are replayed from the cluster's reaction
  history (the acting records, which the store keeps first when it trims; a bucket is full again
  `size * refillSeconds` after its last reaction, so the records of that span are enough).
- **Extra nodes**: a reaction may not take a pool more than `extraNodesPerPool` nodes above what the request asked
  for (its `base`: 0 for a spot fallback, the value before the first raise for pressure), nor the cluster more than
  `extraNodesPerCluster` above it in all. A reaction asks for at most what is left (`room`); with nothing left it
  is refused.
- **Budget**: with a `budget.monthlyMax` in the request, a reaction may not take the cluster's estimate at every
  pool's maximum past it (docs/cost.md): `room` converts what is left of the budget into nodes at the pool's
  on-demand price (a fallback pool's: its spot pool's VM size on demand) and returns the smallest bound, by name.
- **Refusals** are a `NoAction` with the reason and, at most once per pool and `refillSeconds`, a notice
  `aksvend.reaction.refused` that names the bound; a `refused` record in the history says when it was sent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain.events.model import ClusterView, Decision, NoAction, Notice, PastReaction, nothing
from shared.domain.request import ReactionBounds

REFUSED = "aksvend.reaction.refused"
REFUSAL_RULE = "refused"
PER_POOL = "reactionsPerPool"
PER_CLUSTER = "reactionsPerCluster"
EXTRA_PER_POOL = "extraNodesPerPool"
EXTRA_PER_CLUSTER = "extraNodesPerCluster"
BUDGET = "budget"


def acted(reaction: PastReaction) -> bool:
    """Whether a past reaction took a token: decided on an event (not by the sweeper) and asked for something."""
    return reaction.event_key is not None and (reaction.target is not None or reaction.version is not None)


def _ordered(history: Iterable[PastReaction]) -> list[PastReaction]:
    """By time; of equal times, in the order appended."""
    return [r for _, r in sorted(enumerate(history), key=lambda pair: (pair[1].at, pair[0]))]


def tokens_seconds(history: Sequence[PastReaction], now: datetime, bounds: ReactionBounds, pool: str | None) -> float:
    """The bucket's level at `now`, in seconds of refill (a token is `refillSeconds`; whole seconds stay exact).
    `pool` None: the cluster's bucket, which every acting reaction draws on."""
    size = (bounds.reactions_per_pool if pool is not None else bounds.reactions_per_cluster) * bounds.refill_seconds
    level, last = float(size), None
    for r in _ordered(h for h in history if acted(h) and (pool is None or h.pool == pool)):
        if last is not None:
            level = min(size, level + max(0.0, (r.at - last).total_seconds()))
        level -= bounds.refill_seconds  # may go below 0: a history from before the bounds owes tokens
        last = r.at
    if last is not None:
        level = min(size, level + max(0.0, (now - last).total_seconds()))
    return level


def bucket_refusal(view: ClusterView, history: Sequence[PastReaction], now: datetime,
                   pool: str | None) -> tuple[str, str] | None:
    """(the bound, why) when a reaction on `pool` finds its pool's or the cluster's bucket empty; None if not."""
    bounds = view.reactions.bounds
    for name, scope, size in ((PER_POOL, pool, bounds.reactions_per_pool),
                              (PER_CLUSTER, None, bounds.reactions_per_cluster)):
        if name == PER_POOL and pool is None:
            continue
        level = tokens_seconds(history, now, bounds, scope)
        if level < bounds.refill_seconds:
            wait = math.ceil(bounds.refill_seconds - level)
            where = f"pool '{pool}'" if scope is not None else "the cluster"
            return name, (f"{name}: {where} had its {size} reactions (one more every {bounds.refill_seconds} s); "
                          f"the next in {wait} s")
    return None


def extras(history: Sequence[PastReaction]) -> dict[str, int]:
    """Per pool, the nodes reactions asked for above the request: the latest target minus its base. Records
    without a base (written before the bounds) count none."""
    latest: dict[str, PastReaction] = {}
    for r in _ordered(history):
        if r.pool is not None and r.target is not None:
            latest[r.pool] = r
    return {pool: max(0, r.target - r.base) for pool, r in latest.items()
            if r.target is not None and r.base is not None}


@dataclass(frozen=True, slots=True)
class Room:
    """How many nodes above its base reactions may still ask for a pool, and which bound sets that."""

    nodes: int
    bound: str
    why: str


def room(view: ClusterView, history: Sequence[PastReaction], pool: str, *, base: int = 0,
         priced_as: str | None = None) -> Room:
    """The nodes above its `base` that `pool` may have: `extraNodesPerPool`, what `extraNodesPerCluster` leaves
    after the other pools' extra nodes, and what the budget pays for (at pool `priced_as`'s price)."""
    bounds = view.reactions.bounds
    others = sum(n for p, n in extras(history).items() if p != pool)
    left = max(0, bounds.extra_nodes_per_cluster - others)
    if bounds.extra_nodes_per_pool <= left:
        found = Room(bounds.extra_nodes_per_pool, EXTRA_PER_POOL,
                     f"{EXTRA_PER_POOL}: at most {bounds.extra_nodes_per_pool} nodes above the request")
    else:
        found = Room(left, EXTRA_PER_CLUSTER, f"{EXTRA_PER_CLUSTER}: at most {bounds.extra_nodes_per_cluster} nodes "
                                              f"above the request in all, {others} already added to other pools")
    budget = view.budget
    paid = budget.nodes_above(pool, base, priced_as) if budget is not None else None
    if budget is None or paid is None or paid >= found.nodes:
        return found
    return Room(paid, BUDGET, f"{BUDGET}: the cluster may cost at most {budget.limit:,.2f} {budget.currency} a month "
                              f"and costs up to {budget.limit - budget.slack:,.2f} now; a node of pool "
                              f"'{priced_as or pool}' costs {budget.node_monthly[priced_as or pool]:,.2f}")


def refused(view: ClusterView, history: Sequence[PastReaction], now: datetime, *, key: tuple[str, str],
            pool: str | None, bound: str, why: str, what: str, records: Sequence[PastReaction] = ()) -> Decision:
    """No action past a bound, with a notice naming it (at most one per pool and `refillSeconds`)."""
    reason = f"{what}: refused, {why}"
    mark = PastReaction(now, key, REFUSAL_RULE, pool)
    last = max((r.at for r in history if r.rule == REFUSAL_RULE and r.pool == pool), default=None)
    recent = last is not None and (now - last).total_seconds() < view.reactions.bounds.refill_seconds
    notices = () if recent else (Notice(REFUSED, reason, bound, pool),)
    return nothing(reason, *records, mark, notices=notices)


def within_buckets(decision: Decision, view: ClusterView, history: Sequence[PastReaction], now: datetime,
                   key: tuple[str, str]) -> Decision:
    """The decision, or its refusal when a bucket it would draw on is empty: its records then ask for nothing (the
    event still counts as seen), and a notice names the bound. One token per decision from each bucket."""
    acting = [a for a in decision.actions if not isinstance(a, NoAction)]
    if not acting:
        return decision
    for pool in dict.fromkeys(a.pool_name for a in acting):
        found = bucket_refusal(view, history, now, pool)
        if found is not None:
            bound, why = found
            kept = [dataclasses.replace(r, target=None, version=None, base=None) for r in decision.record]
            return refused(view, history, now, key=key, pool=pool, bound=bound, why=why,
                           what="; ".join(a.reason for a in acting), records=kept)
    return decision
