"""The reaction policy: one test per rule, its edges, and properties (never raises, never beyond the bounds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event as event_
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.events import (
    ClusterView,
    CreatePool,
    Decision,
    Envelope,
    NoAction,
    PastReaction,
    PoolState,
    ScalePool,
    UpgradeCluster,
    fallback_pool,
    fallback_pool_name,
    interpret,
    react,
    sweep,
)
from shared.domain.events.model import OfferedVersion
from shared.domain.events.upgrade import offered_versions
from shared.domain.request import Autoscale, Reactions
from shared.domain.rules import check
from tests.requests import PAYMENTS, SUB, patched

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLUSTER = (f"/subscriptions/{SUB}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerService/"
           "managedClusters/payments-prod")
NODE_RG = "MC_rg-payments-prod_payments-prod_westeurope"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"


def view(patch: dict[str, Any] | None = None, **changes: Any) -> ClusterView:
    """The docs/design.md request (spot pool `batch`, autoscale 0-20; `apps` 5 nodes autoscaled 3-10; `gpu` 2 fixed)."""
    request, violations = check(patched(PAYMENTS, patch or {}), default_subscription_id=SUB)
    assert request is not None, violations
    base = ClusterView.from_request(request, kubernetes_version="1.33.2")
    return dataclasses.replace(base, **changes)


def with_reactions(v: ClusterView, **settings_: Any) -> ClusterView:
    return dataclasses.replace(v, reactions=v.reactions.model_copy(update=settings_))


def observe(v: ClusterView, *states: PoolState) -> ClusterView:
    names = {s.name for s in states}
    return dataclasses.replace(v, observed=tuple(s for s in v.observed if s.name not in names) + states)


def envelope(kind: str, data: Any, event_id: str, source: str = CLUSTER) -> Envelope:
    return Envelope("cloudevents", source, event_id, kind, None, NOW, data)


def evicted(instance: int, pool: str = "batch", node_rg: str = NODE_RG, event_id: str | None = None):
    """SYNTHETIC VirtualMachinePreempted annotation (no official sample exists)."""
    target = (f"/subscriptions/{SUB}/resourceGroups/{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets/"
              f"aks-{pool}-12345678-vmss/virtualMachines/{instance}")
    data = {"resourceInfo": {"properties": {"targetResourceId": target, "annotationName": "VirtualMachinePreempted",
                                            "context": "Platform Initiated", "category": "Unplanned"}}}
    return interpret(envelope("Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated", data,
                              event_id or f"evict-{pool}-{instance}", f"/subscriptions/{SUB}"))


def notice(node: str, pool: str = "batch", event_id: str = "notice-1"):
    return interpret(envelope("aksvend.node.preemptNotice", {"clusterId": CLUSTER, "pool": pool, "node": node},
                              event_id, "aksvend-agent"))


def pressure(pool: str, pending: int, event_id: str = "pressure-1"):
    return interpret(envelope("aksvend.pool.pressure", {"clusterId": CLUSTER, "pool": pool, "pendingPods": pending},
                              event_id, "aksvend-agent"))


def aks(kind: str, data: dict[str, Any], event_id: str = "aks-1", topic: str = CLUSTER):
    return interpret(envelope(f"Microsoft.ContainerService.{kind}", data, event_id, topic))


def new_versions(supported: str, stable: str | None = None, lowest: str | None = None, event_id: str = "v-1"):
    data = {"latestSupportedKubernetesVersion": supported, "latestStableKubernetesVersion": stable,
            "lowestMinorKubernetesVersion": lowest, "latestPreviewKubernetesVersion": "9.99.0"}
    return aks("NewKubernetesVersionAvailable", {k: v for k, v in data.items() if v}, event_id)


def run(events: Sequence[Any], v: ClusterView, history: Sequence[PastReaction] = (), step=timedelta(seconds=1)):
    """React to each event in turn, appending what each decision records, as the service does."""
    history = list(history)
    decisions: list[Decision] = []
    for i, event in enumerate(events):
        decision = react(event, v, history, NOW + i * step)
        history.extend(decision.record)
        decisions.append(decision)
    return decisions, history


def only(decision: Decision):
    assert len(decision.actions) == 1
    assert decision.actions[0].reason
    return decision.actions[0]


# --- spot fallback -------------------------------------------------------------------------------------------------

def test_first_eviction_creates_the_on_demand_fallback_pool_with_one_node():
    action = only(react(evicted(3), view(), [], NOW))
    assert isinstance(action, CreatePool)
    pool = action.pool
    assert (pool.name, pool.count, pool.vm_size, pool.spot, pool.autoscale) == (
        "batchod", 1, "Standard_D8s_v5", None, None)
    assert pool.workload == "batch"
    assert pool.labels["aksvend.io/spot-fallback-for"] == "batch"
    assert "batchod" in action.reason and "evicted" in action.reason
    assert action.key.endswith("|0")


def test_fallback_pool_copies_the_users_labels_and_taints_and_adds_its_own_taint():
    v = view({"/userPools/2/taints": [SPOT_TAINT, "team=data:NoSchedule", "kubernetes.azure.com/other=x:NoExecute"],
              "/userPools/2/labels": {"kubernetes.azure.com/scalesetpriority": "spot", "team": "data"}})
    spot = v.pool("batch")
    assert spot is not None
    fallback = fallback_pool(spot, 4)
    assert fallback.taints == ["team=data:NoSchedule", "aksvend.io/spot-fallback=true:NoSchedule"]
    assert fallback.labels == {"team": "data", "aksvend.io/spot-fallback-for": "batch"}
    assert fallback.spot is None and fallback.count == 4


def test_a_second_eviction_scales_the_existing_fallback_by_one():
    v = observe(view(), PoolState("batchod", 1))
    action = only(react(evicted(4), v, [PastReaction(NOW, ("x", "y"), "spot-fallback", "batchod", 1)], NOW))
    assert action == ScalePool("batchod", 2, action.reason, key=action.key)


def test_three_evictions_before_any_scale_lands_ask_for_one_two_and_three_nodes():
    decisions, _ = run([evicted(1), evicted(2), evicted(3)], view())
    actions = [only(d) for d in decisions]
    assert isinstance(actions[0], CreatePool) and actions[0].pool.count == 1
    assert [(type(a).__name__, a.count) for a in actions[1:]] == [("ScalePool", 2), ("ScalePool", 3)]


def test_a_redelivered_eviction_with_its_record_in_history_does_nothing():
    first = react(evicted(1), view(), [], NOW)
    again = react(evicted(1), view(), first.record, NOW + timedelta(seconds=5))
    assert not again.acts
    assert "already decided" in only(again).reason
    assert again.record == ()


def test_the_same_event_and_history_always_give_the_same_decision():
    history = [PastReaction(NOW, ("x", "y"), "spot-fallback", "batchod", 2)]
    assert react(evicted(7), view(), history, NOW) == react(evicted(7), view(), history, NOW)


def test_preempt_notice_and_the_later_eviction_of_the_same_node_count_once():
    decisions, _ = run([notice("aks-batch-12345678-vmss000003"), evicted(3)], view())
    assert isinstance(only(decisions[0]), CreatePool)
    assert not decisions[1].acts and "already counted" in only(decisions[1]).reason


def test_fallback_never_exceeds_max_nodes_per_pool():
    v = with_reactions(view(), max_nodes_per_pool=2)
    decisions, _ = run([evicted(1), evicted(2), evicted(3)], v)
    assert [d.acts for d in decisions] == [True, True, False]
    assert "bound of 2" in only(decisions[2]).reason


def test_fallback_never_exceeds_the_spot_pools_own_maximum():
    v = view({"/userPools/2/autoscale": {"min": 0, "max": 1}})
    decisions, _ = run([evicted(1), evicted(2)], v)
    assert [d.acts for d in decisions] == [True, False]


def test_a_second_eviction_within_the_cooldown_still_adds_capacity():
    v = with_reactions(view(), cooldown_seconds=600)
    decisions, _ = run([evicted(1), evicted(2)], v, step=timedelta(seconds=30))
    assert all(d.acts for d in decisions)


def test_spot_fallback_none_adds_no_capacity():
    decision = react(evicted(1), with_reactions(view(), spot_fallback="none"), [], NOW)
    assert not decision.acts and "spotFallback is 'none'" in only(decision).reason


def test_eviction_on_an_unknown_pool_does_nothing():
    decision = react(evicted(1, pool="ghost"), view(), [], NOW)
    assert not decision.acts and "unknown pool" in only(decision).reason


def test_eviction_on_a_pool_that_is_not_spot_does_nothing():
    decision = react(evicted(1, pool="apps"), view(), [], NOW)
    assert not decision.acts and "not a spot pool" in only(decision).reason


def test_eviction_in_another_clusters_node_resource_group_does_nothing():
    decision = react(evicted(1, node_rg="MC_other_other_westeurope"), view(), [], NOW)
    assert not decision.acts and "node resource group" in only(decision).reason


def test_fallback_name_cuts_the_pool_name_so_the_suffix_fits():
    assert fallback_pool_name("batch") == "batchod"
    assert fallback_pool_name("batchworkers") == "batchworkeod"
    assert fallback_pool_name("spotwn", windows=True) == "spotod"


def test_eviction_of_a_twelve_character_spot_pool_creates_a_valid_fallback_name():
    decision = react(evicted(1, pool="batchworkers"), view({"/userPools/2/name": "batchworkers"}), [], NOW)
    action = only(decision)
    assert isinstance(action, CreatePool) and action.pool.name == "batchworkeod"


def test_fallback_name_taken_by_a_requested_pool_blocks_the_fallback():
    v = view({"/userPools/3": {"name": "batchod", "vmSize": "Standard_D4s_v5", "count": 1}})
    decision = react(evicted(1), v, [], NOW)
    assert not decision.acts and "is a requested pool" in only(decision).reason


# --- scale-down by the sweeper ---------------------------------------------------------------------------------------

def test_sweep_keeps_the_fallback_until_the_cooldown_has_passed():
    v = observe(with_reactions(view(), cooldown_seconds=600), PoolState("batchod", 3))
    history = [PastReaction(NOW, ("s", "e"), "spot-fallback", "batchod", 3)]
    assert not sweep(v, history, NOW + timedelta(seconds=599)).acts


def test_sweep_scales_the_fallback_to_zero_exactly_at_the_cooldown():
    v = observe(with_reactions(view(), cooldown_seconds=600), PoolState("batchod", 3))
    history = [PastReaction(NOW, ("s", "e"), "spot-fallback", "batchod", 3)]
    decision = sweep(v, history, NOW + timedelta(seconds=600))
    action = only(decision)
    assert isinstance(action, ScalePool) and (action.pool, action.count) == ("batchod", 0)
    assert action.key.startswith("sweep|") and "cooldown 600 s" in action.reason
    again = sweep(v, [*history, *decision.record], NOW + timedelta(seconds=700))
    assert not again.acts


def test_an_eviction_held_at_the_bound_still_holds_the_fallback():
    v = observe(with_reactions(view(), max_nodes_per_pool=1, cooldown_seconds=600), PoolState("batchod", 1))
    history = [PastReaction(NOW, ("s", "e"), "spot-fallback", "batchod", 1)]
    decision = react(evicted(9), v, history, NOW + timedelta(seconds=500))
    assert not decision.acts
    assert not sweep(v, [*history, *decision.record], NOW + timedelta(seconds=700)).acts


def test_an_eviction_after_a_scale_down_starts_again_from_zero():
    v = observe(view(), PoolState("batchod", 3))  # the scale-down has not landed yet
    history = [PastReaction(NOW, ("s", "e"), "spot-fallback", "batchod", 3),
               PastReaction(NOW + timedelta(hours=1), None, "fallback-scale-down", "batchod", 0)]
    action = only(react(evicted(1), v, history, NOW + timedelta(hours=2)))
    assert isinstance(action, ScalePool) and action.count == 1


def test_sweep_without_fallback_pools_does_nothing():
    assert not sweep(view(), [], NOW).acts


# --- pool pressure -------------------------------------------------------------------------------------------------

def test_pressure_on_a_fixed_pool_raises_its_count_by_pending_pods_over_ten():
    action = only(react(pressure("win1", 25), view(), [], NOW))
    assert isinstance(action, ScalePool) and (action.count, action.max_count) == (5, None)


def test_pressure_on_an_autoscaled_pool_at_its_maximum_raises_the_maximum():
    v = observe(view(), PoolState("apps", 10, 3, 10))
    action = only(react(pressure("apps", 5), v, [], NOW))
    assert isinstance(action, ScalePool) and (action.count, action.max_count) == (None, 11)


def test_pressure_on_an_autoscaled_pool_below_its_maximum_leaves_it_to_the_autoscaler():
    decision = react(pressure("apps", 5), view(), [], NOW)
    assert not decision.acts and "autoscaler has room" in only(decision).reason


def test_pressure_is_bounded_by_max_nodes_per_pool():
    v = with_reactions(view(), max_nodes_per_pool=4)
    action = only(react(pressure("win1", 500), v, [], NOW))
    assert isinstance(action, ScalePool) and action.count == 4
    at_bound = observe(v, PoolState("win1", 4))
    decision = react(pressure("win1", 500, "pressure-2"), at_bound, [], NOW)
    assert not decision.acts and "bound of 4" in only(decision).reason


def test_pressure_waits_for_the_cooldown_and_acts_again_exactly_at_it():
    v = with_reactions(view(), cooldown_seconds=300)
    first = react(pressure("win1", 10), v, [], NOW)
    held = react(pressure("win1", 10, "p2"), v, first.record, NOW + timedelta(seconds=299))
    later = react(pressure("win1", 10, "p3"), v, [*first.record, *held.record], NOW + timedelta(seconds=300))
    assert first.acts and not held.acts and later.acts
    assert "cooldown" in only(held).reason
    assert only(later).count == 4  # 2 -> 3 asked first, then 3 -> 4


def test_pressure_on_a_spot_pool_or_an_unknown_pool_does_nothing():
    assert "spot pool" in only(react(pressure("batch", 10), view(), [], NOW)).reason
    assert "unknown pool" in only(react(pressure("ghost", 10), view(), [], NOW)).reason


def test_pressure_with_no_pending_pods_does_nothing():
    assert not react(pressure("win1", 0), view(), [], NOW).acts


# --- upgrades ------------------------------------------------------------------------------------------------------

def offers(*versions: str, previews: Sequence[str] = ()) -> tuple[OfferedVersion, ...]:
    """What ARM's upgrade profile offers (the view's `upgrades`)."""
    return tuple(OfferedVersion(v) for v in versions) + tuple(OfferedVersion(v, preview=True) for v in previews)


def upgrading(channel: str = "patch", *versions: str, previews: Sequence[str] = ()) -> ClusterView:
    """The cluster on 1.33.2 with that channel, offered those versions."""
    return with_reactions(view(upgrades=offers(*versions, previews=previews)), auto_upgrade=channel)


def test_patch_channel_upgrades_to_the_newest_offered_patch_of_the_current_minor():
    v = upgrading("patch", "1.33.4", "1.33.5", "1.34.0", "1.34.1")
    action = only(react(new_versions("1.34.1", stable="1.33.5", lowest="1.31.9"), v, [], NOW))
    assert isinstance(action, UpgradeCluster) and (action.version, action.scope) == ("1.33.5", "patch")


def test_a_version_the_event_names_but_arm_does_not_offer_is_never_the_target():
    attack = new_versions("1.33.999", stable="1.33.999")
    decision = react(attack, upgrading("patch", "1.34.0", "1.34.1"), [], NOW)
    assert not decision.acts and "not offered: 1.33.999" in only(decision).reason
    assert [n.type for n in decision.notices] == ["aksvend.cluster.upgradeAvailable"]  # 1.34 is not patch's to take
    assert "1.33.999" not in decision.notices[0].message.split(";")[0]
    action = only(react(attack, upgrading("patch", "1.33.3"), [], NOW))  # a real patch is offered: that one
    assert isinstance(action, UpgradeCluster) and action.version == "1.33.3"
    for channel in ("stable", "rapid"):
        assert not react(attack, upgrading(channel), [], NOW).acts


def test_no_upgrade_when_the_upgrade_profile_could_not_be_read():
    decision = react(new_versions("1.34.1", stable="1.33.5"), view(), [], NOW)  # upgrades None: not read
    assert not decision.acts and "could not be read" in only(decision).reason and not decision.notices


def test_patch_channel_does_nothing_when_nothing_newer_is_offered():
    decision = react(new_versions("1.34.1", stable="1.33.2", lowest="1.32.9"), upgrading("patch"), [], NOW)
    assert not decision.acts and "nothing it may move to" in only(decision).reason and not decision.notices


def test_stable_channel_moves_to_the_next_minor_when_the_stable_version_is_a_later_minor():
    v = upgrading("stable", "1.33.4", "1.34.2", "1.34.3")
    action = only(react(new_versions("1.35.0", stable="1.34.3"), v, [], NOW))
    assert isinstance(action, UpgradeCluster) and (action.version, action.scope) == ("1.34.3", "minor")
    action = only(react(new_versions("1.35.0", stable="1.33.4"), v, [], NOW))
    assert isinstance(action, UpgradeCluster) and (action.version, action.scope) == ("1.33.4", "patch")


def test_rapid_channel_moves_one_minor_at_a_time_to_an_offered_version():
    v = upgrading("rapid", "1.34.1", "1.34.3", "1.35.2")  # even if ARM offered a skipped minor, it is not taken
    action = only(react(new_versions("1.35.2", stable="1.34.9"), v, [], NOW))
    assert isinstance(action, UpgradeCluster) and (action.version, action.scope) == ("1.34.3", "minor")


def test_the_event_names_which_offered_version_to_prefer():
    action = only(react(new_versions("1.33.3"), upgrading("patch", "1.33.3", "1.33.5"), [], NOW))
    assert isinstance(action, UpgradeCluster) and action.version == "1.33.3"


def test_previews_and_downgrades_are_never_chosen():
    assert not react(new_versions("1.33.9"), upgrading("patch", previews=["1.33.9"]), [], NOW).acts
    action = only(react(new_versions("1.34.0"), upgrading("rapid", "1.33.5", previews=["1.34.0"]), [], NOW))
    assert isinstance(action, UpgradeCluster) and (action.version, action.scope) == ("1.33.5", "patch")
    decision = react(new_versions("1.32.9", stable="1.33.1"), upgrading("rapid", "1.32.9", "1.33.1", "1.33.2"), [],
                     NOW)
    assert not decision.acts and not decision.notices


def test_none_and_node_image_channels_only_notify_of_offered_versions():
    for channel in ("none", "node-image"):
        decision = react(new_versions("1.33.999"), upgrading(channel, "1.33.9"), [], NOW)
        assert not decision.acts
        assert [n.type for n in decision.notices] == ["aksvend.cluster.upgradeAvailable"]
        assert decision.notices[0].message.startswith("Kubernetes 1.33.9 available")
        assert not react(new_versions("1.33.999"), upgrading(channel), [], NOW).notices


def test_an_upgrade_already_asked_for_is_not_asked_again():
    first = react(new_versions("1.33.9"), upgrading("patch", "1.33.9"), [], NOW)
    second = react(new_versions("1.33.9", event_id="v-2"), upgrading("patch", "1.33.9"), first.record, NOW)
    assert first.acts and not second.acts and "already asked" in only(second).reason


def test_no_upgrade_is_chosen_when_the_current_patch_is_unknown():
    v = dataclasses.replace(upgrading("patch", "1.33.9"), kubernetes_version="1.33")
    decision = react(new_versions("1.33.9"), v, [], NOW)
    assert not decision.acts and "not major.minor.patch" in only(decision).reason


def test_the_upgrade_profile_body_is_read_defensively():
    def body(upgrades: Any) -> dict[str, Any]:
        return {"properties": {"controlPlaneProfile": {"kubernetesVersion": "1.33.2", "upgrades": upgrades}}}

    read = offered_versions(body([{"kubernetesVersion": "v1.33.5"}, {"kubernetesVersion": "1.34.0", "isPreview": True},
                                  {"kubernetesVersion": "1.34"}, {"kubernetesVersion": 1}, "1.35.0",
                                  {"kubernetesVersion": "1.34.1", "isPreview": "true"}]))
    assert read == (OfferedVersion("1.33.5"), OfferedVersion("1.34.0", True), OfferedVersion("1.34.1", True))
    assert offered_versions(body(None)) == ()  # AKS leaves `upgrades` out when nothing is offered
    assert offered_versions(body("1.99.0")) is None and offered_versions(None) is None
    assert offered_versions({"properties": {}}) is None
    assert len(offered_versions(body([{"kubernetesVersion": f"1.33.{i}"} for i in range(500)])) or ()) == 100


VERSION = st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.just(1), st.integers(31, 36), st.integers(0, 12))


@settings(max_examples=200, deadline=None)
@given(channel=st.sampled_from(["none", "patch", "stable", "rapid", "node-image"]),
       offered=st.lists(st.tuples(VERSION, st.booleans()), max_size=8), named=st.lists(VERSION, min_size=1, max_size=3))
def test_an_upgrade_only_ever_targets_an_offered_ga_version_the_channel_allows(channel, offered, named):
    v = with_reactions(view(upgrades=tuple(OfferedVersion(t, p) for t, p in offered)), auto_upgrade=channel)
    decision = react(new_versions(*named), v, [], NOW)
    for action in decision.actions:
        if isinstance(action, UpgradeCluster):
            major, minor, patch = map(int, action.version.split("."))
            assert major == 1 and (action.version, False) in offered and (minor, patch) > (33, 2)
            assert minor == 33 if channel == "patch" else minor in (33, 34)
            assert channel in ("patch", "stable", "rapid")


# --- notices and foreign events --------------------------------------------------------------------------------------

def test_support_ending_and_ended_and_rolling_failed_only_notify():
    cases = [("ClusterSupportEnding", {"kubernetesVersion": "1.30.4"}, "aksvend.cluster.supportEnding"),
             ("ClusterSupportEnded", {"kubernetesVersion": "1.30.4"}, "aksvend.cluster.supportEnded"),
             ("NodePoolRollingFailed", {"nodePoolName": "apps"}, "aksvend.pool.rollingFailed")]
    for kind, data, outbound in cases:
        decision = react(aks(kind, data), view(), [], NOW)
        assert not decision.acts and [n.type for n in decision.notices] == [outbound]
        assert [r.rule for r in decision.record] == ["notice"]


def test_rolling_succeeded_is_informational():
    decision = react(aks("NodePoolRollingSucceeded", {"nodePoolName": "batch"}), view(), [], NOW)
    assert not decision.acts and decision.notices == ()


def test_events_for_another_or_an_unmappable_cluster_do_nothing():
    other = CLUSTER.replace("payments-prod", "other")
    placeholder = "/subscriptions/{subscription-id}/resourceGroups/{resource-group}/providers/x/y/{cluster}"
    assert "not /subscriptions" in only(react(aks("ClusterSupportEnded", {"kubernetesVersion": "1"}, topic=other),
                                              view(), [], NOW)).reason
    assert "unknown cluster" in only(react(aks("ClusterSupportEnded", {"kubernetesVersion": "1"},
                                               topic=placeholder), view(), [], NOW)).reason


def test_unknown_events_are_recorded_and_acknowledged():
    decision = react(interpret(envelope("com.example.other", {}, "u-1")), view(), [], NOW)
    assert not decision.acts and [r.rule for r in decision.record] == ["ignored"]


# --- properties ----------------------------------------------------------------------------------------------------

BASE = view()
EVENTS = st.one_of(
    st.builds(lambda i, p: evicted(i, pool=p, event_id=f"e{i}{p}"), st.integers(0, 60),
              st.sampled_from(["batch", "apps", "ghost"])),
    st.builds(lambda i: notice(f"aks-batch-12345678-vmss{i:06d}", event_id=f"n{i}"), st.integers(0, 60)),
    st.builds(lambda p, n, i: pressure(p, n, f"p{i}"), st.sampled_from(["apps", "gpu", "win1", "system", "batch"]),
              st.integers(0, 5000), st.integers(0, 10**6)),
    st.builds(lambda s, i: new_versions(s, event_id=f"v{i}"), st.sampled_from(["1.33.9", "1.34.1", "x"]),
              st.integers(0, 10**6)),
)
SETTINGS = st.builds(Reactions, spot_fallback=st.sampled_from(["on-demand", "none"]),
                     max_nodes_per_pool=st.integers(1, 1000), cooldown_seconds=st.integers(0, 3600),
                     auto_upgrade=st.sampled_from(["none", "patch", "stable", "rapid", "node-image"]))


@settings(max_examples=150, deadline=None)
@given(events=st.lists(EVENTS, max_size=25), reactions=SETTINGS, counts=st.tuples(*[st.integers(0, 1200)] * 3),
       fallback=st.none() | st.integers(0, 1200), spot_max=st.integers(0, 1000), gap=st.integers(0, 4000))
def test_react_never_raises_and_never_scales_beyond_the_bounds(events, reactions, counts, fallback, spot_max, gap):
    pools = tuple(p.model_copy(update={"autoscale": Autoscale(min=0, max=spot_max)}) if p.spot else p
                  for p in BASE.pools)
    v = observe(dataclasses.replace(BASE, reactions=reactions, pools=pools), PoolState("apps", counts[0], 0, counts[1]),
                PoolState("gpu", counts[2]), *([PoolState("batchod", fallback)] if fallback is not None else []))
    history: list[PastReaction] = []
    for i, event in enumerate(events):
        now = NOW + timedelta(seconds=i * gap)
        for decision in (react(event, v, history, now), sweep(v, history, now)):
            history.extend(decision.record)
            for action in decision.actions:
                assert action.reason
                if isinstance(action, CreatePool):
                    event_("fallback created")
                    assert 0 < action.pool.count <= min(reactions.max_nodes_per_pool, spot_max)
                    assert action.pool.spot is None
                elif isinstance(action, ScalePool) and action.pool == "batchod":
                    event_("fallback scaled")
                    assert action.count is not None
                    assert 0 <= action.count <= min(reactions.max_nodes_per_pool, spot_max)
                elif isinstance(action, ScalePool):
                    event_("pool raised")
                    size = action.count if action.count is not None else action.max_count
                    assert size is not None and 0 < size <= reactions.max_nodes_per_pool
                else:
                    assert isinstance(action, NoAction | UpgradeCluster)
