"""AKS upgrades in the emulator through the real containerservice SDK: a pool's upgrade profile, and what a stopped
cluster refuses."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient

from tests.integration.aks_bodies import aks_client, cluster_body, pool

pytestmark = pytest.mark.integration

RG = "rg-upgrades"


@pytest.fixture
def client(armemu) -> ContainerServiceClient:
    """Cluster u1 on 1.33.2 with a System pool of 2."""
    aks = aks_client(armemu, RG)
    body = cluster_body(pool("system", mode="System"), kubernetesVersion="1.33.2")
    aks.managed_clusters.begin_create_or_update(RG, "u1", body).result()
    return aks


def test_a_pool_upgrade_profile_offers_only_versions_up_to_the_control_planes(client):
    client.agent_pools.begin_create_or_update(RG, "u1", "old", {"properties": pool(
        "old", orchestratorVersion="1.32.4")}).result()
    profile = client.agent_pools.get_upgrade_profile(RG, "u1", "old")
    assert profile.name == "default" and profile.id.lower().endswith("/agentpools/old/upgradeprofiles/default")
    assert profile.type == "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles"
    props = profile.properties
    assert (props.kubernetes_version, props.os_type) == ("1.32.4", "Linux")
    offered = [u.kubernetes_version for u in props.upgrades]
    assert offered == ["1.32.5", "1.32.6", "1.33.0", "1.33.1", "1.33.2"]  # never past the control plane's 1.33.2
    assert props.latest_node_image_version.startswith("AKSUbuntu-")
    level = client.agent_pools.get_upgrade_profile(RG, "u1", "system").properties
    assert (level.kubernetes_version, level.upgrades) == ("1.33.2", [])  # the cluster's own upgrades go to 1.34


def test_the_upgrade_profile_of_a_missing_pool_is_404(client):
    with pytest.raises(ResourceNotFoundError):
        client.agent_pools.get_upgrade_profile(RG, "u1", "ghost")
    with pytest.raises(HttpResponseError) as missing:
        client.agent_pools.get_upgrade_profile(RG, "nope", "system")
    assert missing.value.status_code == 404


def test_a_stopped_cluster_refuses_scale_pool_add_upgrade_and_a_second_stop_but_reads_starts_and_deletes(client):
    client.managed_clusters.begin_stop(RG, "u1").result()
    cluster = client.managed_clusters.get(RG, "u1")
    attempts = {
        "scale": lambda: client.agent_pools.begin_create_or_update(RG, "u1", "system", {"properties": pool(
            "system", mode="System", count=5)}),
        "add": lambda: client.agent_pools.begin_create_or_update(RG, "u1", "extra", {"properties": pool("extra")}),
        "upgrade": lambda: client.managed_clusters.begin_create_or_update(RG, "u1", {
            "location": "westeurope", "properties": {"kubernetesVersion": "1.34.1"}}),
        "stop": lambda: client.managed_clusters.begin_stop(RG, "u1"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(HttpResponseError) as refused:
            attempt()
        error = refused.value.error
        assert (refused.value.status_code, error.code) == (400, "OperationNotAllowed"), what
        assert "Power State(Stopped)" in error.message, what
    assert client.agent_pools.get_upgrade_profile(RG, "u1", "system").properties.kubernetes_version == "1.33.2"
    unchanged = client.managed_clusters.get(RG, "u1")
    assert unchanged.as_dict() == cluster.as_dict()  # nothing refused left a trace
    client.managed_clusters.begin_start(RG, "u1").result()
    scaled = client.agent_pools.begin_create_or_update(RG, "u1", "system", {"properties": pool(
        "system", mode="System", count=3)}).result()
    assert scaled.count == 3  # running again, it scales
    client.managed_clusters.begin_stop(RG, "u1").result()
    client.managed_clusters.begin_delete(RG, "u1").result()
    with pytest.raises(ResourceNotFoundError):
        client.managed_clusters.get(RG, "u1")


OLD, NEW = "1.33.2", "1.34.1"


@pytest.fixture
def two_pools(armemu, client) -> ContainerServiceClient:
    """u1 with a system pool of 2 (10% surge: 2 batches of 1) and a user pool of 4 (maxSurge 2: 2 batches of 2)."""
    client.agent_pools.begin_create_or_update(RG, "u1", "user", {"properties": pool(
        "user", count=4, upgradeSettings={"maxSurge": "2"})}).result()
    return client


def full_upgrade(client) -> None:
    """What `az aks upgrade` sends without --control-plane-only: the new version on the cluster and on every pool."""
    cluster = client.managed_clusters.get(RG, "u1")
    cluster.kubernetes_version = NEW
    for profile in cluster.agent_pool_profiles:
        profile.orchestrator_version = NEW
    client.managed_clusters.begin_create_or_update(RG, "u1", cluster)


def versions(client) -> tuple[str, ...]:
    """(control plane, system pool, user pool) current versions."""
    cluster = client.managed_clusters.get(RG, "u1")
    pools = {p.name: p.current_orchestrator_version for p in cluster.agent_pool_profiles}
    return cluster.current_kubernetes_version, pools["system"], pools["user"]


def running(armemu) -> dict:
    ops = armemu.control("GET", "operations")["value"]
    assert len(ops) == 1, ops
    return ops[0]


def test_a_cluster_upgrade_moves_the_control_plane_then_each_pool_batch_by_batch(armemu, two_pools):
    client = two_pools
    armemu.control("PUT", "operations/hold", {"hold": True})
    full_upgrade(client)
    op = running(armemu)
    assert (op["kind"], op["state"], op["phase"]) == ("upgrade", "Upgrading", "controlPlane")
    assert op["plannedSeconds"] == 180 + 2 * 210 + 2 * 210  # control plane, then 2 + 2 batches of surge + drain
    assert client.managed_clusters.get(RG, "u1").provisioning_state == "Upgrading"
    with pytest.raises(HttpResponseError) as busy:  # a pool upgrade is refused while the cluster's runs
        client.agent_pools.begin_create_or_update(RG, "u1", "user", {"properties": pool(
            "user", count=4, orchestratorVersion=NEW)})
    assert busy.value.status_code == 409 and "upgrade managed cluster" in busy.value.error.message
    expected = [
        ("controlPlane", (OLD, OLD, OLD)),
        ("pool:system batch 1/2", (NEW, OLD, OLD)),  # the control plane is done; the pools still run the old one
        ("pool:system batch 2/2", (NEW, OLD, OLD)),
        ("pool:user batch 1/2", (NEW, NEW, OLD)),  # a pool's version moves when its last batch ends
        ("pool:user batch 2/2", (NEW, NEW, OLD)),
    ]
    cluster_id = op["resourceId"]
    for phase, seen in expected:
        assert (running(armemu)["phase"], versions(client)) == (phase, seen)
        armemu.control("POST", "operations/step", {"resourceId": cluster_id})
    assert armemu.control("GET", "operations")["value"] == []
    assert versions(client) == (NEW, NEW, NEW)
    assert client.managed_clusters.get(RG, "u1").provisioning_state == "Succeeded"


def test_an_unheld_upgrade_is_seen_in_order_by_polling(armemu, two_pools):
    """At the test time factor the upgrade takes about a second; whatever polling catches must be in order."""
    client = two_pools
    order = [(OLD, OLD, OLD), (NEW, OLD, OLD), (NEW, NEW, OLD), (NEW, NEW, NEW)]
    phases = ["controlPlane", "pool:system batch 1/2", "pool:system batch 2/2", "pool:user batch 1/2",
              "pool:user batch 2/2", None]
    full_upgrade(client)
    seen: list[tuple[str, ...]] = []
    seen_phases: list[str | None] = []

    def done() -> bool:
        ops = armemu.control("GET", "operations")["value"]
        seen_phases.append(ops[0]["phase"] if ops else None)
        seen.append(versions(client))
        return seen[-1] == order[-1] and seen_phases[-1] is None

    armemu.wait_for(done, timeout=15.0)
    assert [order.index(v) for v in seen] == sorted(order.index(v) for v in seen)  # never backwards
    assert [phases.index(p) for p in seen_phases] == sorted(phases.index(p) for p in seen_phases)


def test_a_pool_upgrade_rolls_its_batches_alone_after_a_control_plane_only_upgrade(armemu, two_pools):
    client = two_pools
    client.managed_clusters.begin_create_or_update(RG, "u1", {"location": "westeurope",
                                                              "properties": {"kubernetesVersion": NEW}}).result()
    assert versions(client) == (NEW, OLD, OLD)  # no pool named a version: the control plane only (Azure/AKS#2889)
    armemu.control("PUT", "operations/hold", {"hold": True})
    client.agent_pools.begin_create_or_update(RG, "u1", "user", {"properties": pool(
        "user", count=4, orchestratorVersion=NEW, upgradeSettings={"maxSurge": "2"})})
    op = running(armemu)
    assert (op["kind"], op["state"], op["phase"], op["plannedSeconds"]) == (
        "upgrade", "Upgrading", "pool:user batch 1/2", 2 * 210)
    with pytest.raises(HttpResponseError) as busy:
        client.agent_pools.begin_create_or_update(RG, "u1", "system", {"properties": pool(
            "system", mode="System", orchestratorVersion=NEW)})
    assert busy.value.status_code == 409 and "upgrade node pool" in busy.value.error.message
    armemu.control("POST", "operations/step", {"resourceId": op["resourceId"]})
    assert (running(armemu)["phase"], versions(client)) == ("pool:user batch 2/2", (NEW, OLD, OLD))
    armemu.control("POST", "operations/step", {"resourceId": op["resourceId"]})
    assert versions(client) == (NEW, OLD, NEW)
    assert client.agent_pools.get(RG, "u1", "user").provisioning_state == "Succeeded"
