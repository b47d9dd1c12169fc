"""The managed cluster and its agent pools: bodies and records."""

from __future__ import annotations

from typing import Any

from shared.domain.arm.aks_options import (
    cluster_options,
    key_vault_addon,
    network_options,
    pool_options,
    security_options,
)
from shared.domain.arm.names import dns_prefix, identity_body, node_subnet_id, pool_subnet_id, tags
from shared.domain.arm.record import ResourceType
from shared.domain.network import max_pods
from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.networking import pod_cidr

WINDOWS_ADMIN_USER = "azureuser"
WINDOWS_PASSWORD = "${secret:windowsAdminPassword}"
MAX_SURGE = "10%"


def agent_pool_properties(r: ClusterRequest, pool: Pool, *, system: bool) -> dict[str, Any]:
    """An agent pool's properties, shared by the cluster PUT (agentPoolProfiles) and the agentPools API."""
    subnet = pool_subnet_id(r, pool) if pool.subnet else node_subnet_id(r)
    props = _pool_profile(r, pool, system, subnet)
    del props["name"]  # the agentPools API names the pool in its path
    return props


def _pool_profile(r: ClusterRequest, pool: Pool, system: bool, subnet: str | None) -> dict[str, Any]:
    """The pool's entry of agentPoolProfiles: its name, then its properties. One dict, built in place (planning is
    hot: bench/bench_plan.py)."""
    props: dict[str, Any] = {
        "name": pool.name,
        "count": pool.count,
        "vmSize": pool.vm_size,
        "osType": pool.os,
        "osSKU": pool.os_sku or ("Windows2022" if pool.os == "Windows" else "Ubuntu"),
        "type": "VirtualMachineScaleSets",
        "mode": "System" if system else "User",
        "orchestratorVersion": r.kubernetes_version,
        "maxPods": max_pods(pool, r.network.plugin),
    }
    if subnet is not None:  # None: an adopted cluster on AKS's own VNet, which names no subnet
        props["vnetSubnetID"] = subnet
    if pool.zones:
        props["availabilityZones"] = list(pool.zones)
    if pool.autoscale:
        props["enableAutoScaling"] = True
        props["minCount"] = pool.autoscale.min
        props["maxCount"] = pool.autoscale.max
    else:
        props["enableAutoScaling"] = False
    # The system pool's CriticalAddonsOnly taint is a profile default: what the request lists is sent as is.
    if pool.taints:
        props["nodeTaints"] = list(pool.taints)
    props["nodeLabels"] = {"aksvend.io/workload": pool.workload, **pool.labels}
    if pool.os_disk_type:
        props["osDiskType"] = pool.os_disk_type
    if pool.os_disk_size_gb:
        props["osDiskSizeGB"] = pool.os_disk_size_gb
    if pool.spot:
        # AKS adds the spot label and taint by itself; spot pools do not surge.
        props["scaleSetPriority"] = "Spot"
        props["scaleSetEvictionPolicy"] = pool.spot.eviction_policy
        props["spotMaxPrice"] = pool.spot.max_price
    else:
        # AKS rounds a percentage surge up to whole nodes: "10%" is max(1, ceil(10% of count)) nodes, within what
        # the subnet plan reserves (network.surge of the pool's maximum).
        props["upgradeSettings"] = {"maxSurge": pool.max_surge or MAX_SURGE}
    if pool.gpu_driver:
        props["gpuProfile"] = {"driver": pool.gpu_driver}
    props.update(pool_options(pool))
    return props


