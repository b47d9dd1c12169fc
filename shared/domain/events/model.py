"""What the reaction policy reads (a cluster view, past reactions) and what it decides (actions, notices).

All frozen. `PastReaction` is flat on purpose: the service stores it as a table row per decision and hands the
recent ones back to the policy, which derives from them what is already planned (so two evictions that arrive
before the first scale-out lands ask for 1 and then 2 nodes, not 1 twice) and when a rule last fired (cooldowns).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shared.domain import arm
from shared.domain.pricing import shipped
from shared.domain.pricing.budget import BudgetView, budget_view
from shared.domain.request import ClusterRequest, Pool, Reactions

# The rule a past reaction came from: "spot-fallback", "fallback-scale-down", "pool-pressure", "upgrade", "notice",
# "ignored"; a string, not a closed set, so that a new reaction names its own rule in its own module.
Rule = str
UpgradeScope = Literal["patch", "minor"]
AKS_MAX_NODES_PER_POOL = 1000


@dataclass(frozen=True, slots=True)
class PoolState:
    """A pool as it is now (observed), including pools aksvend added itself such as spot fallbacks."""

    name: str
    count: int
    min_count: int | None = None
    max_count: int | None = None  # None: not autoscaled

    @property
    def autoscaled(self) -> bool:
        return self.max_count is not None

    @classmethod
    def of(cls, pool: Pool) -> PoolState:
        if pool.autoscale:
            return cls(pool.name, pool.count, pool.autoscale.min, pool.autoscale.max)
        return cls(pool.name, pool.count)


@dataclass(frozen=True, slots=True)
class OfferedVersion:
    """One upgrade ARM's upgrade profile offers the cluster (`controlPlaneProfile.upgrades[]`)."""

    version: str  # "1.33.5"
    preview: bool = False


@dataclass(frozen=True, slots=True)
class ClusterView:
    """What aksvend knows of one cluster: its ids, the request's pools and reactions, and observed state."""

    cluster_id: str
    node_resource_group: str
    kubernetes_version: str  # the observed current version, e.g. "1.33.2"
    pools: tuple[Pool, ...]  # the request's pools, system pool first
    reactions: Reactions
    observed: tuple[PoolState, ...] = ()
    operation_running: bool = False  # an operation runs or waits on the cluster; the engine serializes them
    upgrades: tuple[OfferedVersion, ...] | None = None  # what ARM's upgrade profile offers; None: not read
    budget: BudgetView | None = None  # the request's monthly budget, for reactions (bounds.py `room`); None: none

    @classmethod
    def from_request(cls, request: ClusterRequest, *, observed: Iterable[PoolState] | None = None,
                     kubernetes_version: str | None = None, node_resource_group: str | None = None,
                     operation_running: bool = False,
                     upgrades: Sequence[OfferedVersion] | None = None) -> ClusterView:
        """A view from a request; what is not given defaults to the request (pools as requested, AKS's default
        node resource group `MC_<rg>_<name>_<location>`)."""
        pools = tuple(request.pools)
        return cls(
            cluster_id=arm.ids(request)["cluster"],
            node_resource_group=node_resource_group or default_node_resource_group(request),
            kubernetes_version=kubernetes_version or request.kubernetes_version,
            pools=pools,
            reactions=request.reactions,
            observed=tuple(observed) if observed is not None else tuple(PoolState.of(p) for p in pools),
            operation_running=operation_running,
            upgrades=tuple(upgrades) if upgrades is not None else None,
            budget=budget_view(request, shipped()),
        )

    def pool(self, name: str) -> Pool | None:
        """The requested pool of that name."""
        return next((p for p in self.pools if p.name == name), None)

    def state(self, name: str) -> PoolState | None:
        """The observed pool of that name."""
        return next((s for s in self.observed if s.name == name), None)


def default_node_resource_group(request: ClusterRequest) -> str:
    """AKS's default node resource group, `MC_<rg>_<cluster>_<location>`."""
    return f"MC_{request.resource_group}_{request.name}_{request.location}"


