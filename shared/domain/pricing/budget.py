"""Budgets (docs/cost.md): the request's `budget.monthlyMax` and the caller policy's budget, against the estimate
at every pool's maximum. The pool named in a refusal is the first, in request order, that takes the running
total (the cluster's fixed costs, then each pool at its maximum) past the budget."""

from __future__ import annotations

from collections.abc import Iterator

from shared.domain.pricing.estimate import Estimate, estimate
from shared.domain.pricing.table import PriceTable
from shared.domain.request import ClusterRequest
from shared.domain.violations import CONTRACT, Violation, pointer

BUDGET_EXCEEDED = "BUDGET_EXCEEDED"


def effective_budget(r: ClusterRequest, policy_budget: float | None) -> tuple[float, str] | None:
    """The lower of the request's budget and the policy's, with where it comes from; None when neither sets one."""
    found = [(b, w) for b, w in ((r.budget.monthly_max if r.budget else None, "budget.monthlyMax"),
                                 (policy_budget, "the caller policy's monthlyBudget")) if b is not None]
    return min(found) if found else None


def over_budget(r: ClusterRequest, table: PriceTable, policy_budget: float | None) -> Iterator[Violation]:
    budget = effective_budget(r, policy_budget)
    if budget is None:
        return
    limit, where = budget
    cost = estimate(r, table)
    if cost.monthly_max <= limit:
        return
    running = cost.fixed
    for index, line in enumerate(cost.pools):
        before = running
        running += line.monthly(line.max_count, cost.hours)
        if running > limit:
            path = pointer("systemPool") if index == 0 else pointer("userPools", index - 1)
            yield Violation(BUDGET_EXCEEDED, path, _message(cost, line.pool, line.max_count, before, running,
                                                              limit, where), source=CONTRACT)
            return
    yield Violation(BUDGET_EXCEEDED, "/budget/monthlyMax", _message(cost, None, 0, 0, cost.fixed, limit, where),
                    source=CONTRACT)


def _message(cost: Estimate, pool: str | None, nodes: int, before: float, after: float, limit: float,
             where: str) -> str:
    total = f"the estimate at every pool's maximum is {cost.monthly_max:,.2f} {cost.currency}/month"
    if pool is None:
        return f"{total}, over {where} {limit:,.2f}: the cluster's fixed costs alone are {after:,.2f}"
    return (f"{total}, over {where} {limit:,.2f} {cost.currency}: pool '{pool}' at {nodes} nodes takes it from "
            f"{before:,.2f} to {after:,.2f} (prices as of {cost.as_of})")
