"""Reactions stop at the request's `budget.monthlyMax` (shared/domain/events/bounds.py `room`, docs/cost.md): a spot
fallback node is priced at the spot pool's VM size on demand, a pressure raise at the pool's own price, and past the
budget the reaction is refused with an `aksvend.reaction.refused` notice naming the bound `budget`."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.events import REFUSED, react
from tests.unit.test_reaction_bounds import bounded
from tests.unit.test_reactions import NOW, pressure, run, view

# The docs/design.md request (tests/requests.py PAYMENTS) at every pool's maximum in westeurope, from the shipped
# table: system 3 x 191.84 + apps 10 x 360.03 + gpu 2 x 3,241.20 + batch 20 x (spot 0.0922 x 730 + 23.65) + win1
# 2 x 353.03 + Standard tier 73 + 1 private endpoint 7.30 + load balancer 18.25 = 13,281.98 USD a month.
AT_MAX = 13_281.98
D8S_ON_DEMAND = 360.034  # 0.4608 x 730 + 23.65 (P10): a batch fallback node a month
D4S_WINDOWS = 353.026  # (0.2304 + 4 x 0.046 x 1.2) x 730 + 23.65


def budgeted(monthly_max: float):
    return bounded(view({"/budget": {"monthlyMax": monthly_max}}), extra_nodes_per_pool=100,
                   extra_nodes_per_cluster=100, reactions_per_pool=40, reactions_per_cluster=40)


def test_the_spot_fallback_adds_what_the_budget_pays_for_and_is_refused_after():
    v = budgeted(AT_MAX + 2.5 * D8S_ON_DEMAND)
    decisions, _ = run([evicted_node(i) for i in range(3)], v)
    assert [d.acts for d in decisions] == [True, True, False]
    refused = decisions[2]
    assert "refused, budget: the cluster may cost at most 14,182" in refused.actions[0].reason
    assert [(n.type, n.bound, n.pool) for n in refused.notices] == [(REFUSED, "budget", "batchod")]


def test_a_pressure_raise_is_held_to_the_budget_and_refused_when_nothing_is_left():
    v = budgeted(AT_MAX + 3.2 * D4S_WINDOWS)
    raised = react(pressure("win1", 1000), v, [], NOW)
    assert raised.actions[0].count == 5 and "budget" in raised.actions[0].reason  # 2 + the 3 nodes it pays for
    broke = budgeted(AT_MAX + 0.5 * D4S_WINDOWS)  # not one more node
    refused = react(pressure("win1", 10), broke, [], NOW + timedelta(minutes=1))
    assert not refused.acts and refused.notices[0].bound == "budget"


def test_without_a_budget_the_other_bounds_decide():
    v = bounded(view(), extra_nodes_per_pool=100, extra_nodes_per_cluster=100)
    assert v.budget is None
    assert react(pressure("win1", 1000), v, [], NOW).actions[0].count == 50  # maxNodesPerPool


def evicted_node(i: int):
    from tests.unit.test_reactions import evicted
    return evicted(i)
