"""The bounds on reactions (shared/domain/events/bounds.py), the decay of pressure raises (decay.py), GPU pools and
`scaleOnPressure`, over the pure policy; and the history's trim, which keeps what the buckets are replayed from.
The attacks themselves, through the HTTP API, are in test_reaction_bounds_http.py."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from shared.domain.events import REFUSED, NoAction, PastReaction, PoolState, ScalePool, decay, react, sweep_all
from shared.domain.rules import check
from shared.services.events.store import MAX_HISTORY, trim
from tests.requests import PAYMENTS, SUB, patched
from tests.unit.test_reactions import NOW, evicted, observe, pressure, run, view


def bounded(v, **bounds):
    """The view with these `reactions.bounds` (snake_case)."""
    return dataclasses.replace(v, reactions=v.reactions.model_copy(
        update={"bounds": v.reactions.bounds.model_copy(update=bounds)}))


# ---- token buckets ------------------------------------------------------------------------------------------------

def test_the_pool_bucket_refuses_past_its_size_and_gives_one_token_back_per_refill_period():
    v = bounded(view(), reactions_per_pool=3, refill_seconds=60, extra_nodes_per_pool=100,
                extra_nodes_per_cluster=100)
    decisions, history = run([evicted(i) for i in range(4)], v)
    assert [d.acts for d in decisions] == [True, True, True, False]
    assert "refused, reactionsPerPool" in decisions[3].actions[0].reason
    assert [n.type for n in decisions[3].notices] == [REFUSED] and decisions[3].notices[0].bound == "reactionsPerPool"
    assert decisions[3].record[0].target is None  # the refused eviction asks for nothing, but counts as seen
    early = react(evicted(10), v, history, NOW + timedelta(seconds=61))  # the first token came back at NOW + 60
    assert early.acts
    history = [*history, *early.record]
    assert not react(evicted(11), v, history, NOW + timedelta(seconds=62)).acts
    later = react(evicted(11), v, history, NOW + timedelta(seconds=121))
    assert later.acts and later.actions[0].count == 5


def test_the_cluster_bucket_is_shared_by_every_pool():
    v = observe(bounded(view(), reactions_per_cluster=2, extra_nodes_per_cluster=100), PoolState("apps", 10, 3, 10))
    decisions, _ = run([evicted(1), pressure("apps", 10), pressure("win1", 10, "p2")], v)
    assert [d.acts for d in decisions] == [True, True, False]
    assert "reactionsPerCluster" in decisions[2].actions[0].reason


def test_a_refusal_notice_goes_out_at_most_once_per_pool_and_refill_period():
    v = bounded(view(), reactions_per_pool=1, refill_seconds=600)
    decisions, _ = run([evicted(i) for i in range(5)], v, step=timedelta(seconds=100))
    assert [len(d.notices) for d in decisions] == [0, 1, 0, 0, 0]


def test_the_sweeper_takes_no_token():
    v = observe(bounded(view(), reactions_per_pool=1), PoolState("batchod", 1))
    _, history = run([evicted(1)], v)
    swept = sweep_all(v, history, NOW + timedelta(hours=1))
    assert swept.acts and all(r.event_key is None for r in swept.record)


# ---- extra nodes --------------------------------------------------------------------------------------------------

def test_pressure_raises_at_most_the_extra_nodes_per_pool_above_the_request():
    decision = react(pressure("win1", 100_000), view(), [], NOW)
    action = decision.actions[0]
    assert isinstance(action, ScalePool) and action.count == 12  # 2 requested + extraNodesPerPool 10, not 50
    assert decision.record[0].base == 2
    at_ceiling = observe(view(), PoolState("win1", 12))
    refused = react(pressure("win1", 10, "p2"), at_ceiling, decision.record, NOW + timedelta(hours=1))
    assert not refused.acts and "refused, extraNodesPerPool" in refused.actions[0].reason
    assert refused.notices[0].pool == "win1"


def test_the_extra_nodes_per_cluster_count_every_pool():
    v = bounded(view(), extra_nodes_per_cluster=12, reactions_per_pool=40, reactions_per_cluster=40)
    decisions, history = run([evicted(i) for i in range(10)], v)
    assert all(d.acts for d in decisions)
    raised = react(pressure("win1", 100), v, history, NOW + timedelta(minutes=1))
    assert raised.actions[0].count == 4  # 2 + the 2 nodes left of the cluster's 12
    assert "extraNodesPerCluster" in raised.actions[0].reason


def test_a_spot_fallback_counts_from_zero_and_its_scale_down_gives_the_nodes_back():
    v = bounded(view(), extra_nodes_per_pool=2)
    decisions, history = run([evicted(i) for i in range(3)], v)
    assert [d.acts for d in decisions] == [True, True, False]
    swept = sweep_all(observe(v, PoolState("batchod", 2)), history, NOW + timedelta(hours=1))
    history = [*history, *swept.record]
    assert react(evicted(9), v, history, NOW + timedelta(hours=2)).acts


def test_a_fallback_reason_names_the_bound_that_holds_it_not_the_loosest():
    """maxNodesPerPool 50 and the spot pool's maximum 20 are looser than extraNodesPerPool: the reason gives the
    bound the target was held to, as the pressure reason does."""
    first = react(evicted(1), bounded(view(), extra_nodes_per_pool=3), [], NOW).actions[0].reason
    assert first.endswith("to 1 node (bound 3: maxNodesPerPool 50, pool 'batch' at most 20, extraNodesPerPool 3 "
                          "above 0)"), first
    loose = react(evicted(1), bounded(view(), extra_nodes_per_pool=100, extra_nodes_per_cluster=100), [], NOW)
    assert "(bound 20: " in loose.actions[0].reason  # the spot pool's own maximum is the smallest
    shared = react(evicted(1), bounded(view(), extra_nodes_per_cluster=4), [], NOW).actions[0].reason
    assert "(bound 4: " in shared and "extraNodesPerCluster 4 above 0" in shared, shared


# ---- GPU pools ----------------------------------------------------------------------------------------------------

def test_gpu_pools_are_raised_by_pressure_only_when_they_opt_in():
    assert "GPU pool" in react(pressure("gpu", 30), view(), [], NOW).actions[0].reason
    opted = react(pressure("gpu", 30), view({"/userPools/1/scaleOnPressure": True}), [], NOW)
    assert opted.acts and opted.actions[0].count == 5
    out = react(pressure("win1", 30), view({"/userPools/3/scaleOnPressure": False}), [], NOW)
    assert not out.acts and "scaleOnPressure false" in out.actions[0].reason


# ---- decay --------------------------------------------------------------------------------------------------------

def test_a_raise_decays_to_the_requested_value_after_the_quiet_period_and_pressure_holds_it():
    v = bounded(view(), decay_seconds=900)
    first = react(pressure("win1", 30), v, [], NOW)
    raised = observe(v, PoolState("win1", 5))
    held = react(pressure("win1", 30, "p2"), raised, first.record, NOW + timedelta(seconds=300))  # cooldown: no raise
    history = [*first.record, *held.record]
    assert not decay(raised, history, NOW + timedelta(seconds=1199)).acts
    lowered = decay(raised, history, NOW + timedelta(seconds=1200))
    action = lowered.actions[0]
    assert isinstance(action, ScalePool) and (action.pool, action.count) == ("win1", 2)
    assert action.key.startswith("decay|")
    assert not decay(observe(v, PoolState("win1", 2)), [*history, *lowered.record], NOW + timedelta(hours=5)).acts


def test_an_autoscale_maximum_decays_and_a_second_raise_keeps_the_first_base():
    v = observe(view(), PoolState("apps", 10, 3, 10))
    first = react(pressure("apps", 20), v, [], NOW)
    assert first.actions[0].max_count == 12 and first.record[0].base == 10
    v2 = observe(view(), PoolState("apps", 12, 3, 12))
    second = react(pressure("apps", 20, "p2"), v2, first.record, NOW + timedelta(hours=1))
    assert second.actions[0].max_count == 14 and second.record[0].base == 10
    v3 = observe(view(), PoolState("apps", 14, 3, 14))
    action = decay(v3, [*first.record, *second.record], NOW + timedelta(hours=3)).actions[0]
    assert isinstance(action, ScalePool) and (action.count, action.max_count) == (None, 10)


def test_a_pool_changed_by_its_caller_after_a_raise_is_not_lowered():
    first = react(pressure("win1", 30), view(), [], NOW)
    changed = observe(view(), PoolState("win1", 8))  # the caller set 8 since
    settled = decay(changed, first.record, NOW + timedelta(hours=3))
    assert not settled.acts and isinstance(settled.actions[0], NoAction)
    assert [(r.target, r.base) for r in settled.record] == [(8, 8)]
    assert not decay(changed, [*first.record, *settled.record], NOW + timedelta(hours=4)).record


# ---- the request and the history ----------------------------------------------------------------------------------

def test_the_bounds_are_part_of_the_request_within_the_services_ceilings():
    request, _ = check(patched(PAYMENTS, {"/reactions/bounds": {"reactionsPerPool": 4}}), default_subscription_id=SUB)
    assert request is not None and request.reactions.bounds.reactions_per_pool == 4
    assert request.reactions.bounds.extra_nodes_per_pool == 10  # the documented default
    request, violations = check(patched(PAYMENTS, {"/reactions/bounds": {"reactionsPerPool": 41}}),
                                default_subscription_id=SUB)
    assert request is None and [v.path for v in violations] == ["/reactions/bounds/reactionsPerPool"]


def test_the_trim_keeps_acting_records_ahead_of_a_flood_of_records_that_decided_nothing():
    acting = [PastReaction(NOW + timedelta(seconds=i), ("s", f"a{i}"), "spot-fallback", "batchod", i + 1, base=0)
              for i in range(10)]
    flood = [PastReaction(NOW + timedelta(minutes=1, seconds=i), ("s", f"f{i}"), "pool-pressure", "apps")
             for i in range(300)]
    kept = trim([*acting, *flood])
    assert len(kept) <= MAX_HISTORY and all(r in kept for r in acting)
