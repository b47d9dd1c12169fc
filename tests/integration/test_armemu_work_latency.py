"""The emulator plans each AKS operation from its work: its operation records (`GET /_emulator/operations`,
`plannedSeconds` at time factor 1) show that more pools, nodes, GPUs and upgrade batches take longer. Operations are
held so the records can be read; nothing here depends on wall-clock timing."""

from __future__ import annotations

import pytest
from azure.core.rest import HttpRequest

pytestmark = pytest.mark.integration

CLUSTERS = "Microsoft.ContainerService/managedClusters"
API = "api-version=2026-08-01"


@pytest.fixture
def group(armemu) -> str:
    rg = f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-work"
    armemu.pipeline().send_request(
        HttpRequest("PUT", f"{armemu.base_url}{rg}?api-version=2025-04-01", json={"location": "westeurope"}))
    armemu.control("PUT", "operations/hold", {"hold": True})
    return rg


def put(armemu, resource_id: str, body: dict) -> int:
    response = armemu.pipeline().send_request(HttpRequest("PUT", f"{armemu.base_url}{resource_id}?{API}", json=body))
    assert response.status_code in (200, 201), response.text()
    return response.status_code


def planned(armemu, resource_id: str) -> float:
    """The planned seconds of the one running operation on this resource, then end it."""
    ops = [op for op in armemu.control("GET", "operations")["value"] if op["resourceId"] == resource_id]
    assert len(ops) == 1, ops
    armemu.control("POST", "operations/finish", {"resourceId": resource_id})
    return ops[0]["plannedSeconds"]


def system(count: int = 3) -> dict:
    return {"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": count}


def cluster(armemu, group: str, name: str, pools: list[dict]) -> str:
    cluster_id = f"{group}/providers/{CLUSTERS}/{name}"
    put(armemu, cluster_id, {"location": "westeurope", "properties": {"kubernetesVersion": "1.33",
                                                                        "agentPoolProfiles": pools}})
    return cluster_id


def test_a_cluster_with_four_pools_and_a_gpu_pool_takes_longer_than_one_with_one_pool(armemu, group):
    small = planned(armemu, cluster(armemu, group, "one", [system(1)]))
    big = planned(armemu, cluster(armemu, group, "four", [
        system(3), {"name": "user", "vmSize": "Standard_D2s_v5", "count": 2},
        {"name": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "count": 2},
        {"name": "spot", "vmSize": "Standard_D4s_v5", "count": 3, "scaleSetPriority": "Spot"}]))
    assert small == 360.0 and big > small


def test_scaling_by_many_nodes_takes_longer_than_by_one_and_a_big_gpu_pool_longer_than_one_node(armemu, group):
    cluster_id = cluster(armemu, group, "c", [system(3)])
    planned(armemu, cluster_id)
    pool_id = f"{cluster_id}/agentPools/work"
    put(armemu, pool_id, {"properties": {"vmSize": "Standard_D2s_v5", "count": 1}})
    one_node = planned(armemu, pool_id)
    gpu_id = f"{cluster_id}/agentPools/gpu"
    put(armemu, gpu_id, {"properties": {"vmSize": "Standard_NC4as_T4_v3", "count": 100}})
    assert planned(armemu, gpu_id) > one_node
    put(armemu, pool_id, {"properties": {"vmSize": "Standard_D2s_v5", "count": 2}})
    small_scale = planned(armemu, pool_id)
    put(armemu, pool_id, {"properties": {"vmSize": "Standard_D2s_v5", "count": 400}})
    assert planned(armemu, pool_id) > small_scale


def test_an_upgrade_rolls_by_max_surge_and_a_pool_upgrade_is_refused_while_the_cluster_upgrades(armemu, group):
    cluster_id = cluster(armemu, group, "u", [system(10), {"name": "user", "vmSize": "Standard_D4s_v5", "count": 10}])
    planned(armemu, cluster_id)
    put(armemu, cluster_id, {"location": "westeurope", "properties": {"kubernetesVersion": "1.34"}})
    pool_id = f"{cluster_id}/agentPools/system"
    response = armemu.pipeline().send_request(HttpRequest(
        "PUT", f"{armemu.base_url}{pool_id}?{API}", json={"properties": {**system(10), "orchestratorVersion": "1.34"}}))
    assert response.status_code == 409 and response.json()["error"]["code"] == "OperationNotAllowed"
    # A PUT naming no pool version upgrades the control plane only (Azure/AKS#2889): its 180 s and nothing more.
    assert planned(armemu, cluster_id) == 180.0
    # The control plane at 1.34, each pool on its own (AKS's skew rule: a pool never newer than the control plane):
    put(armemu, pool_id, {"properties": {**system(10), "orchestratorVersion": "1.34",
                                         "upgradeSettings": {"maxSurge": "1"}}})
    one_by_one = planned(armemu, pool_id)
    user_id = f"{cluster_id}/agentPools/user"
    put(armemu, user_id, {"properties": {"vmSize": "Standard_D4s_v5", "count": 10, "orchestratorVersion": "1.34",
                                         "upgradeSettings": {"maxSurge": "50%"}}})
    assert planned(armemu, user_id) < one_by_one  # 2 batches of 5 against 10 of 1
