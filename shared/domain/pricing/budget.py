"""Budgets (docs/cost.md): the request's `budget.monthlyMax` and the caller policy's budget, against the estimate
at every pool's maximum. The pool named in a refusal is the first, in request order, that takes the running
total (the cluster's fixed costs, then each pool at its maximum) past the budget; a change's own pool is counted
last, so that a change over budget is refused naming the pool it changes."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from shared.domain.pricing.estimate import Estimate, estimate, pool_cost
from shared.domain.pricing.table import PriceTable
from shared.domain.request import ClusterRequest
from shared.domain.violations import Violation, pointer

BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
BUDGETS = "aksvend docs/cost.md, \"Budgets\""


def effective_budget(r: ClusterRequest, policy_budget: float | None) -> tuple[float, str] | None:
    """The lower of the request's budget and the policy's, with where it comes from; None when neither sets one."""
    found = [(b, w) for b, w in ((r.budget.monthly_max if r.budget else None, "budget.monthlyMax"),
                                 (policy_budget, "the caller policy's monthlyBudget")) if b is not None]
    return min(found) if found else None


def over_budget(r: ClusterRequest, table: PriceTable, policy_budget: float | None,
                changed: str | None = None) -> Iterator[Violation]:
    """`changed`: the pool a change touches (None: a create), counted last."""
    budget = effective_budget(r, policy_budget)
    if budget is None:
        return
    limit, where = budget
    cost = estimate(r, table)
    if cost.monthly_max <= limit:
        return
    running = cost.fixed
    order = sorted(enumerate(cost.pools), key=lambda at: at[1].pool == changed)  # stable: request order else
    for index, line in order:
        before = running
        running += line.monthly(line.max_count, cost.hours)
        if running > limit:
            path = pointer("systemPool") if index == 0 else pointer("userPools", index - 1)
            yield Violation(BUDGET_EXCEEDED, path, _message(cost, line.pool, line.max_count, before, running,
                                                              limit, where), source=BUDGETS)
            return
    yield Violation(BUDGET_EXCEEDED, "/budget/monthlyMax", _message(cost, None, 0, 0, cost.fixed, limit, where),
                    source=BUDGETS)


def _message(cost: Estimate, pool: str | None, nodes: int, before: float, after: float, limit: float,
             where: str) -> str:
    total = f"the estimate at every pool's maximum is {cost.monthly_max:,.2f} {cost.currency}/month"
    if pool is None:
        return f"{total}, over {where} {limit:,.2f}: the cluster's fixed costs alone are {after:,.2f}"
    return (f"{total}, over {where} {limit:,.2f} {cost.currency}: pool '{pool}' at {nodes} nodes takes it from "
            f"{before:,.2f} to {after:,.2f} (prices as of {cost.as_of})")


@dataclass(frozen=True, slots=True)
class BudgetView:
    """What event reactions need of a cluster's budget (shared/domain/events/bounds.py `room`): the budget, what
    is left of it with the desired request at every pool's maximum, and per pool a node's on-demand price a
    month (a spot pool's is its fallback's: the price of its VM size on demand) and its maximum now."""

    limit: float
    currency: str
    slack: float
    node_monthly: Mapping[str, float]
    desired_max: Mapping[str, int]

    def nodes_above(self, pool: str, base: int, priced_as: str | None = None) -> int | None:
        """The most nodes above `base` the budget lets `pool` have (priced as pool `priced_as`); None: unpriced."""
        price = self.node_monthly.get(priced_as or pool)
        if not price:
            return None
        return max(0, self.desired_max.get(pool, 0) - base + math.floor(max(0.0, self.slack) / price))


def budget_view(r: ClusterRequest, table: PriceTable) -> BudgetView | None:
    """The request's budget for reactions; None when it sets none."""
    if r.budget is None:
        return None
    cost = estimate(r, table)
    on_demand = {p.name: p.model_copy(update={"spot": None}) for p in r.pools}
    prices = {name: pool_cost(p, r.location, table) for name, p in on_demand.items()}
    return BudgetView(r.budget.monthly_max, cost.currency, r.budget.monthly_max - cost.monthly_max,
                      MappingProxyType({n: c.monthly(1, cost.hours) for n, c in prices.items()
                                        if c.node_hourly is not None}),
                      MappingProxyType({p.name: p.max_nodes for p in r.pools}))