MAX_PLAIN_KEY_CHARS = 200


def history_key(key: tuple[str, str]) -> tuple[str, str]:
    """An event key as the reaction history keeps it: short keys as they are, long ones as ("sha256", digest), so
    that a record's size never depends on what a sender put in `source` or `id`. Idempotent."""
    if len(key[0]) + len(key[1]) <= MAX_PLAIN_KEY_CHARS:
        return key
    return "sha256", hashlib.sha256(f"{key[0]}\n{key[1]}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PastReaction:
    at: datetime
    event_key: tuple[str, str] | None  # None for the sweeper's decisions
    rule: Rule
    pool: str | None = None
    target: int | None = None  # the count (or autoscale max, for pressure on an autoscaled pool) asked for
    node: str | None = None  # the evicted node, so that a preempt notice and the later eviction count once
    version: str | None = None  # the Kubernetes version an upgrade asked for
    base: int | None = None  # with `target`: what the request asked for before reactions added nodes (bounds.py)


@dataclass(frozen=True, slots=True)
class ScalePool:
    pool: str
    count: int | None  # None: the autoscaler keeps choosing the count
    reason: str
    max_count: int | None = None  # a new autoscale maximum
    key: str = ""  # idempotency key for the engine operation

    @property
    def pool_name(self) -> str:
        return self.pool


@dataclass(frozen=True, slots=True)
class CreatePool:
    pool: Pool
    reason: str
    key: str = ""

    @property
    def pool_name(self) -> str:
        return self.pool.name


@dataclass(frozen=True, slots=True)
class UpgradeCluster:
    """Control plane first, then each pool (the engine's order)."""

    version: str
    scope: UpgradeScope
    reason: str
    key: str = ""

    @property
    def pool_name(self) -> None:  # the whole cluster
        return None


@dataclass(frozen=True, slots=True)
class NoAction:
    reason: str


Action = ScalePool | CreatePool | UpgradeCluster | NoAction


@dataclass(frozen=True, slots=True)
class Notice:
    """An outbound event to publish (a CloudEvent type from docs/events.md) and what it says."""

    type: str
    message: str
    bound: str | None = None  # the bound that refused a reaction (`aksvend.reaction.refused`), e.g. "reactionsPerPool"
    pool: str | None = None  # the pool it is about, if one


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do; `record` is what the caller appends to the cluster's reaction history."""

    actions: tuple[Action, ...]
    record: tuple[PastReaction, ...] = ()
    notices: tuple[Notice, ...] = field(default=())

    @property
    def acts(self) -> bool:
        return any(not isinstance(a, NoAction) for a in self.actions)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(a.reason for a in self.actions)


def nothing(reason: str, *record: PastReaction, notices: Sequence[Notice] = ()) -> Decision:
    return Decision((NoAction(reason),), tuple(record), tuple(notices))


def last_of(history: Sequence[PastReaction], rule: Rule, pool: str, *,
            with_target: bool = False) -> PastReaction | None:
    """The latest past reaction of that rule on that pool (only those that asked for a target, if told)."""
    return _latest(h for h in history
                   if h.rule == rule and h.pool == pool and (h.target is not None or not with_target))


def planned(history: Sequence[PastReaction], rules: Sequence[Rule], pool: str) -> int | None:
    """The latest target asked for that pool by one of the rules: what the pool will be once queued operations
    have run. None when the history says nothing (the observed state is then the truth)."""
    latest = _latest(h for h in history if h.rule in rules and h.pool == pool and h.target is not None)
    return latest.target if latest else None


def _latest(reactions: Iterable[PastReaction]) -> PastReaction | None:
    """The latest by time; of equal times, the one appended last."""
    ranked = max(enumerate(reactions), key=lambda pair: (pair[1].at, pair[0]), default=None)
    return ranked[1] if ranked else None
