"""The ARM side of a plan: api-versions, resource names and the exact request bodies the SDKs send.

Bodies are plain JSON (camelCase, as on the wire). A unit test builds the same resources with the SDK's own
model classes and checks that their serialization equals these bodies, so the domain needs no SDK import.

Two kinds of value are only known at provisioning time and appear as placeholders that the engine resolves:
- `${<resource key>.<json path>}`: an output of an earlier step, e.g. `${identity.properties.principalId}`;
- `${secret:<name>}`: a secret the engine generates and keeps in the secret store; never in a plan or a log.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from shared.domain import armid
from shared.domain.network import SubnetLayout, max_pods
from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.endpoints import PRIVATE_LINK_GROUPS
from shared.domain.rules.networking import pod_cidr

# The api-versions the pinned SDKs send (a unit test checks them against the installed packages).
API_VERSIONS: Mapping[str, str] = {
    "Microsoft.Resources/resourceGroups": "2025-04-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",
    "Microsoft.Network/virtualNetworks": "2026-03-01",
    "Microsoft.Network/privateEndpoints": "2026-03-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2026-03-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.ContainerService/managedClusters": "2026-08-01",
    "Microsoft.ContainerService/managedClusters/agentPools": "2026-08-01",
}

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # built-in role: Network Contributor
WINDOWS_ADMIN_USER = "azureuser"
WINDOWS_PASSWORD = "${secret:windowsAdminPassword}"
NODE_SUBNET = "snet-nodes"
PE_SUBNET = "snet-private-endpoints"
MAX_SURGE = "10%"
MANAGED_BY_TAG = {"managedBy": "aksvend"}
_ROLE_NAMESPACE = uuid.UUID("8a6f5f5e-2a4b-4f0e-9a39-6d1c3e5b7a11")  # aksvend's namespace for uuid5 names


def identity_name(r: ClusterRequest) -> str:
    return f"id-{r.name}"


def vnet_name(r: ClusterRequest) -> str:
    return f"vnet-{r.name}"


def ids(r: ClusterRequest) -> Mapping[str, str]:
    return _ids(r.subscription_id, r.resource_group, r.name)


@functools.lru_cache(maxsize=1024)
def _ids(sub: str, rg: str, name: str) -> Mapping[str, str]:
    vnet = armid.resource_id(sub, rg, "Microsoft.Network", "virtualNetworks", f"vnet-{name}")
    return MappingProxyType({
        "resourceGroup": armid.resource_group_id(sub, rg),
        "identity": armid.resource_id(sub, rg, "Microsoft.ManagedIdentity", "userAssignedIdentities", f"id-{name}"),
        "vnet": vnet,
        "nodeSubnet": f"{vnet}/subnets/{NODE_SUBNET}",
        "peSubnet": f"{vnet}/subnets/{PE_SUBNET}",
        "cluster": armid.resource_id(sub, rg, "Microsoft.ContainerService", "managedClusters", name),
    })


def tags(r: ClusterRequest) -> dict[str, str]:
    return {**r.tags, **MANAGED_BY_TAG, "aksvendCluster": r.name}


def resource_group_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": r.location, "tags": tags(r)}


def identity_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": r.location, "tags": tags(r)}


def vnet_body(r: ClusterRequest, subnets: SubnetLayout) -> dict[str, Any]:
    endpoints = [{"service": s} for s in r.network.service_endpoints]
    node_subnet: dict[str, Any] = {"addressPrefix": str(subnets.node_subnet)}
    if endpoints:
        node_subnet["serviceEndpoints"] = endpoints
    return {
        "location": r.location,
        "tags": tags(r),
        "properties": {
            "addressSpace": {"addressPrefixes": [r.network.vnet_address_space]},
            "subnets": [
                {"name": NODE_SUBNET, "properties": node_subnet},
                {"name": PE_SUBNET, "properties": {
                    "addressPrefix": str(subnets.pe_subnet),
                    "privateEndpointNetworkPolicies": r.network.private_endpoint_network_policies,
                }},
            ],
        },
    }


def role_assignment_name(scope: str, role: str, principal_key: str) -> str:
    """Deterministic GUID, so that a retried PUT hits the same assignment instead of making a second one."""
    return str(uuid.uuid5(_ROLE_NAMESPACE, f"{armid.key(scope)}|{role}|{armid.key(principal_key)}"))


def role_assignment_body(r: ClusterRequest) -> dict[str, Any]:
    role = f"/subscriptions/{r.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{NETWORK_CONTRIBUTOR}"
    return {"properties": {
        "roleDefinitionId": role,
        "principalId": "${identity.properties.principalId}",
        "principalType": "ServicePrincipal",
    }}


def dns_zone_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": "global", "tags": tags(r)}


def vnet_link_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": "global", "tags": tags(r), "properties": {
        "virtualNetwork": {"id": ids(r)["vnet"]}, "registrationEnabled": False}}


def private_endpoint_body(r: ClusterRequest, name: str, target: str, group_id: str) -> dict[str, Any]:
    return {"location": r.location, "tags": tags(r), "properties": {
        "subnet": {"id": ids(r)["peSubnet"]},
        "privateLinkServiceConnections": [
            {"name": name, "properties": {"privateLinkServiceId": target, "groupIds": [group_id]}},
        ],
    }}


def dns_zone_group_body(zone_id: str, zone_name: str) -> dict[str, Any]:
    return {"properties": {"privateDnsZoneConfigs": [
        {"name": zone_name.replace(".", "-"), "properties": {"privateDnsZoneId": zone_id}},
    ]}}


def dns_zone_for(group_id: str) -> str:
    return PRIVATE_LINK_GROUPS[group_id][1]


def agent_pool_properties(r: ClusterRequest, pool: Pool, *, system: bool) -> dict[str, Any]:
    """An agent pool's properties, shared by the cluster PUT (agentPoolProfiles) and the agentPools API."""
    props: dict[str, Any] = {
        "count": pool.count,
        "vmSize": pool.vm_size,
        "osType": pool.os,
        "osSKU": "Windows2022" if pool.os == "Windows" else "Ubuntu",
        "type": "VirtualMachineScaleSets",
        "mode": "System" if system else "User",
        "orchestratorVersion": r.kubernetes_version,
        "maxPods": max_pods(pool, r.network.plugin),
        "vnetSubnetID": ids(r)["nodeSubnet"],
    }
    if pool.zones:
        props["availabilityZones"] = list(pool.zones)
    if pool.autoscale:
        props.update(enableAutoScaling=True, minCount=pool.autoscale.min, maxCount=pool.autoscale.max)
    else:
        props["enableAutoScaling"] = False
    # The system pool's CriticalAddonsOnly taint is a profile default: what the request lists is sent as is.
    if pool.taints:
        props["nodeTaints"] = list(pool.taints)
    labels = {"aksvend.io/workload": pool.workload, **pool.labels}
    props["nodeLabels"] = labels
    if pool.os_disk_type:
        props["osDiskType"] = pool.os_disk_type
    if pool.os_disk_size_gb:
        props["osDiskSizeGB"] = pool.os_disk_size_gb
    if pool.spot:
        # AKS adds the spot label and taint by itself; spot pools do not surge.
        props.update(scaleSetPriority="Spot", scaleSetEvictionPolicy=pool.spot.eviction_policy,
                     spotMaxPrice=pool.spot.max_price)
    else:
        # AKS rounds a percentage surge up to whole nodes: "10%" is max(1, ceil(10% of count)) nodes, within what
        # the subnet plan reserves (network.surge of the pool's maximum).
        props["upgradeSettings"] = {"maxSurge": MAX_SURGE}
    if pool.gpu_driver:
        props["gpuProfile"] = {"driver": pool.gpu_driver}
    return props


