"""The emulator serves the production options like AKS (issue 18): maintenance configurations as a child resource,
what AKS fills in for a private cluster and the OIDC issuer, and the refusals of aks_features.py and
aks_maintenance.py, each through the real containerservice SDK."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import models as aks

from tests.integration.aks_bodies import aks_client, cluster_body, pool

pytestmark = pytest.mark.integration

RG = "rg-aks-options"
SUB = "00000000-0000-0000-0000-000000000000"
UAI = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
WINDOW = {"schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Sunday"}}, "durationHours": 4,
          "utcOffset": "+00:00", "startTime": "00:00"}


@pytest.fixture
def client(armemu):
    return aks_client(armemu, RG)


@pytest.fixture
def private_cluster(client):
    body = cluster_body(
        apiServerAccessProfile={"enablePrivateCluster": True, "privateDNSZone": "system",
                                "enablePrivateClusterPublicFQDN": False},
        aadProfile={"managed": True, "enableAzureRBAC": True}, disableLocalAccounts=True,
        oidcIssuerProfile={"enabled": True}, securityProfile={"workloadIdentity": {"enabled": True}},
        networkProfile={"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "cilium",
                        "networkDataplane": "cilium"})
    body["properties"]["agentPoolProfiles"][0].update(osSKU="AzureLinux", upgradeSettings={"maxSurge": "33%"},
                                                      kubeletConfig={"imageGcHighThreshold": 80,
                                                                     "imageGcLowThreshold": 60})
    return client.managed_clusters.begin_create_or_update(RG, "private", body).result()


def test_a_private_entra_cluster_is_built_with_what_aks_fills_in(private_cluster):
    props = private_cluster.properties
    assert props.provisioning_state == "Succeeded"
    assert props.private_fqdn.endswith(".privatelink.westeurope.azmk8s.io") and props.fqdn is None
    assert props.oidc_issuer_profile.issuer_url.startswith("https://westeurope.oic.prod-aks.azure.com/")
    assert props.aad_profile.enable_azure_rbac and props.disable_local_accounts
    assert props.network_profile.network_dataplane == "cilium"
    system = props.agent_pool_profiles[0]
    assert (system.os_sku, system.upgrade_settings.max_surge) == ("AzureLinux", "33%")


def test_maintenance_configurations_are_a_child_resource_of_the_cluster(client, private_cluster):
    ops = client.maintenance_configurations
    made = ops.create_or_update(RG, "private", "aksManagedAutoUpgradeSchedule",
                                aks.MaintenanceConfiguration(properties={"maintenanceWindow": WINDOW}))
    assert made.properties.maintenance_window.schedule.weekly.day_of_week == "Sunday"
    got = ops.get(RG, "private", "aksManagedAutoUpgradeSchedule")
    assert got.properties.maintenance_window.duration_hours == 4
    assert [c.name for c in ops.list_by_managed_cluster(RG, "private")] == ["aksManagedAutoUpgradeSchedule"]
    ops.delete(RG, "private", "aksManagedAutoUpgradeSchedule")
    assert list(ops.list_by_managed_cluster(RG, "private")) == []


@pytest.mark.parametrize(("name", "window", "target"), [
    ("weekend", WINDOW, "name"),
    ("aksManagedNodeOSUpgradeSchedule", {**WINDOW, "durationHours": 3}, "properties.maintenanceWindow.durationHours"),
    ("aksManagedNodeOSUpgradeSchedule", {**WINDOW, "schedule": {"weekly": {"intervalWeeks": 5, "dayOfWeek": "Sunday"}}},
     "properties.maintenanceWindow.schedule.weekly.intervalWeeks"),
    ("aksManagedNodeOSUpgradeSchedule", {**WINDOW, "schedule": {}}, "properties.maintenanceWindow.schedule"),
    ("aksManagedNodeOSUpgradeSchedule", {**WINDOW, "startTime": "25:00"}, "properties.maintenanceWindow.startTime"),
    ("default", WINDOW, "properties.maintenanceWindow"),
])
def test_a_maintenance_window_aks_refuses_is_400(client, private_cluster, name, window, target):
    with pytest.raises(HttpResponseError) as caught:
        client.maintenance_configurations.create_or_update(
            RG, "private", name, aks.MaintenanceConfiguration(properties={"maintenanceWindow": window}))
    assert caught.value.status_code == 400 and caught.value.error.target == target


def _refused(client, props: dict[str, Any], *pools: dict, identity: dict | None = None) -> Any:
    body = cluster_body(*pools, **props)
    if identity:
        body["identity"] = identity
    with pytest.raises(HttpResponseError) as caught:
        client.managed_clusters.begin_create_or_update(RG, "refused", body)
    assert caught.value.status_code == 400
    return caught.value.error


PRIVATE = {"enablePrivateCluster": True}
CILIUM = {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium"}


@pytest.mark.parametrize(("props", "target"), [
    ({"apiServerAccessProfile": {**PRIVATE, "authorizedIPRanges": ["203.0.113.0/24"]}},
     "apiServerAccessProfile.authorizedIPRanges"),
    ({"apiServerAccessProfile": {"enablePrivateClusterPublicFQDN": True}},
     "apiServerAccessProfile.enablePrivateClusterPublicFQDN"),
    ({"apiServerAccessProfile": {**PRIVATE, "privateDNSZone": "none", "enablePrivateClusterPublicFQDN": False}},
     "apiServerAccessProfile.enablePrivateClusterPublicFQDN"),
    ({"apiServerAccessProfile": {**PRIVATE, "privateDNSZone": "privatelink.westeurope.azmk8s.io"}},
     "apiServerAccessProfile.privateDNSZone"),
    ({"aadProfile": {"enableAzureRBAC": True}}, "aadProfile.enableAzureRBAC"),
    ({"disableLocalAccounts": True}, "disableLocalAccounts"),
    ({"securityProfile": {"workloadIdentity": {"enabled": True}}}, "securityProfile.workloadIdentity"),
    ({"networkProfile": {"networkPolicy": "cilium"}}, "networkProfile.networkPolicy"),
    ({"networkProfile": {**CILIUM, "networkPolicy": "calico"}}, "networkProfile.networkPolicy"),
    ({"networkProfile": {"networkPlugin": "kubenet", "networkDataplane": "cilium"}},
     "networkProfile.networkDataplane"),
    ({"networkProfile": {"outboundType": "userDefinedRouting"}}, "networkProfile.outboundType"),
    ({"networkProfile": {"outboundType": "userAssignedNATGateway"}}, "networkProfile.outboundType"),
    ({"metricsProfile": {"costAnalysis": {"enabled": True}}}, "metricsProfile.costAnalysis"),
])
def test_a_cluster_option_aks_refuses_is_400_naming_the_field(client, props, target):
    assert _refused(client, props).target == target


def test_a_private_dns_zone_of_its_own_needs_a_user_assigned_identity(client):
    zone = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/privateDnsZones/"
            "privatelink.westeurope.azmk8s.io")
    error = _refused(client, {"apiServerAccessProfile": {**PRIVATE, "privateDNSZone": zone}},
                     identity={"type": "SystemAssigned"})
    assert error.target == "identity"
    error = _refused(client, {"apiServerAccessProfile": {**PRIVATE, "privateDNSZone": zone.replace("west", "north")}})
    assert error.target == "apiServerAccessProfile.privateDNSZone"


def test_udr_on_a_subnet_without_a_route_table_is_refused_with_aks_code(client):
    subnet = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    error = _refused(client, {"networkProfile": {"outboundType": "userDefinedRouting"}},
                     pool("system", mode="System", count=3, vnetSubnetID=subnet))
    assert error.code == "ExistingRouteTableNotAssociatedWithSubnet"
    error = _refused(client, {"networkProfile": {"outboundType": "managedNATGateway"}},
                     pool("system", mode="System", count=3, vnetSubnetID=subnet))
    assert error.target == "networkProfile.outboundType"


SYSTEM = pool("system", mode="System", count=3)


@pytest.mark.parametrize(("user", "props", "target"), [
    (pool("linux", osSKU="Windows2022"), {}, "agentPoolProfile.linux.osSKU"),
    (pool("mig", gpuInstanceProfile="MIG1g"), {}, "agentPoolProfile.mig.gpuInstanceProfile"),
    (pool("spot", scaleSetPriority="Spot", scaleDownMode="Deallocate"), {}, "agentPoolProfile.spot.scaleDownMode"),
    (pool("eph", vmSize="Standard_D4ds_v5", osDiskType="Ephemeral", scaleDownMode="Deallocate"), {},
     "agentPoolProfile.eph.scaleDownMode"),
    (pool("gc", kubeletConfig={"imageGcHighThreshold": 60, "imageGcLowThreshold": 60}), {},
     "agentPoolProfile.gc.kubeletConfig"),
    (pool("surge", upgradeSettings={"maxSurge": "ten"}), {}, "agentPoolProfile.surge.upgradeSettings.maxSurge"),
    (pool("win", osType="Windows"), {"networkProfile": CILIUM, "windowsProfile": {
        "adminUsername": "azureuser", "adminPassword": "Sup3r-Secret-Passw0rd"}}, "networkProfile.networkDataplane"),
])
def test_a_pool_option_aks_refuses_is_400_naming_the_field(client, user, props, target):
    assert _refused(client, props, SYSTEM, user).target == target


def test_mig_on_an_a100_size_is_accepted(client):
    body = cluster_body(SYSTEM, pool("mig", vmSize="Standard_NC24ads_A100_v4", count=1, gpuInstanceProfile="MIG3g"))
    made = client.managed_clusters.begin_create_or_update(RG, "mig", body).result()
    assert next(p for p in made.properties.agent_pool_profiles if p.name == "mig").gpu_instance_profile == "MIG3g"
