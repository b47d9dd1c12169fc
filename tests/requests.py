"""Request builders shared by the tests: a valid production request and JSON-pointer patches on it."""

from __future__ import annotations

import copy
from typing import Any

from shared.domain.request import ClusterRequest
from shared.domain.rules import check

SUB = "00000000-0000-0000-0000-000000000000"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-data"
DELETE = object()

MINIMAL_PRODUCTION: dict[str, Any] = {
    "name": "shop-prod", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "production",
}

# The request of docs/design.md section 2, with a real-looking private endpoint target.
PAYMENTS: dict[str, Any] = {
    "name": "payments-prod",
    "subscriptionId": SUB,
    "resourceGroup": "rg-payments-prod",
    "location": "westeurope",
    "profile": "production",
    "kubernetesVersion": "1.33",
    "systemPool": {"vmSize": "Standard_D4s_v5", "count": 3, "zones": ["1", "2", "3"]},
    "userPools": [
        {"name": "apps", "vmSize": "Standard_D8s_v5", "count": 5, "autoscale": {"min": 3, "max": 10}},
        {"name": "gpu", "workload": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "count": 2,
         "taints": ["sku=gpu:NoSchedule"]},
        {"name": "batch", "workload": "batch", "vmSize": "Standard_D8s_v5",
         "spot": {"evictionPolicy": "Delete", "maxPrice": -1}, "autoscale": {"min": 0, "max": 20}},
        {"name": "win1", "os": "Windows", "vmSize": "Standard_D4s_v5", "count": 2},
    ],
    "network": {
        "plugin": "azure-overlay",
        "vnetAddressSpace": "10.40.0.0/16",
        "podCidr": "192.168.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIp": "10.0.0.10",
        "serviceEndpoints": ["Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.Sql"],
        "privateEndpoints": [{"name": "data", "targetResourceId": STORAGE, "groupId": "blob"}],
    },
    "addons": {"monitoring": True, "azurePolicy": True, "defender": False, "csiDrivers": ["disk", "file", "blob"]},
    "reactions": {"spotFallback": "on-demand", "maxNodesPerPool": 50, "cooldownSeconds": 600, "autoUpgrade": "patch"},
    "tags": {"costCenter": "1234"},
}


def patched(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with each JSON pointer in `patch` set to its value (DELETE removes it)."""
    out = copy.deepcopy(base)
    for ptr, value in patch.items():
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in ptr.lstrip("/").split("/")]
        node: Any = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        elif value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return out


def valid_request(raw: dict[str, Any] = MINIMAL_PRODUCTION) -> ClusterRequest:
    """`raw` checked against the rules: a ClusterRequest, or the test fails with the violations."""
    request, violations = check(raw, default_subscription_id=SUB)
    assert request is not None, violations
    return request
