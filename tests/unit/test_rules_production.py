"""The production options' rules (issue 18), table-driven like tests/unit/test_rules.py: the valid edge does not raise
the rule's code, the invalid edge raises it at its path. test_rules.py checks that every code has a case here or
there."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.domain.profiles import PROFILES
from shared.domain.rules import check
from tests.requests import DELETE, MINIMAL_PRODUCTION, PAYMENTS, SUB, patched

# The production profile whole (Cilium, private, Entra ID), its user pools written out so that patches reach them:
# 0 apps, 1 gpu (A100), 2 batch (spot).
PROD = {**MINIMAL_PRODUCTION, "subscriptionId": SUB, "userPools": copy.deepcopy(PROFILES["production"]["userPools"])}
DEV = {**MINIMAL_PRODUCTION, "profile": "development"}
ZONES = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones"
GROUP = "00000000-0000-0000-0000-0000000000aa"
WINDOW = "/maintenance/autoUpgradeWindow"

# (code, path, base, valid patch, invalid patch)
PRODUCTION_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # API server
    ("AUTHORIZED_IP_RANGES_PRIVATE", "/apiServer/authorizedIpRanges", PROD,
     {"/apiServer": {"private": False, "authorizedIpRanges": ["203.0.113.0/24"]}},
     {"/apiServer/authorizedIpRanges": ["203.0.113.0/24"]}),
    ("AUTHORIZED_IP_RANGE_FORMAT", "/apiServer/authorizedIpRanges/0", PROD,
     {"/apiServer": {"private": False, "authorizedIpRanges": ["203.0.113.7"]}},
     {"/apiServer": {"private": False, "authorizedIpRanges": ["203.0.113.7/24"]}}),
    ("PUBLIC_FQDN_NOT_PRIVATE", "/apiServer/publicFqdn", PROD, {"/apiServer/publicFqdn": True},
     {"/apiServer": {"private": False, "publicFqdn": True}}),
    ("PRIVATE_DNS_NONE_NEEDS_PUBLIC_FQDN", "/apiServer/publicFqdn", PROD,
     {"/apiServer": {"privateDnsZone": "none", "publicFqdn": True}}, {"/apiServer/privateDnsZone": "none"}),
    ("PRIVATE_DNS_NONE_CUSTOM_DNS", "/apiServer/privateDnsZone", PROD, {"/apiServer/privateDnsZone": "system"},
     {"/apiServer": {"privateDnsZone": "none", "publicFqdn": True}}),
    ("PRIVATE_DNS_ZONE_FORMAT", "/apiServer/privateDnsZone", PROD,
     {"/apiServer/privateDnsZone": f"{ZONES}/privatelink.westeurope.azmk8s.io"},
     {"/apiServer/privateDnsZone": "privatelink.westeurope.azmk8s.io"}),
    ("PRIVATE_DNS_ZONE_NAME", "/apiServer/privateDnsZone", PROD,
     {"/apiServer/privateDnsZone": f"{ZONES}/shop.privatelink.westeurope.azmk8s.io"},
     {"/apiServer/privateDnsZone": f"{ZONES}/privatelink.northeurope.azmk8s.io"}),
    # Entra ID
    ("AZURE_RBAC_NEEDS_ENTRA", "/entraId/azureRbac", PROD, {"/entraId": {"managed": True}},
     {"/entraId": {"managed": False, "disableLocalAccounts": False}}),
    ("LOCAL_ACCOUNTS_NEED_ENTRA", "/entraId/disableLocalAccounts", PROD, {"/entraId": {"managed": True}},
     {"/entraId": {"managed": False, "azureRbac": False}}),
    ("ENTRA_GROUP_ID_FORMAT", "/entraId/adminGroupObjectIds/0", PROD, {"/entraId/adminGroupObjectIds": [GROUP]},
     {"/entraId/adminGroupObjectIds": ["platform-admins"]}),
    ("ENTRA_NO_ADMIN", "/entraId/adminGroupObjectIds", PROD,
     {"/entraId": {"azureRbac": False, "adminGroupObjectIds": [GROUP]}}, {"/entraId/azureRbac": False}),
    # Azure RBAC (the profile's) with no owner group and no admin group: nobody is given a role
    ("ENTRA_NO_ADMIN", "/access", PROD, {"/access": {"ownerGroup": GROUP}}, {}),
    ("ENTRA_NO_ADMIN", "/access", PROD, {"/entraId/adminGroupObjectIds": [GROUP]},
     {"/entraId/disableLocalAccounts": False}),
    ("WORKLOAD_IDENTITY_NEEDS_OIDC", "/security/oidcIssuer", PROD, {"/security/workloadIdentity": False,
                                                                    "/security/oidcIssuer": False},
     {"/security/oidcIssuer": False}),
    # network policy, dataplane, outbound
    ("CILIUM_POLICY_NEEDS_DATAPLANE", "/network/policy", PROD, {"/network/policy": "azure",
                                                                "/network/dataplane": "azure"},
     {"/network/dataplane": "azure"}),
    ("CILIUM_DATAPLANE_POLICY", "/network/policy", PROD, {"/network/policy": "none"}, {"/network/policy": "calico"}),
    ("CILIUM_NEEDS_AZURE_CNI", "/network/dataplane", PROD, {"/network/plugin": "azure"},
     {"/network/plugin": "kubenet"}),
    ("AZURE_POLICY_NEEDS_AZURE_CNI", "/network/policy", DEV, {"/network": {"plugin": "kubenet", "policy": "calico"}},
     {"/network": {"plugin": "kubenet", "policy": "azure"}}),
    # the profile's Cilium gives way to a Windows pool; a Cilium the request asks for itself does not
    ("CILIUM_WINDOWS", "/userPools/3/os", PAYMENTS, {}, {"/network/dataplane": "cilium"}),
    ("OUTBOUND_MANAGED_NAT_CUSTOM_VNET", "/network/outboundType", PROD, {"/network/outboundType": "loadBalancer"},
     {"/network/outboundType": "managedNATGateway"}),
    ("OUTBOUND_NEEDS_BYO_SUBNET", "/network/outboundType", PROD, {"/network/outboundType": "loadBalancer"},
     {"/network/outboundType": "userDefinedRouting"}),
    ("OUTBOUND_NEEDS_BYO_SUBNET", "/network/outboundType", PROD, {},
     {"/network/outboundType": "userAssignedNATGateway"}),
    # add-ons and maintenance
    ("COST_ANALYSIS_NEEDS_STANDARD_TIER", "/addons/costAnalysis", PROD, {"/addons/costAnalysis": True},
     {"/addons/costAnalysis": True, "/profile": "development"}),
    ("SECRET_ROTATION_WITHOUT_PROVIDER", "/addons/secretRotation", PROD,
     {"/addons/secretRotation": True, "/addons/keyVaultSecretsProvider": True}, {"/addons/secretRotation": True}),
    ("NODE_OS_CHANNEL_WITH_NODE_IMAGE", "/maintenance/nodeOsUpgradeChannel", PROD,
     {"/reactions/autoUpgrade": "node-image"},
     {"/reactions/autoUpgrade": "node-image", "/maintenance/nodeOsUpgradeChannel": "SecurityPatch"}),
    ("MAINTENANCE_START_TIME", f"{WINDOW}/startTime", PROD, {f"{WINDOW}/startTime": "23:59"},
     {f"{WINDOW}/startTime": "24:00"}),
    ("MAINTENANCE_UTC_OFFSET", f"{WINDOW}/utcOffset", PROD, {f"{WINDOW}/utcOffset": "-05:30"},
     {f"{WINDOW}/utcOffset": "05:30"}),
    ("MAINTENANCE_WINDOW_UNUSED", "/maintenance/nodeOsUpgradeWindow", PROD,
     {"/maintenance/nodeOsUpgradeChannel": "SecurityPatch"}, {"/maintenance/nodeOsUpgradeChannel": "None"}),
    # pools
    ("OS_SKU_OS_MISMATCH", "/userPools/0/osSku", PROD, {"/userPools/0/osSku": "Ubuntu"},
     {"/userPools/0/osSku": "Windows2025"}),
    ("OS_SKU_SIZE_UNSUPPORTED", "/userPools/1/osSku", PROD, {"/userPools/1/osSku": "Ubuntu"},
     {"/userPools/1/osSku": "AzureLinux"}),
    ("MAX_SURGE_FORMAT", "/userPools/0/maxSurge", PROD, {"/userPools/0/maxSurge": "100%"},
     {"/userPools/0/maxSurge": "101%"}),
    ("MAX_SURGE_FORMAT", "/userPools/0/maxSurge", PROD, {"/userPools/0/maxSurge": "3"},
     {"/userPools/0/maxSurge": "0"}),
    ("MAX_SURGE_SPOT", "/userPools/2/maxSurge", PROD, {"/userPools/0/maxSurge": "1"},
     {"/userPools/2/maxSurge": "1"}),
    ("KUBELET_IMAGE_GC_THRESHOLDS", "/userPools/0/kubeletConfig/imageGcLowThreshold", PROD,
     {"/userPools/0/kubeletConfig": {"imageGcHighThreshold": 85, "imageGcLowThreshold": 84}},
     {"/userPools/0/kubeletConfig": {"imageGcHighThreshold": 85, "imageGcLowThreshold": 85}}),
    ("KUBELET_POD_MAX_PIDS", "/userPools/0/kubeletConfig/podMaxPids", PROD,
     {"/userPools/0/kubeletConfig": {"podMaxPids": -1}}, {"/userPools/0/kubeletConfig": {"podMaxPids": 0}}),
    ("MIG_SIZE_UNSUPPORTED", "/userPools/0/gpuInstanceProfile", PROD,
     {"/userPools/1/gpuInstanceProfile": "MIG7g"}, {"/userPools/0/gpuInstanceProfile": "MIG1g"}),
    ("SCALE_DOWN_DEALLOCATE_SPOT", "/userPools/2/scaleDownMode", PROD, {"/userPools/2/scaleDownMode": "Delete"},
     {"/userPools/2/scaleDownMode": "Deallocate"}),
    ("SCALE_DOWN_DEALLOCATE_EPHEMERAL", "/userPools/0/scaleDownMode", PROD,
     {"/userPools/0/scaleDownMode": "Deallocate", "/userPools/0/vmSize": "Standard_D8ds_v5"},
     {"/userPools/0/scaleDownMode": "Deallocate", "/userPools/0/vmSize": "Standard_D8ds_v5",
      "/userPools/0/osDiskType": "Ephemeral"}),
    ("ENCRYPTION_AT_HOST_FEATURE", "/userPools/0/enableEncryptionAtHost", PROD,
     {"/userPools/0/enableEncryptionAtHost": False}, {"/userPools/0/enableEncryptionAtHost": True}),
    ("LABEL_RESERVED_PREFIX", "/userPools/0/labels/kubernetes.azure.com~1team", PROD,
     {"/userPools/0/labels": {"example.com/team": "a"}}, {"/userPools/0/labels": {"kubernetes.azure.com/team": "a"}}),
    ("TAINT_RESERVED_PREFIX", "/userPools/0/taints/0", PROD, {"/userPools/0/taints": ["team=a:NoSchedule"]},
     {"/userPools/0/taints": ["kubernetes.azure.com/team=a:NoSchedule"]}),
]


def _codes(raw: dict[str, Any]) -> set[tuple[str, str]]:
    _, violations = check(raw, default_subscription_id=SUB)
    return {(v.code, v.path) for v in violations}


@pytest.mark.parametrize(("code", "path", "base", "valid", "invalid"), PRODUCTION_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(PRODUCTION_CASES)])
def test_rule_holds_at_the_valid_edge_and_fires_at_the_invalid_edge(code, path, base, valid, invalid):
    assert code not in {c for c, _ in _codes(patched(base, valid))}
    assert (code, path) in _codes(patched(base, invalid))


def test_the_production_profile_is_valid_with_only_the_workspace_and_no_access_warnings():
    request, violations = check(PROD, default_subscription_id=SUB)
    assert request is not None
    assert sorted((v.code, v.severity) for v in violations) == [("ADDON_DEFAULT_WORKSPACE", "warning"),
                                                               ("ENTRA_NO_ADMIN", "warning")]
    _, violations = check({**PROD, "access": {"ownerGroup": GROUP}}, default_subscription_id=SUB)
    assert [(v.code, v.severity) for v in violations] == [("ADDON_DEFAULT_WORKSPACE", "warning")]
    assert (request.api_server.private, request.entra_id and request.entra_id.azure_rbac) == (True, True)
    assert [p.os_sku for p in request.pools] == ["AzureLinux", "AzureLinux", None, "AzureLinux"]  # GPU: Ubuntu
    assert (request.network.dataplane, request.network.policy) == ("cilium", "cilium")


def test_a_windows_pool_keeps_the_azure_dataplane_unless_the_request_asks_for_cilium():
    request, _ = check(PAYMENTS, default_subscription_id=SUB)
    assert request is not None and (request.network.dataplane, request.network.policy) == ("azure", "none")
    request, _ = check(patched(PAYMENTS, {"/network/policy": "azure"}), default_subscription_id=SUB)
    assert request is not None and (request.network.dataplane, request.network.policy) == ("azure", "azure")


def test_every_production_option_can_be_turned_off():
    raw = patched(PROD, {"/apiServer": None, "/entraId": None, "/security": None, "/maintenance": None,
                         "/network/policy": "none", "/network/dataplane": "azure", "/userPools": DELETE})
    request, violations = check(raw, default_subscription_id=SUB)
    assert request is not None, violations
    assert not request.api_server.private and request.entra_id is None and not request.security.workload_identity
    assert request.maintenance.auto_upgrade_window is None


def test_a_private_cluster_with_an_existing_zone_gets_a_role_on_it_before_the_cluster():
    from shared.domain.plan import plan

    zone = f"{ZONES}/privatelink.westeurope.azmk8s.io"
    request, violations = check(patched(PROD, {"/apiServer/privateDnsZone": zone}), default_subscription_id=SUB)
    assert request is not None, violations
    p = plan(request)
    role = p.resource("roleAssignment:apiServerDnsZone")
    assert role.id.startswith(f"{zone}/providers/Microsoft.Authorization/roleAssignments/")
    assert role.body["properties"]["roleDefinitionId"].endswith("b12aa53e-6015-4669-85d0-8515ebb3ae7f")
    assert "roleAssignment:apiServerDnsZone" in p.resource("cluster").depends_on
    assert p.resource("cluster").body["properties"]["apiServerAccessProfile"]["privateDNSZone"] == zone


def test_a_custom_surge_is_reserved_in_the_node_subnet():
    from shared.domain.network import node_subnet_ips, surge

    assert (surge(10, "33%"), surge(10, "5"), surge(10, None), surge(3, "1%")) == (4, 5, 1, 1)
    base, _ = check(PROD, default_subscription_id=SUB)
    wide, _ = check(patched(PROD, {"/userPools/0/maxSurge": "100%"}), default_subscription_id=SUB)
    assert base is not None and wide is not None
    assert node_subnet_ips(wide) - node_subnet_ips(base) == 10 - 1  # apps: up to 10 nodes, surge 1 -> 10
