"""The production options' bodies (issue 18) are exactly what azure-mgmt-containerservice sends: the cluster's
sections and a pool's options built with the SDK's models, and the maintenance configurations, serialized as the SDK
does (like tests/unit/test_arm_bodies.py for the seed's bodies)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.mgmt.containerservice import models as aks
from azure.mgmt.containerservice._utils.model_base import SdkJSONEncoder as AksEncoder

from shared.domain.plan import plan
from shared.domain.rules import check
from tests.requests import SUB

GROUP = "00000000-0000-0000-0000-0000000000aa"
WORKSPACE = (f"/subscriptions/{SUB}/resourceGroups/rg-obs/providers/Microsoft.OperationalInsights/workspaces/law")
OPTIONS: dict[str, Any] = {
    "name": "opts", "resourceGroup": "rg-opts", "location": "westeurope", "profile": "production",
    "systemPool": {"vmSize": "Standard_D4ds_v5", "count": 3, "osSku": "Ubuntu", "maxSurge": "33%",
                   "osDiskType": "Ephemeral", "osDiskSizeGb": 100, "enableEncryptionAtHost": True,
                   "kubeletConfig": {"podMaxPids": 4096, "imageGcHighThreshold": 80, "imageGcLowThreshold": 60}},
    "userPools": [
        {"name": "mig", "workload": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "count": 1,
         "taints": ["sku=gpu:NoSchedule"], "gpuInstanceProfile": "MIG3g", "scaleDownMode": "Deallocate",
         "labels": {"team": "ml"}},
    ],
    "network": {"policy": "calico", "dataplane": "azure"},
    "apiServer": {"private": False, "authorizedIpRanges": ["203.0.113.0/24"]},
    "entraId": {"azureRbac": False, "adminGroupObjectIds": [GROUP], "disableLocalAccounts": True},
    "security": {"imageCleaner": True, "imageCleanerIntervalHours": 48},
    "addons": {"monitoring": True, "logAnalyticsWorkspaceId": WORKSPACE, "keyVaultSecretsProvider": True,
               "secretRotation": True, "costAnalysis": True, "managedPrometheus": True},
    "maintenance": {"nodeOsUpgradeChannel": "SecurityPatch", "nodeOsUpgradeWindow": {"startTime": "02:30",
                    "durationHours": 6, "utcOffset": "+01:00", "intervalDays": 2,
                                                                          "dayOfWeek": None}},
}


def _wire(model: Any) -> dict:
    return json.loads(json.dumps(model, cls=AksEncoder, exclude_readonly=True))


@pytest.fixture(scope="module")
def planned():
    request, violations = check(OPTIONS, default_subscription_id=SUB)
    assert request is not None, violations
    return plan(request)


def test_the_cluster_sections_of_the_options_match_the_sdk(planned):
    props = planned.resource("cluster").body["properties"]
    model = aks.ManagedClusterProperties(
        api_server_access_profile=aks.ManagedClusterAPIServerAccessProfile(authorized_ip_ranges=["203.0.113.0/24"]),
        aad_profile=aks.ManagedClusterAADProfile(managed=True, enable_azure_rbac=False,
                                                 admin_group_object_i_ds=[GROUP]),
        disable_local_accounts=True,
        oidc_issuer_profile=aks.ManagedClusterOIDCIssuerProfile(enabled=True),
        security_profile=aks.ManagedClusterSecurityProfile(
            workload_identity=aks.ManagedClusterSecurityProfileWorkloadIdentity(enabled=True),
            image_cleaner=aks.ManagedClusterSecurityProfileImageCleaner(enabled=True, interval_hours=48)),
        metrics_profile=aks.ManagedClusterMetricsProfile(cost_analysis=aks.ManagedClusterCostAnalysis(enabled=True)),
        azure_monitor_profile=aks.ManagedClusterAzureMonitorProfile(
            metrics=aks.ManagedClusterAzureMonitorProfileMetrics(enabled=True)),
        auto_upgrade_profile=aks.ManagedClusterAutoUpgradeProfile(upgrade_channel="patch",
                                                                  node_os_upgrade_channel="SecurityPatch"),
        addon_profiles={
            "omsagent": aks.ManagedClusterAddonProfile(enabled=True,
                                                       config={"logAnalyticsWorkspaceResourceID": WORKSPACE}),
            "azurepolicy": aks.ManagedClusterAddonProfile(enabled=True),
            "azureKeyvaultSecretsProvider": aks.ManagedClusterAddonProfile(
                enabled=True, config={"enableSecretRotation": "true"})},
    )
    wire = _wire(model)
    assert {k: props[k] for k in wire} == wire


def test_the_network_policy_and_outbound_type_match_the_sdk(planned):
    network = planned.resource("cluster").body["properties"]["networkProfile"]
    model = aks.ContainerServiceNetworkProfile(network_plugin="azure", network_plugin_mode="overlay",
                                               pod_cidr="192.168.0.0/16", service_cidr="10.0.0.0/16",
                                               dns_service_ip="10.0.0.10", load_balancer_sku="standard",
                                               outbound_type="loadBalancer", network_policy="calico")
    assert _wire(model) == network


def test_a_pools_options_match_the_sdk(planned):
    system, mig = planned.resource("cluster").body["properties"]["agentPoolProfiles"]
    kubelet = aks.KubeletConfig(pod_max_pids=4096, image_gc_high_threshold=80, image_gc_low_threshold=60)
    wire = _wire(aks.ManagedClusterAgentPoolProfile(
        name="system", os_sku="Ubuntu", upgrade_settings=aks.AgentPoolUpgradeSettings(max_surge="33%"),
        os_disk_type="Ephemeral", os_disk_size_gb=100, enable_encryption_at_host=True, kubelet_config=kubelet))
    assert {k: system[k] for k in wire} == wire
    wire = _wire(aks.ManagedClusterAgentPoolProfile(name="mig", gpu_instance_profile="MIG3g",
                                                    scale_down_mode="Deallocate", os_sku="Ubuntu"))
    assert {k: mig[k] for k in wire} == wire


def test_the_maintenance_configuration_matches_the_sdk(planned):
    assert [r.key for r in planned.resources if r.key.startswith("maintenance:")] == [
        "maintenance:aksManagedAutoUpgradeSchedule", "maintenance:aksManagedNodeOSUpgradeSchedule"]
    model = aks.MaintenanceConfiguration(properties=aks.MaintenanceConfigurationProperties(
        maintenance_window=aks.MaintenanceWindow(
            schedule=aks.Schedule(daily=aks.DailySchedule(interval_days=2)), duration_hours=6, utc_offset="+01:00",
            start_time="02:30")))
    resource = planned.resource("maintenance:aksManagedNodeOSUpgradeSchedule")
    assert _wire(model) == resource.body
    weekly = aks.Schedule(weekly=aks.WeeklySchedule(interval_weeks=1, day_of_week="Sunday"))
    production, _ = check({"name": "p", "resourceGroup": "rg", "location": "westeurope", "profile": "production"},
                          default_subscription_id=SUB)
    assert production is not None
    body = plan(production).resource("maintenance:aksManagedAutoUpgradeSchedule").body
    assert body["properties"]["maintenanceWindow"]["schedule"] == _wire(weekly)


def test_the_maintenance_api_version_is_the_one_the_sdk_sends():
    from azure.mgmt.containerservice._configuration import ContainerServiceClientConfiguration

    from shared.domain import arm

    sent = ContainerServiceClientConfiguration(credential=object(), subscription_id=SUB).api_version
    assert arm.MAINTENANCE.api_version == sent
    assert arm.resource_type(arm.MAINTENANCE.name) is arm.MAINTENANCE
