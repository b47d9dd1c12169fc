"""Every rule, table-driven: the valid edge does not raise the rule's code, the invalid edge raises it at its path."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.rules import check
from tests.requests import DELETE, PAYMENTS, STORAGE, SUB, VAULT, patched

DEV = {**PAYMENTS, "profile": "development"}
SQL = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-data"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-obs/providers/Microsoft.OperationalInsights/workspaces/law"

# (code, path, base, valid patch, invalid patch)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # cluster
    ("CLUSTER_NAME_FORMAT", "/name", PAYMENTS, {"/name": "a" * 63}, {"/name": "a" * 62 + "-"}),
    ("CLUSTER_NAME_FORMAT", "/name", PAYMENTS, {"/name": "a_b-c"}, {"/name": "-abc"}),
    ("SUBSCRIPTION_ID_FORMAT", "/subscriptionId", PAYMENTS, {"/subscriptionId": SUB}, {"/subscriptionId": "1234"}),
    ("RESOURCE_GROUP_NAME_FORMAT", "/resourceGroup", PAYMENTS, {"/resourceGroup": "rg.(x)_y"},
     {"/resourceGroup": "rg-shop."}),
    ("RESOURCE_GROUP_NAME_FORMAT", "/resourceGroup", PAYMENTS, {"/resourceGroup": "r" * 90},
     {"/resourceGroup": "rg shop"}),
    # a name is matched whole: `$` also matches before a final newline
    ("RESOURCE_GROUP_NAME_FORMAT", "/resourceGroup", PAYMENTS, {"/resourceGroup": "rg-shop"},
     {"/resourceGroup": "rg-shop\n"}),
    ("CLUSTER_NAME_FORMAT", "/name", PAYMENTS, {"/name": "shop"}, {"/name": "shop\n"}),
    ("POOL_NAME_FORMAT", "/userPools/0/name", PAYMENTS, {"/userPools/0/name": "apps2"},
     {"/userPools/0/name": "apps2\n"}),
    ("KUBERNETES_VERSION_FORMAT", "/kubernetesVersion", PAYMENTS, {"/kubernetesVersion": "1.33"},
     {"/kubernetesVersion": "1.33\n"}),
    ("LOCATION_UNKNOWN", "/location", PAYMENTS, {"/location": "swedencentral"}, {"/location": "westeurop"}),
    ("KUBERNETES_VERSION_FORMAT", "/kubernetesVersion", PAYMENTS, {"/kubernetesVersion": "1.33.2"},
     {"/kubernetesVersion": "v1.33"}),
    ("KUBERNETES_VERSION_FORMAT", "/kubernetesVersion", PAYMENTS, {"/kubernetesVersion": "1.30"},
     {"/kubernetesVersion": "2.0"}),
    ("CLUSTER_POOL_LIMIT", "/userPools", DEV,
     {"/userPools": [{"name": f"p{i}", "count": 0} for i in range(99)]},
     {"/userPools": [{"name": f"p{i}", "count": 0} for i in range(100)]}),
    ("CLUSTER_NODE_LIMIT", "/userPools", {**DEV, "network": {"vnetAddressSpace": "10.0.0.0/8",
                                                            "serviceCidr": "172.16.0.0/16",
                                                            "dnsServiceIp": "172.16.0.10",
                                                            "podCidr": "100.64.0.0/10"}},
     {"/userPools": [{"name": f"p{i}", "count": 999 if i < 5 else 2} for i in range(6)]},
     {"/userPools": [{"name": f"p{i}", "count": 1000} for i in range(5)]}),
    ("ARM_ID_FORMAT", "/addons/logAnalyticsWorkspaceId", PAYMENTS, {"/addons/logAnalyticsWorkspaceId": WS},
     {"/addons/logAnalyticsWorkspaceId": STORAGE}),
    ("ADDON_DEFAULT_WORKSPACE", "/addons/logAnalyticsWorkspaceId", PAYMENTS,
     {"/addons/logAnalyticsWorkspaceId": WS}, {"/addons/monitoring": True}),
    ("CSI_DRIVER_DUPLICATE", "/addons/csiDrivers", PAYMENTS, {"/addons/csiDrivers": ["disk"]},
     {"/addons/csiDrivers": ["disk", "disk"]}),
    ("TAG_NAME_FORMAT", "/tags/cost~1center", PAYMENTS, {"/tags": {"cost-center": "1"}},
     {"/tags": {"cost/center": "1"}}),
    # access
    ("ACCESS_OWNER_GROUP_FORMAT", "/access/ownerGroup", PAYMENTS, {"/access": {"ownerGroup": SUB}},
     {"/access": {"ownerGroup": "team-payments"}}),
    ("ACCESS_ROLE_UNKNOWN", "/access/role", PAYMENTS,
     {"/access": {"ownerGroup": SUB, "role": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"}},
     {"/access": {"ownerGroup": SUB, "role": "Owner"}}),
    ("ACCESS_ROLE_UNKNOWN", "/access/role", PAYMENTS,
     {"/access": {"ownerGroup": SUB, "role": "azure kubernetes service rbac reader"}},
     {"/access": {"ownerGroup": SUB, "role": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}}),
    # a pool's own subnet (apps: autoscale 3-10, 11 addresses with surge)
    ("POOL_SUBNET_USER_ONLY", "/systemPool/subnet", PAYMENTS, {"/userPools/0/subnet": "10.40.128.0/24"},
     {"/systemPool/subnet": "10.40.128.0/24"}),
    ("POOL_SUBNET_OUTSIDE_VNET", "/userPools/0/subnet", PAYMENTS, {"/userPools/0/subnet": "10.40.255.0/24"},
     {"/userPools/0/subnet": "10.41.0.0/24"}),
    ("POOL_SUBNET_OUTSIDE_VNET", "/userPools/0/subnet", PAYMENTS, {"/userPools/0/subnet": "auto"},
     {"/userPools/0/subnet": "10.40.128.1/24"}),
    ("POOL_SUBNET_OVERLAP", "/userPools/0/subnet", PAYMENTS, {"/userPools/0/subnet": "10.40.1.0/24"},
     {"/userPools/0/subnet": "10.40.0.0/24"}),
    ("POOL_SUBNET_TOO_SMALL", "/userPools/0/subnet", PAYMENTS, {"/userPools/0/subnet": "10.40.128.0/28"},
     {"/userPools/0/subnet": "10.40.128.0/29"}),
    ("POOL_SUBNET_NO_ROOM", "/userPools/0/subnet", PAYMENTS,
     {"/network/vnetAddressSpace": "10.40.0.0/25", "/userPools/0/subnet": "auto"},
     {"/network/vnetAddressSpace": "10.40.0.0/25", "/userPools/0/subnet": "auto",
      "/userPools/0/autoscale": {"min": 3, "max": 60}}),
    # pools
    ("POOL_NAME_FORMAT", "/userPools/0/name", PAYMENTS, {"/userPools/0/name": "a12345678901"},
     {"/userPools/0/name": "a123456789012"}),
    ("POOL_NAME_FORMAT", "/userPools/0/name", PAYMENTS, {"/userPools/0/name": "apps2"},
     {"/userPools/0/name": "Apps"}),
    ("WINDOWS_POOL_NAME_LENGTH", "/userPools/3/name", PAYMENTS, {"/userPools/3/name": "win123"},
     {"/userPools/3/name": "win1234"}),
    ("POOL_NAME_DUPLICATE", "/userPools/1/name", PAYMENTS, {"/userPools/1/name": "apps2"},
     {"/userPools/1/name": "apps"}),
    ("POOL_NAME_DUPLICATE", "/userPools/0/name", PAYMENTS, {"/userPools/0/name": "apps"},
     {"/userPools/0/name": "system"}),
    ("VM_SIZE_UNKNOWN", "/userPools/0/vmSize", PAYMENTS, {"/userPools/0/vmSize": "standard_d8s_v5"},
     {"/userPools/0/vmSize": "Standard_D8_v5"}),
    ("VM_SIZE_RETIRED", "/userPools/1/vmSize", PAYMENTS, {"/userPools/1/vmSize": "Standard_NC4as_T4_v3"},
     {"/userPools/1/vmSize": "Standard_NC6s_v3"}),
    ("SYSTEM_POOL_LINUX", "/systemPool/os", PAYMENTS, {"/systemPool/os": "Linux"}, {"/systemPool/os": "Windows"}),
    ("SPOT_SYSTEM_POOL", "/systemPool/spot", PAYMENTS, {"/systemPool/spot": DELETE},
     {"/systemPool/spot": {"evictionPolicy": "Delete"}}),
    ("SYSTEM_POOL_WORKLOAD", "/systemPool/workload", PAYMENTS, {"/systemPool/workload": "general"},
     {"/systemPool/workload": "batch"}),
    ("SYSTEM_POOL_BURSTABLE", "/systemPool/vmSize", DEV, {"/systemPool/vmSize": "Standard_D2s_v5"},
     {"/systemPool/vmSize": "Standard_B2ms"}),
    ("SYSTEM_POOL_MIN_SIZE", "/systemPool/vmSize", DEV, {"/systemPool/vmSize": "Standard_F2s_v2"},
     {"/systemPool/vmSize": "Standard_B2ts_v2"}),
    ("SYSTEM_POOL_MIN_VCPU", "/systemPool/vmSize", PAYMENTS, {"/systemPool/vmSize": "Standard_D4s_v5"},
     {"/systemPool/vmSize": "Standard_D2s_v5"}),
    ("SYSTEM_POOL_MIN_NODES", "/systemPool/count", PAYMENTS, {"/systemPool/count": 3}, {"/systemPool/count": 2}),
    ("SYSTEM_POOL_MIN_NODES", "/systemPool/count", PAYMENTS, {"/systemPool/autoscale": {"min": 3, "max": 5}},
     {"/systemPool/autoscale": {"min": 2, "max": 5}}),
    ("SYSTEM_POOL_MIN_NODES", "/systemPool/count", DEV, {"/systemPool/count": 1}, {"/systemPool/count": 0}),
    ("SYSTEM_POOL_ZONES", "/systemPool/zones", PAYMENTS, {"/systemPool/zones": ["1", "3"]},
     {"/systemPool/zones": ["1"]}),
    ("SYSTEM_POOL_MAX_PODS", "/systemPool/maxPods", PAYMENTS, {"/systemPool/maxPods": 30},
     {"/systemPool/maxPods": 29}),
    ("SYSTEM_POOL_UNTAINTED", "/systemPool/taints", PAYMENTS,
     {"/systemPool/taints": ["dedicated=infra:NoSchedule", "CriticalAddonsOnly=true:NoSchedule"]},
     {"/systemPool/taints": []}),
    ("SYSTEM_POOL_UNTAINTED", "/systemPool/taints", DEV, {"/systemPool/taints": ["CriticalAddonsOnly=yes:NoExecute"]},
     {"/systemPool/taints": ["CriticalAddonsOnly=true:PreferNoSchedule"]}),
    ("POOL_COUNT_RANGE", "/userPools/1/count", DEV, {"/userPools/1/count": 1000}, {"/userPools/1/count": 1001}),
    ("AUTOSCALE_BOUNDS", "/userPools/0/count", PAYMENTS, {"/userPools/0/count": 10}, {"/userPools/0/count": 11}),
    ("AUTOSCALE_BOUNDS", "/userPools/0/count", PAYMENTS, {"/userPools/0/count": 3}, {"/userPools/0/count": 2}),
    ("AUTOSCALE_BOUNDS", "/userPools/0/autoscale/min", PAYMENTS, {"/userPools/0/autoscale": {"min": 5, "max": 5}},
     {"/userPools/0/autoscale": {"min": 6, "max": 5}}),
    ("MAX_PODS_RANGE", "/userPools/0/maxPods", PAYMENTS, {"/userPools/0/maxPods": 10}, {"/userPools/0/maxPods": 9}),
    ("MAX_PODS_RANGE", "/userPools/0/maxPods", PAYMENTS, {"/userPools/0/maxPods": 250},
     {"/userPools/0/maxPods": 251}),
    ("ZONES_INVALID", "/userPools/0/zones", PAYMENTS, {"/userPools/0/zones": ["2", "3"]},
     {"/userPools/0/zones": ["1", "1"]}),
    ("ZONES_INVALID", "/userPools/0/zones", PAYMENTS, {"/userPools/0/zones": ["3"]}, {"/userPools/0/zones": ["4"]}),
    ("ZONES_NOT_IN_REGION", "/userPools/0/zones", DEV,
     {"/location": "westus", "/userPools/0/zones": DELETE, "/systemPool/zones": DELETE},
     {"/location": "westus", "/userPools/0/zones": ["1"], "/systemPool/zones": DELETE}),
    ("EPHEMERAL_OS_DISK_UNSUPPORTED", "/userPools/0/osDiskType", PAYMENTS,
     {"/userPools/0/osDiskType": "Ephemeral", "/userPools/0/vmSize": "Standard_D8ds_v5"},
     {"/userPools/0/osDiskType": "Ephemeral"}),
    ("EPHEMERAL_OS_DISK_TOO_LARGE", "/userPools/0/osDiskSizeGb", PAYMENTS,
     {"/userPools/0/osDiskType": "Ephemeral", "/userPools/0/vmSize": "Standard_D8ds_v5",
      "/userPools/0/osDiskSizeGb": 300},
     {"/userPools/0/osDiskType": "Ephemeral", "/userPools/0/vmSize": "Standard_D8ds_v5",
      "/userPools/0/osDiskSizeGb": 301}),
    # workloads
    ("SPOT_MAX_PRICE", "/userPools/2/spot/maxPrice", PAYMENTS, {"/userPools/2/spot/maxPrice": 0.00001},
     {"/userPools/2/spot/maxPrice": 0.000001}),
    ("SPOT_MAX_PRICE", "/userPools/2/spot/maxPrice", PAYMENTS, {"/userPools/2/spot/maxPrice": -1},
     {"/userPools/2/spot/maxPrice": 0}),
    ("SPOT_MAX_PRICE", "/userPools/2/spot/maxPrice", PAYMENTS, {"/userPools/2/spot/maxPrice": 1.5},
     {"/userPools/2/spot/maxPrice": -2}),
    ("SPOT_DEALLOCATE_QUOTA", "/userPools/2/spot/evictionPolicy", PAYMENTS,
     {"/userPools/2/spot/evictionPolicy": "Delete"}, {"/userPools/2/spot/evictionPolicy": "Deallocate"}),
    ("GPU_SIZE_REQUIRED", "/userPools/1/vmSize", PAYMENTS, {"/userPools/1/vmSize": "Standard_NC4as_T4_v3"},
     {"/userPools/1/vmSize": "Standard_D16s_v5"}),
    ("GPU_SIZE_UNSUPPORTED", "/userPools/1/vmSize", PAYMENTS, {"/userPools/1/vmSize": "Standard_NC8as_T4_v3"},
     {"/userPools/1/vmSize": "Standard_NV4as_v4"}),
    ("GPU_SIZE_OUTSIDE_GPU_WORKLOAD", "/userPools/1/workload", PAYMENTS, {"/userPools/1/workload": "gpu"},
     {"/userPools/1/workload": "general"}),
    ("GPU_DRIVER_WITHOUT_GPU", "/userPools/0/gpuDriver", PAYMENTS, {"/userPools/1/gpuDriver": "None"},
     {"/userPools/0/gpuDriver": "Install"}),
    ("GPU_TAINT_RECOMMENDED", "/userPools/1/taints", PAYMENTS, {"/userPools/1/taints": ["sku=gpu:NoSchedule"]},
     {"/userPools/1/taints": []}),
    ("WINDOWS_REQUIRES_AZURE_CNI", "/userPools/3/os", PAYMENTS, {"/network/plugin": "azure-overlay"},
     {"/network/plugin": "kubenet"}),
    ("ARM64_WINDOWS_UNSUPPORTED", "/userPools/3/vmSize", PAYMENTS, {"/userPools/3/vmSize": "Standard_D4s_v6"},
     {"/userPools/3/vmSize": "Standard_D4ps_v6"}),
    ("WINDOWS_MAX_PODS", "/userPools/3/maxPods", PAYMENTS, {"/userPools/3/maxPods": 110},
     {"/userPools/3/maxPods": 111}),
    ("MEMORY_WORKLOAD_SIZE", "/userPools/0/vmSize", PAYMENTS,
     {"/userPools/0/workload": "memory", "/userPools/0/vmSize": "Standard_E8s_v5"},
     {"/userPools/0/workload": "memory", "/userPools/0/vmSize": "Standard_D8s_v5"}),
    ("TAINT_FORMAT", "/userPools/1/taints/0", PAYMENTS, {"/userPools/1/taints": ["example.com/gpu:NoExecute"]},
     {"/userPools/1/taints": ["sku=gpu:NoSchedul"]}),
    ("LABEL_FORMAT", "/userPools/0/labels/team", PAYMENTS, {"/userPools/0/labels": {"team": "a.b-c_d"}},
     {"/userPools/0/labels": {"team": "-bad"}}),
    ("LABEL_FORMAT", "/userPools/0/labels/-x", PAYMENTS, {"/userPools/0/labels": {"example.com/x": "1"}},
     {"/userPools/0/labels": {"-x": "1"}}),
    # networking
    ("CIDR_FORMAT", "/network/vnetAddressSpace", PAYMENTS, {"/network/vnetAddressSpace": "10.40.0.0/16"},
     {"/network/vnetAddressSpace": "10.40.0.1/16"}),
    ("CIDR_FORMAT", "/network/serviceCidr", PAYMENTS, {}, {"/network/serviceCidr": "10.0.0.0/33"}),
    ("POD_CIDR_IGNORED", "/network/podCidr", PAYMENTS, {"/network/plugin": "azure", "/network/podCidr": DELETE,
                                                        "/network/vnetAddressSpace": "10.32.0.0/12"},
     {"/network/plugin": "azure", "/network/vnetAddressSpace": "10.32.0.0/12"}),
    ("NETWORK_OVERLAP", "/network/serviceCidr", PAYMENTS, {"/network/serviceCidr": "10.41.0.0/16",
                                                           "/network/dnsServiceIp": "10.41.0.10"},
     {"/network/serviceCidr": "10.40.128.0/17", "/network/dnsServiceIp": "10.40.128.10"}),
    ("NETWORK_OVERLAP", "/network/podCidr", PAYMENTS, {"/network/podCidr": "10.244.0.0/16"},
     {"/network/podCidr": "10.0.0.0/8"}),
    ("SERVICE_CIDR_TOO_LARGE", "/network/serviceCidr", PAYMENTS,
     {"/network/serviceCidr": "172.16.0.0/13", "/network/dnsServiceIp": "172.16.0.10"},
     {"/network/serviceCidr": "172.16.0.0/12", "/network/dnsServiceIp": "172.16.0.10"}),
    ("DNS_SERVICE_IP_FORMAT", "/network/dnsServiceIp", PAYMENTS, {}, {"/network/dnsServiceIp": "10.0.0.300"}),
    ("DNS_SERVICE_IP_RANGE", "/network/dnsServiceIp", PAYMENTS, {"/network/dnsServiceIp": "10.0.0.2"},
     {"/network/dnsServiceIp": "10.0.0.1"}),
    ("DNS_SERVICE_IP_RANGE", "/network/dnsServiceIp", PAYMENTS, {"/network/dnsServiceIp": "10.0.255.254"},
     {"/network/dnsServiceIp": "10.1.0.10"}),
    ("SUBNET_SPACE_TOO_SMALL", "/network/vnetAddressSpace", PAYMENTS, {"/network/vnetAddressSpace": "10.40.0.0/25"},
     {"/network/vnetAddressSpace": "10.40.0.0/26"}),
    ("POD_CIDR_TOO_SMALL", "/network/podCidr", PAYMENTS, {"/network/podCidr": "192.168.0.0/18"},
     {"/network/podCidr": "192.168.0.0/19"}),
    ("KUBENET_NODE_LIMIT", "/network/plugin", {**DEV, "network": {"plugin": "kubenet", "podCidr": "100.64.0.0/10",
                                                                  "vnetAddressSpace": "10.40.0.0/16"}},
     {"/userPools": [{"name": "apps", "count": 390}]}, {"/userPools": [{"name": "apps", "count": 400}]}),
    ("KUBENET_RETIRING", "/network/plugin", PAYMENTS, {"/network/plugin": "azure-overlay"},
     {"/network/plugin": "kubenet", "/userPools/3": {"name": "lin2", "count": 1}}),
    # endpoints
    ("SERVICE_ENDPOINT_UNKNOWN", "/network/serviceEndpoints/0", PAYMENTS,
     {"/network/serviceEndpoints": ["Microsoft.EventHub"]}, {"/network/serviceEndpoints": ["Microsoft.Storag"]}),
    ("SERVICE_ENDPOINT_PREVIEW", "/network/serviceEndpoints/0", PAYMENTS,
     {"/network/serviceEndpoints": ["Microsoft.Web"]}, {"/network/serviceEndpoints": ["Microsoft.ContainerRegistry"]}),
    ("SERVICE_ENDPOINT_DUPLICATE", "/network/serviceEndpoints/1", PAYMENTS,
     {"/network/serviceEndpoints": ["Microsoft.Sql", "Microsoft.Storage"]},
     {"/network/serviceEndpoints": ["Microsoft.Sql", "Microsoft.Sql"]}),
    ("PRIVATE_ENDPOINT_NAME_FORMAT", "/network/privateEndpoints/0/name", PAYMENTS,
     {"/network/privateEndpoints/0/name": "data.1_x"}, {"/network/privateEndpoints/0/name": "-data"}),
    ("PRIVATE_ENDPOINT_NAME_DUPLICATE", "/network/privateEndpoints/1/name", PAYMENTS,
     {"/network/privateEndpoints": [{"name": "a", "targetResourceId": STORAGE, "groupId": "blob"},
                                    {"name": "b", "targetResourceId": STORAGE, "groupId": "file"}]},
     {"/network/privateEndpoints": [{"name": "a", "targetResourceId": STORAGE, "groupId": "blob"},
                                    {"name": "A", "targetResourceId": STORAGE, "groupId": "file"}]}),
    ("ARM_ID_FORMAT", "/network/privateEndpoints/0/targetResourceId", PAYMENTS,
     {"/network/privateEndpoints/0/targetResourceId": STORAGE},
     {"/network/privateEndpoints/0/targetResourceId": "/subscriptions/.../storageAccounts/stdata"}),
    ("PRIVATE_ENDPOINT_GROUP_UNKNOWN", "/network/privateEndpoints/0/groupId", PAYMENTS,
     {"/network/privateEndpoints/0/groupId": "dfs"}, {"/network/privateEndpoints/0/groupId": "blobs"}),
    ("PRIVATE_ENDPOINT_GROUP_MISMATCH", "/network/privateEndpoints/0/groupId", PAYMENTS,
     {"/network/privateEndpoints/0/targetResourceId": VAULT, "/network/privateEndpoints/0/groupId": "vault"},
     {"/network/privateEndpoints/0/targetResourceId": VAULT, "/network/privateEndpoints/0/groupId": "blob"}),
    # service endpoint targets: a storage account or a vault, whose service endpoint the subnets have, once each
    ("SERVICE_ENDPOINT_TARGET_TYPE", "/network/serviceEndpointTargets/0/targetResourceId", PAYMENTS,
     {"/network/serviceEndpointTargets": [{"targetResourceId": VAULT}]},
     {"/network/serviceEndpointTargets": [{"targetResourceId": SQL}]}),
    ("SERVICE_ENDPOINT_TARGET_NO_ENDPOINT", "/network/serviceEndpointTargets/1/targetResourceId", PAYMENTS,
     {"/network/serviceEndpoints": ["Microsoft.Storage.Global"],
      "/network/serviceEndpointTargets": [{"targetResourceId": STORAGE}]},
     {"/network/serviceEndpoints": ["Microsoft.Storage"], "/network/serviceEndpointTargets": [
         {"targetResourceId": STORAGE}, {"targetResourceId": VAULT}]}),
    ("SERVICE_ENDPOINT_TARGET_DUPLICATE", "/network/serviceEndpointTargets/1/targetResourceId", PAYMENTS,
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE}, {"targetResourceId": VAULT}]},
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE}, {"targetResourceId": STORAGE.upper()}]}),
    # a target's name by its type's rule: a step key, a log line and a table row can hold it
    ("SERVICE_ENDPOINT_TARGET_NAME", "/network/serviceEndpointTargets/0/targetResourceId", PAYMENTS,
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE.replace("stdata", "s" * 24)}]},
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE.replace("stdata", "st\\x")}]}),
    ("SERVICE_ENDPOINT_TARGET_NAME", "/network/serviceEndpointTargets/0/targetResourceId", PAYMENTS,
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE.replace("stdata", "st01")}]},
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE.replace("stdata", "st\x01x")}]}),
    ("SERVICE_ENDPOINT_TARGET_NAME", "/network/serviceEndpointTargets/0/targetResourceId", PAYMENTS,
     {"/network/serviceEndpoints": ["Microsoft.KeyVault"],
      "/network/serviceEndpointTargets": [{"targetResourceId": VAULT.replace("kv-data", "Kv-a-b9")}]},
     {"/network/serviceEndpoints": ["Microsoft.KeyVault"],
      "/network/serviceEndpointTargets": [{"targetResourceId": VAULT.replace("kv-data", "kv--data")}]}),
    ("ARM_ID_FORMAT", "/network/serviceEndpointTargets/0/targetResourceId", PAYMENTS,
     {"/network/serviceEndpointTargets": [{"targetResourceId": STORAGE}]},
     {"/network/serviceEndpointTargets": [{"targetResourceId": "/subscriptions/.../storageAccounts/stdata"}]}),
]


def _codes(raw: dict[str, Any]) -> set[tuple[str, str]]:
    _, violations = check(raw, default_subscription_id=SUB)
    return {(v.code, v.path) for v in violations}


@pytest.mark.parametrize(("code", "path", "base", "valid", "invalid"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_holds_at_the_valid_edge_and_fires_at_the_invalid_edge(code, path, base, valid, invalid):
    assert code not in {c for c, _ in _codes(patched(base, valid))}
    assert (code, path) in _codes(patched(base, invalid))


def test_every_rule_code_in_the_rules_package_has_a_case():
    import pathlib
    import re

    source = "".join(p.read_text() for p in pathlib.Path("shared/domain/rules").glob("*.py"))
    codes = set(re.findall(r'Violation\(\s*"([A-Z_]+)"', source))
    from tests.unit.test_rules_byo import BYO_CASES
    from tests.unit.test_rules_production import PRODUCTION_CASES

    cases = {c[0] for c in [*CASES, *PRODUCTION_CASES, *BYO_CASES]}
    assert codes - cases == {"SYSTEM_POOL_SINGLE_NODE", "VM_SIZE_RETIRING"}


def test_the_design_request_is_valid_with_only_the_workspace_and_no_access_warnings():
    request, violations = check(PAYMENTS, default_subscription_id=SUB)
    assert request is not None
    assert sorted((v.code, v.severity) for v in violations) == [("ADDON_DEFAULT_WORKSPACE", "warning"),
                                                               ("ENTRA_NO_ADMIN", "warning")]


def test_a_single_system_node_outside_production_is_a_warning_not_an_error():
    request, violations = check(patched(DEV, {"/systemPool/count": 1}), default_subscription_id=SUB)
    assert request is not None
    assert ("SYSTEM_POOL_SINGLE_NODE", "warning") in {(v.code, v.severity) for v in violations}


def test_the_single_system_node_warning_speaks_of_the_profile_it_fires_in():
    _, violations = check(patched(DEV, {"/systemPool/count": 1}), default_subscription_id=SUB)
    message = next(v.message for v in violations if v.code == "SYSTEM_POOL_SINGLE_NODE")
    assert "acceptable for development" in message and "production profile requires at least 3" in message
    assert "outside development" not in message


def test_below_four_vcpu_is_an_error_in_production_and_a_warning_elsewhere():
    small = {"/systemPool/vmSize": "Standard_D2s_v5"}
    severities = {
        profile: {v.severity for v in check(patched({**PAYMENTS, "profile": profile}, small),
                                            default_subscription_id=SUB)[1] if v.code == "SYSTEM_POOL_MIN_VCPU"}
        for profile in ("production", "development")
    }
    assert severities == {"production": {"error"}, "development": {"warning"}}


def test_all_violations_come_back_at_once():
    raw = patched(PAYMENTS, {"/name": "-bad", "/location": "nowhere", "/userPools/0/vmSize": "Standard_X",
                             "/network/dnsServiceIp": "10.9.9.9", "/userPools/2/spot/maxPrice": 0})
    codes = {c for c, _ in _codes(raw)}
    assert {"CLUSTER_NAME_FORMAT", "LOCATION_UNKNOWN", "VM_SIZE_UNKNOWN", "DNS_SERVICE_IP_RANGE",
            "SPOT_MAX_PRICE"} <= codes


def test_unknown_size_message_suggests_the_closest_names():
    _, violations = check(patched(PAYMENTS, {"/userPools/0/vmSize": "Standard_D8_v5"}), default_subscription_id=SUB)
    message = next(v.message for v in violations if v.code == "VM_SIZE_UNKNOWN")
    assert "Standard_D8s_v5" in message


def test_subnet_error_says_how_large_the_vnet_must_be():
    _, violations = check(patched(PAYMENTS, {"/network/vnetAddressSpace": "10.40.0.0/26"}),
                          default_subscription_id=SUB)
    message = next(v.message for v in violations if v.code == "SUBNET_SPACE_TOO_SMALL")
    assert "must be a /25 or larger" in message


def test_every_violation_names_a_source_and_a_known_severity():
    raw = patched(PAYMENTS, {"/name": "-bad", "/network/plugin": "kubenet"})
    _, violations = check(raw, default_subscription_id=SUB)
    assert violations
    assert all(v.source and v.severity in ("error", "warning") and v.path.startswith("/") for v in violations)


def test_every_code_is_documented_in_docs_request_md():
    import pathlib
    import re

    files = [*pathlib.Path("shared/domain/rules").glob("*.py"), pathlib.Path("shared/domain/profiles.py")]
    source = "".join(p.read_text() for p in files)
    doc = pathlib.Path("docs/request.md").read_text()
    documented = set(re.findall(r"[A-Z][A-Z_]{3,}", doc))
    codes = set(re.findall(r'Violation\(\s*"([A-Z_]+)"', source))
    assert codes - documented == set()
