"""AKS upgrades in the emulator through the real containerservice SDK: a pool's upgrade profile, and what a stopped
cluster refuses."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

pytestmark = pytest.mark.integration

RG = "rg-upgrades"


def pool(name: str, **props) -> dict:
    return {"name": name, "mode": "User", "vmSize": "Standard_D4s_v5", "count": 2, **props}


@pytest.fixture
def client(armemu) -> ContainerServiceClient:
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": "westeurope"})
    aks = armemu.client(ContainerServiceClient)
    body = {"location": "westeurope", "properties": {"dnsPrefix": "u1", "kubernetesVersion": "1.33.2",
                                                     "agentPoolProfiles": [pool("system", mode="System")]}}
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
