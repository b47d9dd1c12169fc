"""The plan's bodies are exactly what the pinned SDKs send: each resource is built again from the SDK's own model
classes (Python attribute names, not wire names) and serialized the way the SDK's operation does it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.mgmt.authorization.v2022_04_01 import models as authz
from azure.mgmt.containerservice import models as aks
from azure.mgmt.containerservice._utils.model_base import SdkJSONEncoder as AksEncoder
from azure.mgmt.msi.v2024_11_30 import models as msi
from azure.mgmt.network import models as net
from azure.mgmt.network._utils.model_base import SdkJSONEncoder as NetEncoder
from azure.mgmt.privatedns import models as dns
from azure.mgmt.privatedns._utils.model_base import SdkJSONEncoder as DnsEncoder
from azure.mgmt.resource.resources import models as res
from azure.mgmt.resource.resources._utils.model_base import SdkJSONEncoder as ResEncoder

from shared.domain import arm
from shared.domain.plan import plan
from shared.domain.rules import check
from tests.requests import PAYMENTS, STORAGE, SUB


def _wire(model: Any, encoder: type) -> dict:
    return json.loads(json.dumps(model, cls=encoder, exclude_readonly=True))


@pytest.fixture(scope="module")
def planned():
    request, violations = check(PAYMENTS, default_subscription_id=SUB)
    assert request is not None, violations
    return plan(request)


def test_resource_group_body_matches_the_sdk(planned):
    r = planned.request
    model = res.ResourceGroup(location=r.location, tags=arm.tags(r))
    assert _wire(model, ResEncoder) == planned.resource("resourceGroup").body


def test_identity_body_matches_the_sdk(planned):
    r = planned.request
    model = msi.Identity(location=r.location, tags=arm.tags(r))
    assert model.serialize() == planned.resource("identity").body


def test_vnet_body_matches_the_sdk(planned):
    r = planned.request
    subnets = planned.subnets
    model = net.VirtualNetwork(
        location=r.location, tags=arm.tags(r),
        properties=net.VirtualNetworkPropertiesFormat(
            address_space=net.AddressSpace(address_prefixes=["10.40.0.0/16"]),
            subnets=[
                net.Subnet(name="snet-nodes", properties=net.SubnetPropertiesFormat(
                    address_prefix=str(subnets.node_subnet),
                    service_endpoints=[net.ServiceEndpointPropertiesFormat(service=s)
                                       for s in ("Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.Sql")])),
                net.Subnet(name="snet-private-endpoints", properties=net.SubnetPropertiesFormat(
                    address_prefix=str(subnets.pe_subnet), private_endpoint_network_policies="Disabled")),
            ]))
    assert _wire(model, NetEncoder) == planned.resource("vnet").body


def test_role_assignment_body_matches_the_sdk(planned):
    body = planned.resource("roleAssignment").body
    model = authz.RoleAssignmentCreateParameters(
        role_definition_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                           "4d97b98b-1d4f-4787-a291-c67834d212e7",
        principal_id="${identity.properties.principalId}", principal_type="ServicePrincipal")
    assert model.serialize() == body


def test_private_dns_zone_and_link_bodies_match_the_sdk(planned):
    r = planned.request
    zone = dns.PrivateZone(location="global", tags=arm.tags(r))
    assert _wire(zone, DnsEncoder) == planned.resource("dnsZone:blob").body
    link = dns.VirtualNetworkLink(location="global", tags=arm.tags(r), properties=dns.VirtualNetworkLinkProperties(
        virtual_network=dns.SubResource(id=planned.resource("vnet").id), registration_enabled=False))
    assert _wire(link, DnsEncoder) == planned.resource("dnsLink:blob").body


def test_private_endpoint_and_zone_group_bodies_match_the_sdk(planned):
    r = planned.request
    pe = net.PrivateEndpoint(location=r.location, tags=arm.tags(r), properties=net.PrivateEndpointProperties(
        subnet=net.Subnet(id=planned.resource("vnet").id + "/subnets/snet-private-endpoints"),
        private_link_service_connections=[net.PrivateLinkServiceConnection(
            name="data", properties=net.PrivateLinkServiceConnectionProperties(
                private_link_service_id=STORAGE, group_ids=["blob"]))]))
    assert _wire(pe, NetEncoder) == planned.resource("privateEndpoint:data").body
    zone_id = planned.resource("dnsZone:blob").id
    group = net.PrivateDnsZoneGroup(properties=net.PrivateDnsZoneGroupPropertiesFormat(private_dns_zone_configs=[
        net.PrivateDnsZoneConfig(name="privatelink-blob-core-windows-net",
                                 properties=net.PrivateDnsZonePropertiesFormat(private_dns_zone_id=zone_id))]))
    assert _wire(group, NetEncoder) == planned.resource("dnsZoneGroup:data").body


AZL = "AzureLinux"


def _pool(**kw: Any) -> aks.ManagedClusterAgentPoolProfile:
    subnet = kw.pop("subnet")
    base = dict(type="VirtualMachineScaleSets", orchestrator_version="1.33", vnet_subnet_id=subnet, os_type="Linux",
                os_sku="Ubuntu")
    return aks.ManagedClusterAgentPoolProfile(**{**base, **kw})


def test_managed_cluster_body_matches_the_sdk(planned):
    r = planned.request
    subnet = planned.resource("vnet").id + "/subnets/snet-nodes"
    surge = aks.AgentPoolUpgradeSettings(max_surge="10%")
    model = aks.ManagedCluster(
        location=r.location, tags=arm.tags(r),
        sku=aks.ManagedClusterSKU(name="Base", tier="Standard"),
        identity=aks.ManagedClusterIdentity(type="UserAssigned", user_assigned_identities={
            planned.resource("identity").id: aks.ManagedServiceIdentityUserAssignedIdentitiesValue()}),
        properties=aks.ManagedClusterProperties(
            kubernetes_version="1.33", dns_prefix="payments-prod", enable_rbac=True,
            agent_pool_profiles=[
                _pool(name="system", mode="System", count=3, vm_size="Standard_D4s_v5", max_pods=250, os_sku=AZL,
                      availability_zones=["1", "2", "3"], enable_auto_scaling=False,
                      node_taints=["CriticalAddonsOnly=true:NoSchedule"],
                      node_labels={"aksvend.io/workload": "general"}, upgrade_settings=surge, subnet=subnet),
                _pool(name="apps", mode="User", count=5, vm_size="Standard_D8s_v5", max_pods=250, os_sku=AZL,
                      enable_auto_scaling=True, min_count=3, max_count=10,
                      node_labels={"aksvend.io/workload": "general"}, upgrade_settings=surge, subnet=subnet),
                _pool(name="gpu", mode="User", count=2, vm_size="Standard_NC24ads_A100_v4", max_pods=250,
                      enable_auto_scaling=False, node_taints=["sku=gpu:NoSchedule"],
                      node_labels={"aksvend.io/workload": "gpu"}, upgrade_settings=surge, subnet=subnet),
                _pool(name="batch", mode="User", count=0, vm_size="Standard_D8s_v5", max_pods=250, os_sku=AZL,
                      enable_auto_scaling=True, min_count=0, max_count=20,
                      node_labels={"aksvend.io/workload": "batch"}, scale_set_priority="Spot",
                      scale_set_eviction_policy="Delete", spot_max_price=-1, subnet=subnet),
                _pool(name="win1", mode="User", count=2, vm_size="Standard_D4s_v5", max_pods=110, os_type="Windows",
                      os_sku="Windows2022", enable_auto_scaling=False, node_labels={"aksvend.io/workload": "general"},
                      upgrade_settings=surge, subnet=subnet),
            ],
            network_profile=aks.ContainerServiceNetworkProfile(
                network_plugin="azure", network_plugin_mode="overlay", pod_cidr="192.168.0.0/16",
                service_cidr="10.0.0.0/16", dns_service_ip="10.0.0.10", load_balancer_sku="standard",
                outbound_type="loadBalancer"),
            addon_profiles={"omsagent": aks.ManagedClusterAddonProfile(enabled=True),
                            "azurepolicy": aks.ManagedClusterAddonProfile(enabled=True)},
            storage_profile=aks.ManagedClusterStorageProfile(
                disk_csi_driver=aks.ManagedClusterStorageProfileDiskCSIDriver(enabled=True),
                file_csi_driver=aks.ManagedClusterStorageProfileFileCSIDriver(enabled=True),
                blob_csi_driver=aks.ManagedClusterStorageProfileBlobCSIDriver(enabled=True),
                snapshot_controller=aks.ManagedClusterStorageProfileSnapshotController(enabled=True)),
            auto_upgrade_profile=aks.ManagedClusterAutoUpgradeProfile(upgrade_channel="patch",
                                                                      node_os_upgrade_channel="NodeImage"),
            windows_profile=aks.ManagedClusterWindowsProfile(admin_username="azureuser",
                                                             admin_password="${secret:windowsAdminPassword}"),
            # the production profile's options (the Windows pool keeps the Azure dataplane: Cilium is Linux only)
            api_server_access_profile=aks.ManagedClusterAPIServerAccessProfile(
                enable_private_cluster=True, private_dns_zone="system", enable_private_cluster_public_fqdn=False),
            aad_profile=aks.ManagedClusterAADProfile(managed=True, enable_azure_rbac=True),
            disable_local_accounts=True,
            oidc_issuer_profile=aks.ManagedClusterOIDCIssuerProfile(enabled=True),
            security_profile=aks.ManagedClusterSecurityProfile(
                workload_identity=aks.ManagedClusterSecurityProfileWorkloadIdentity(enabled=True)),
        ),
    )
    assert _wire(model, AksEncoder) == json.loads(json.dumps(planned.resource("cluster").body))


def test_api_versions_are_the_ones_the_pinned_sdks_send():
    from azure.mgmt.authorization.v2022_04_01._configuration import AuthorizationManagementClientConfiguration
    from azure.mgmt.containerservice._configuration import ContainerServiceClientConfiguration
    from azure.mgmt.msi.v2024_11_30._configuration import ManagedServiceIdentityClientConfiguration
    from azure.mgmt.network.operations._operations import build_virtual_networks_create_or_update_request
    from azure.mgmt.privatedns._configuration import PrivateDnsManagementClientConfiguration
    from azure.mgmt.resource.resources._configuration import ResourceManagementClientConfiguration

    def version(cfg: type) -> str:
        return cfg(credential=object(), subscription_id=SUB).api_version

    sent = {
        "Microsoft.Resources/resourceGroups": version(ResourceManagementClientConfiguration),
        "Microsoft.ManagedIdentity/userAssignedIdentities": version(ManagedServiceIdentityClientConfiguration),
        "Microsoft.Network/virtualNetworks": build_virtual_networks_create_or_update_request(
            "rg", "vnet", SUB).url.split("api-version=")[1],
        "Microsoft.Network/privateDnsZones": version(PrivateDnsManagementClientConfiguration),
        "Microsoft.Authorization/roleAssignments": version(AuthorizationManagementClientConfiguration),
        "Microsoft.ContainerService/managedClusters": version(ContainerServiceClientConfiguration),
    }
    assert {k: arm.resource_type(k).api_version for k in sent} == sent


def test_every_resource_type_has_a_client_for_its_family_and_durations_for_put_and_delete():
    from shared.adapters.arm_families import CLIENTS

    for record in arm.TYPES.values():
        assert record.family in CLIENTS, record.name
        assert {"put", "delete"} <= set(record.seconds), record.name


def test_a_resource_type_is_found_whatever_the_case_of_its_name():
    assert arm.resource_type("microsoft.containerservice/MANAGEDCLUSTERS") is arm.CLUSTER
    with pytest.raises(LookupError):
        arm.resource_type("Microsoft.Compute/virtualMachines")