def managed_cluster_body(r: ClusterRequest) -> dict[str, Any]:
    """The cluster PUT with all initial pools inside agentPoolProfiles: one mutating operation, not one per pool."""
    network: dict[str, Any] = {
        "networkPlugin": "kubenet" if r.network.plugin == "kubenet" else "azure",
        "serviceCidr": r.network.service_cidr,
        "dnsServiceIP": r.network.dns_service_ip,
        "loadBalancerSku": "standard",
        "outboundType": "loadBalancer",
    }
    if r.network.plugin == "azure-overlay":
        network["networkPluginMode"] = "overlay"
    pods = pod_cidr(r)
    if pods:
        network["podCidr"] = pods
    properties: dict[str, Any] = {
        "kubernetesVersion": r.kubernetes_version,
        "dnsPrefix": dns_prefix(r.name),
        "enableRBAC": True,
        "agentPoolProfiles": [
            {"name": p.name, **agent_pool_properties(r, p, system=i == 0)} for i, p in enumerate(r.pools)
        ],
        "networkProfile": network,
        "addonProfiles": addon_profiles(r),
        "storageProfile": {
            "diskCSIDriver": {"enabled": "disk" in r.addons.csi_drivers},
            "fileCSIDriver": {"enabled": "file" in r.addons.csi_drivers},
            "blobCSIDriver": {"enabled": "blob" in r.addons.csi_drivers},
            "snapshotController": {"enabled": "disk" in r.addons.csi_drivers},
        },
        "autoUpgradeProfile": {"upgradeChannel": r.reactions.auto_upgrade, "nodeOSUpgradeChannel": "NodeImage"},
    }
    if r.addons.defender:
        defender: dict[str, Any] = {"securityMonitoring": {"enabled": True}}
        if r.addons.log_analytics_workspace_id:
            defender["logAnalyticsWorkspaceResourceId"] = r.addons.log_analytics_workspace_id
        properties["securityProfile"] = {"defender": defender}
    if any(p.os == "Windows" for p in r.pools):
        properties["windowsProfile"] = {"adminUsername": WINDOWS_ADMIN_USER, "adminPassword": WINDOWS_PASSWORD}
    return {
        "location": r.location,
        "tags": tags(r),
        "sku": {"name": "Base", "tier": "Standard" if r.is_production else "Free"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {ids(r)["identity"]: {}}},
        "properties": properties,
    }


def addon_profiles(r: ClusterRequest) -> dict[str, Any]:
    monitoring: dict[str, Any] = {"enabled": r.addons.monitoring}
    if r.addons.monitoring and r.addons.log_analytics_workspace_id:
        monitoring["config"] = {"logAnalyticsWorkspaceResourceID": r.addons.log_analytics_workspace_id}
    return {"omsagent": monitoring, "azurepolicy": {"enabled": r.addons.azure_policy}}


def dns_prefix(name: str) -> str:
    """dnsPrefix: 1-54 letters, digits and '-', starting and ending alphanumeric."""
    cleaned = "".join(c if c.isalnum() else "-" for c in name)[:54].strip("-")
    return cleaned or "aks"
