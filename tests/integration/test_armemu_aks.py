"""The ARM emulator behaving like AKS, through the real containerservice SDK clients (sync and aio)."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice import models as aks
from azure.mgmt.containerservice.aio import ContainerServiceClient as AioContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.integration.aks_bodies import aks_client, cluster_body, pool

pytestmark = pytest.mark.integration

RG = "rg-aks"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
HOLD = {"hold": True}  # operations stay running until finished: however slow the machine, never before


@pytest.fixture
def client(armemu) -> ContainerServiceClient:
    return aks_client(armemu, RG)


@pytest.fixture
def cluster(client) -> aks.ManagedCluster:
    return client.managed_clusters.begin_create_or_update(RG, "c1", cluster_body()).result()


def test_cluster_create_finishes_through_the_sdk_poller_with_what_aks_fills_in(armemu, client):
    body = aks.ManagedCluster(
        location="westeurope",
        properties=aks.ManagedClusterProperties(
            dns_prefix="c1",
            kubernetes_version="1.33",
            agent_pool_profiles=[
                aks.ManagedClusterAgentPoolProfile(name="system", mode="System", vm_size="Standard_D4s_v5", count=3),
                aks.ManagedClusterAgentPoolProfile(
                    name="batch", mode="User", vm_size="Standard_D8s_v5", count=1, scale_set_priority="Spot"
                ),
            ],
        ),
    )
    poller = client.managed_clusters.begin_create_or_update(RG, "c1", body)
    first = client.managed_clusters.get(RG, "c1")
    assert first.properties.provisioning_state == "Creating"
    assert first.properties.identity_profile is None
    created = poller.result()
    props = created.properties
    assert props.provisioning_state == "Succeeded"
    assert props.node_resource_group == "MC_rg-aks_c1_westeurope"
    assert props.fqdn.endswith(".hcp.westeurope.azmk8s.io")
    assert props.power_state.code == "Running"
    assert props.identity_profile["kubeletidentity"].client_id
    spot = next(p for p in props.agent_pool_profiles if p.name == "batch")
    assert spot.node_labels["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert SPOT_TAINT in spot.node_taints
    assert spot.scale_set_eviction_policy == "Delete"
    groups = [g.name for g in armemu.client(ResourceManagementClient).resource_groups.list()]
    assert "MC_rg-aks_c1_westeurope" in groups
    assert [c.name for c in client.managed_clusters.list_by_resource_group(RG)] == ["c1"]
    assert [c.name for c in client.managed_clusters.list()] == ["c1"]
    statuses = [r for r in armemu.requests() if "/operations/" in r["path"]]
    assert statuses, "the poller should have polled the Azure-AsyncOperation URL"


async def test_agent_pool_lifecycle_with_the_aio_client(armemu, cluster):
    async with armemu.aio_client(AioContainerServiceClient) as aio:
        poller = await aio.agent_pools.begin_create_or_update(
            RG, "c1", "apps", {"properties": {"mode": "User", "vmSize": "Standard_D8s_v5", "count": 2}}
        )
        created = await poller.result()
        assert created.properties.provisioning_state == "Succeeded"
        scaled = await (
            await aio.agent_pools.begin_create_or_update(
                RG, "c1", "apps", {"properties": {**created.properties.as_dict(), "count": 5}}
            )
        ).result()
        assert scaled.properties.count == 5
        names = sorted([p.name async for p in aio.agent_pools.list(RG, "c1")])
        assert names == ["apps", "system"]
        await (await aio.agent_pools.begin_delete(RG, "c1", "apps")).result()
        with pytest.raises(ResourceNotFoundError):
            await aio.agent_pools.get(RG, "c1", "apps")
    log = armemu.requests()
    assert any(r["method"] == "PUT" and r["path"].endswith("/agentPools/apps") and r["status"] == 201 for r in log)
    assert any(r["method"] == "DELETE" and r["status"] == 202 for r in log)


def test_a_second_pool_operation_on_a_busy_cluster_gets_409(armemu, client, cluster):
    armemu.control("PUT", "operations/hold", HOLD)
    first = client.agent_pools.begin_create_or_update(RG, "c1", "one", {"properties": pool("one")})
    assert client.agent_pools.get(RG, "c1", "one").properties.provisioning_state == "Creating"
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_create_or_update(RG, "c1", "two", {"properties": pool("two")})
    assert caught.value.status_code == 409
    assert caught.value.error.code == "OperationNotAllowed"
    message = caught.value.error.message
    assert message.startswith("Operation is not allowed because there's an in progress create node pool operation "
                              "(operation ID: ") and " on the agent pool one started on UTC " in message
    with pytest.raises(HttpResponseError) as caught:
        client.managed_clusters.begin_create_or_update(RG, "c1", cluster_body())
    assert caught.value.status_code == 409
    armemu.control("POST", "operations/finish")
    assert first.result().properties.provisioning_state == "Succeeded"
    second = client.agent_pools.begin_create_or_update(RG, "c1", "two", {"properties": pool("two")})
    armemu.control("POST", "operations/finish")
    assert second.result().properties.provisioning_state == "Succeeded"


def test_during_a_delete_everything_else_is_refused(armemu, client, cluster):
    armemu.control("PUT", "operations/hold", HOLD)
    deleting = client.managed_clusters.begin_delete(RG, "c1")
    assert client.managed_clusters.get(RG, "c1").properties.provisioning_state == "Deleting"
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_create_or_update(RG, "c1", "apps", {"properties": pool("apps")})
    assert caught.value.error.code == "OperationNotAllowed"
    assert "there's an in progress delete managed cluster operation" in caught.value.error.message
    armemu.control("POST", "operations/finish")
    deleting.result()
    with pytest.raises(ResourceNotFoundError):
        client.managed_clusters.get(RG, "c1")
    assert armemu.inventory("Microsoft.ContainerService/managedClusters/agentPools") == []


def test_adding_or_removing_pools_through_the_cluster_put_after_creation_is_400(client, cluster):
    with pytest.raises(HttpResponseError) as caught:
        client.managed_clusters.begin_create_or_update(
            RG, "c1", cluster_body(pool("system", mode="System", count=3), pool("apps"))
        )
    assert caught.value.status_code == 400
    assert "agentPools API" in caught.value.error.message
    updated = client.managed_clusters.begin_create_or_update(
        RG, "c1", cluster_body(pool("system", mode="System", count=4))
    ).result()
    assert updated.properties.agent_pool_profiles[0].count == 4


@pytest.mark.parametrize(
    ("profile", "extra", "target"),
    [
        (pool("Bad_Name"), {}, "name"),
        (pool("spotsys", mode="System", scaleSetPriority="Spot"), {}, "mode"),
        (pool("win1", osType="Windows"), {}, "windowsProfile"),
        (
            pool("win1", osType="Windows"),
            {
                "windowsProfile": {"adminUsername": "azureuser", "adminPassword": "Str0ng!Passw0rd#1"},
                "networkProfile": {"networkPlugin": "kubenet"},
            },
            "networkPlugin",
        ),
        (
            pool("windowspool", osType="Windows"),
            {"windowsProfile": {"adminUsername": "u", "adminPassword": "Str0ng!Passw0rd#1"}},
            "name",
        ),
        (pool("eph", osDiskType="Ephemeral"), {}, "osDiskType"),
        (pool("pods", maxPods=300), {}, "maxPods"),
        (pool("many", count=1001), {}, "count"),
        (pool("auto", count=5, enableAutoScaling=True, minCount=6, maxCount=10), {}, "minCount"),
        (pool("spot", scaleSetPriority="Spot", spotMaxPrice=0.123456), {}, "spotMaxPrice"),
    ],
)
def test_documented_pool_rules_are_enforced_with_arm_errors(client, profile, extra, target):
    body = cluster_body(pool("system", mode="System", count=3), profile, **extra)
    with pytest.raises(HttpResponseError) as caught:
        client.managed_clusters.begin_create_or_update(RG, "c1", body)
    assert caught.value.status_code == 400
    assert target in (caught.value.error.target or "")


def test_a_cluster_needs_a_system_pool_and_keeps_its_last_one(client, cluster):
    with pytest.raises(HttpResponseError) as caught:
        client.managed_clusters.begin_create_or_update(RG, "c2", cluster_body(pool("apps")))
    assert caught.value.error.code == "MustDefineAtLeastOneSystemPool"
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_delete(RG, "c1", "system")
    assert caught.value.status_code == 400


def test_spot_settings_are_fixed_after_creation(client, cluster):
    client.agent_pools.begin_create_or_update(
        RG,
        "c1",
        "batch",
        {"properties": pool("batch", scaleSetPriority="Spot", scaleSetEvictionPolicy="Delete", spotMaxPrice=-1)},
    ).result()
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_create_or_update(
            RG,
            "c1",
            "batch",
            {"properties": pool("batch", scaleSetPriority="Spot", scaleSetEvictionPolicy="Deallocate")},
        )
    assert (caught.value.status_code, caught.value.error.code) == (400, "PropertyChangeNotAllowed")
    assert caught.value.error.message == "Changing property 'scaleSetEvictionPolicy' is not allowed."
    assert "scaleSetEvictionPolicy" in caught.value.error.target


def test_pool_scale_shows_scaling_while_it_runs(armemu, client, cluster):
    armemu.control("PUT", "operations/hold", HOLD)
    poller = client.agent_pools.begin_create_or_update(
        RG, "c1", "system", {"properties": pool("system", mode="System", count=5)}
    )
    assert client.agent_pools.get(RG, "c1", "system").properties.provisioning_state == "Scaling"
    armemu.control("POST", "operations/finish")
    assert poller.result().properties.count == 5


def test_the_upgrade_profile_offers_newer_patches_of_the_minor_and_the_next_minor(armemu, client, cluster):
    profile = client.managed_clusters.get_upgrade_profile(RG, "c1")
    assert profile.name == "default" and profile.id.lower() == f"{cluster.id}/upgradeProfiles/default".lower()
    assert profile.type == "Microsoft.ContainerService/managedClusters/upgradeProfiles"
    plane = profile.properties.control_plane_profile
    assert (plane.kubernetes_version, plane.os_type) == ("1.33.2", "Linux")  # "1.33" resolves to its newest GA patch
    assert [(u.kubernetes_version, u.is_preview) for u in plane.upgrades] == [("1.34.0", None), ("1.34.1", None)]
    assert [(p.name, p.kubernetes_version) for p in profile.properties.agent_pool_profiles] == [("system", "1.33.2")]

    table = armemu.control("PUT", "kubernetes-versions", {"versions": [
        "1.32.9", "1.33.2", "1.33.5", "1.34.2", {"version": "1.34.3", "isPreview": True}, "1.35.1"]})
    assert {"version": "1.34.3", "isPreview": True} in table["versions"]
    plane = client.managed_clusters.get_upgrade_profile(RG, "c1").properties.control_plane_profile
    offered = [(u.kubernetes_version, bool(u.is_preview)) for u in plane.upgrades]
    assert offered == [("1.33.5", False), ("1.34.2", False), ("1.34.3", True)]  # no 1.35: minors are not skipped
    again = client.managed_clusters.begin_create_or_update(RG, "c1", cluster_body()).result()  # "1.33" again
    assert again.properties.current_kubernetes_version == "1.33.2"  # a new patch upgrades nothing by itself
    assert again.properties.agent_pool_profiles[0].current_orchestrator_version == "1.33.2"
    assert armemu.control("DELETE", "kubernetes-versions") == armemu.control("GET", "kubernetes-versions")
    assert "1.33.5" not in str(armemu.control("GET", "kubernetes-versions"))


def test_the_upgrade_profile_of_a_missing_cluster_is_404_and_a_bad_version_table_is_refused(armemu, client):
    with pytest.raises(ResourceNotFoundError) as caught:
        client.managed_clusters.get_upgrade_profile(RG, "ghost")
    assert caught.value.error.code == "ResourceNotFound"
    for bad in ({"versions": ["1.33"]}, {"versions": []}, {"versions": [{"version": "1.33.5", "isPreview": "yes"}]}):
        with pytest.raises(requests.HTTPError) as refused:
            armemu.control("PUT", "kubernetes-versions", bad)
        assert refused.value.response.status_code == 400
    assert armemu.control("GET", "kubernetes-versions")["versions"][-1] == {"version": "1.35.0", "isPreview": True}
