"""The emulator's AKS latency model is driven by the work: more pools, nodes, GPUs or upgrade batches take longer.
Assertions are on the model's planned durations, never on wall-clock time."""

from __future__ import annotations

from local.armemu.latency import LatencyModel
from local.armemu.workmodel import (
    cluster_create_seconds,
    cluster_upgrade_seconds,
    pool_create_seconds,
    pool_stop_start_seconds,
    pool_upgrade_seconds,
    scale_seconds,
    stop_start_seconds,
    surge_nodes,
)

FIG = LatencyModel().figure


def pool(count: int, vm: str = "Standard_D4s_v5", **extra) -> dict:
    return {"count": count, "vmSize": vm, "osType": "Linux", **extra}


def test_one_small_pool_keeps_the_observed_six_minute_cluster_create():
    assert cluster_create_seconds(FIG, [pool(3)]) == 360.0


def test_a_cluster_with_a_gpu_pool_takes_longer_than_with_one_small_pool_and_pools_run_in_parallel():
    one = cluster_create_seconds(FIG, [pool(1)])
    four = cluster_create_seconds(FIG, [pool(3), pool(2), pool(2, "Standard_NC24ads_A100_v4"), pool(3)])
    assert four > one
    assert four == FIG("aks/controlPlane:create") + pool_create_seconds(FIG, pool(2, "Standard_NC24ads_A100_v4"))


def test_gpu_windows_and_large_pools_are_slower_than_one_general_purpose_node():
    base = pool_create_seconds(FIG, pool(1, "Standard_D8s_v5"))
    assert pool_create_seconds(FIG, pool(1, "Standard_NC4as_T4_v3")) > base
    assert pool_create_seconds(FIG, pool(1, osType="Windows")) > base
    assert pool_create_seconds(FIG, pool(1000, "Standard_NC24ads_A100_v4")) > pool_create_seconds(
        FIG, pool(1, "Standard_NC24ads_A100_v4")) > base


def test_scale_grows_with_the_nodes_added_and_matches_the_3_to_53_benchmark():
    assert scale_seconds(FIG, 3, 53) == 100.0  # AKS-Performance-and-Scale P50 1.67 min
    assert scale_seconds(FIG, 4, 1000) > scale_seconds(FIG, 3, 4)
    assert scale_seconds(FIG, 1000, 4) > scale_seconds(FIG, 4, 3)


def test_max_surge_is_an_integer_or_a_rounded_up_percentage_with_ten_percent_by_default():
    assert surge_nodes(pool(3)) == 1
    assert surge_nodes(pool(25)) == 3
    assert surge_nodes(pool(10, upgradeSettings={"maxSurge": "50%"})) == 5
    assert surge_nodes(pool(10, upgradeSettings={"maxSurge": "4"})) == 4
    assert surge_nodes(pool(10, upgradeSettings={"maxSurge": "lots"})) == 1


def test_an_upgrade_rolls_in_surge_batches_so_more_surge_is_faster_and_soak_time_adds_up():
    one_at_a_time = pool_upgrade_seconds(FIG, pool(10, upgradeSettings={"maxSurge": "1"}))
    half = pool_upgrade_seconds(FIG, pool(10, upgradeSettings={"maxSurge": "50%"}))
    assert one_at_a_time == 10 * (FIG("aks/surgeNode:upgrade") + FIG("aks/drain:upgrade"))
    assert half == one_at_a_time / 5
    soaked = pool_upgrade_seconds(FIG, pool(10, upgradeSettings={"maxSurge": "50%", "nodeSoakDurationInMinutes": 5}))
    assert soaked == half + 2 * 300


def test_a_cluster_upgrade_is_the_control_plane_then_each_pool_in_turn():
    pools = [pool(3), pool(5)]
    assert cluster_upgrade_seconds(FIG, pools) == FIG("aks/controlPlane:upgrade") + sum(
        pool_upgrade_seconds(FIG, p) for p in pools)
    assert cluster_upgrade_seconds(FIG, [*pools, pool(20)]) > cluster_upgrade_seconds(FIG, pools)


def test_stop_and_start_have_their_own_figures_and_a_start_brings_the_largest_pool_back():
    assert stop_start_seconds(FIG, "stop", [pool(3)]) == FIG("aks/controlPlane:stop") + FIG("aks/pool:stop")
    assert stop_start_seconds(FIG, "start", [pool(3), pool(200)]) > stop_start_seconds(FIG, "start", [pool(3)])
    assert pool_stop_start_seconds(FIG, "start", pool(200)) == scale_seconds(FIG, 0, 200)


def test_figures_are_overridable_rows_and_an_exact_type_override_is_reported():
    model = LatencyModel({"aks/controlPlane:create": 10, "Microsoft.ContainerService/managedClusters:create": 0})
    assert cluster_create_seconds(model.figure, [pool(3)]) == 250.0
    assert model.override_for("microsoft.containerservice/managedclusters", "create") == 0.0
    assert model.override_for("Microsoft.ContainerService/managedClusters", "update") is None
    model.reset()
    assert model.figure("aks/controlPlane:create") == 120.0