def managed_cluster_body(r: ClusterRequest) -> dict[str, Any]:
    """The cluster PUT with all initial pools inside agentPoolProfiles: one mutating operation, not one per pool."""
    network: dict[str, Any] = {
        "networkPlugin": "kubenet" if r.network.plugin == "kubenet" else "azure",
        "serviceCidr": r.network.service_cidr,
        "dnsServiceIP": r.network.dns_service_ip,
        "loadBalancerSku": "standard",
        **network_options(r),
    }
    if r.network.plugin == "azure-overlay":
        network["networkPluginMode"] = "overlay"
    pods = pod_cidr(r)
    if pods:
        network["podCidr"] = pods
    properties: dict[str, Any] = {
        "kubernetesVersion": r.kubernetes_version,
        "dnsPrefix": r.dns_prefix or dns_prefix(r.name),
        "enableRBAC": True,
        "agentPoolProfiles": _pool_profiles(r),
        "networkProfile": network,
        "addonProfiles": addon_profiles(r),
        "storageProfile": {
            "diskCSIDriver": {"enabled": "disk" in r.addons.csi_drivers},
            "fileCSIDriver": {"enabled": "file" in r.addons.csi_drivers},
            "blobCSIDriver": {"enabled": "blob" in r.addons.csi_drivers},
            "snapshotController": {"enabled": "disk" in r.addons.csi_drivers},
        },
        "autoUpgradeProfile": {"upgradeChannel": r.reactions.auto_upgrade,
                               "nodeOSUpgradeChannel": r.maintenance.node_os_upgrade_channel},
        **cluster_options(r),
    }
    _profiles(r, properties)
    return {
        "location": r.location,
        "tags": tags(r),
        "sku": {"name": "Base", "tier": "Standard" if r.is_production else "Free"},
        "identity": identity_body(r),
        "properties": properties,
    }


def _pool_profiles(r: ClusterRequest) -> list[dict[str, Any]]:
    """Every pool's entry, the system pool first; the nodes' subnet is looked up once for all."""
    nodes = node_subnet_id(r)
    return [_pool_profile(r, p, i == 0, pool_subnet_id(r, p) if p.subnet else nodes) for i, p in enumerate(r.pools)]


def _profiles(r: ClusterRequest, properties: dict[str, Any]) -> None:
    """The profiles a request sets only when it asks for them: autoscaler, Entra ID for an owner group, security,
    Windows."""
    if r.autoscaler_profile is not None:
        properties["autoScalerProfile"] = r.autoscaler_profile.model_dump(mode="json", by_alias=True, exclude_none=True)
    if r.access is not None:  # Entra-integrated, authorized by Azure RBAC: the owner group's role decides
        properties["aadProfile"] = {**properties.get("aadProfile", {}), "managed": True, "enableAzureRBAC": True}
    security = security_options(r)
    if r.addons.defender:
        defender: dict[str, Any] = {"securityMonitoring": {"enabled": True}}
        if r.addons.log_analytics_workspace_id:
            defender["logAnalyticsWorkspaceResourceId"] = r.addons.log_analytics_workspace_id
        security = {"defender": defender, **security}
    if security:
        properties["securityProfile"] = security
    if r.system_pool.os == "Windows" or "Windows" in [p.os for p in r.user_pools]:  # no generator: planning is hot
        properties["windowsProfile"] = {"adminUsername": WINDOWS_ADMIN_USER, "adminPassword": WINDOWS_PASSWORD}


def addon_profiles(r: ClusterRequest) -> dict[str, Any]:
    monitoring: dict[str, Any] = {"enabled": r.addons.monitoring}
    if r.addons.monitoring and r.addons.log_analytics_workspace_id:
        monitoring["config"] = {"logAnalyticsWorkspaceResourceID": r.addons.log_analytics_workspace_id}
    return {"omsagent": monitoring, "azurepolicy": {"enabled": r.addons.azure_policy}, **key_vault_addon(r)}


def agent_pool_body(request: ClusterRequest, pool: Pool) -> dict[str, Any]:
    """A user pool through the agentPools API (after creation AKS refuses new pools in the cluster PUT)."""
    return {"properties": agent_pool_properties(request, pool, system=False)}


CLUSTER = ResourceType("Microsoft.ContainerService/managedClusters", "2026-08-01", "aks", {"put": 360, "delete": 300},
                       managed_cluster_body)
AGENT_POOL = ResourceType("Microsoft.ContainerService/managedClusters/agentPools", "2026-08-01", "aks",
                          {"put": 240, "scale": 100, "delete": 120}, agent_pool_body)

TYPES = (CLUSTER, AGENT_POOL)
