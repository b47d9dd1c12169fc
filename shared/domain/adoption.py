"""A cluster aksvend did not make, read back from ARM as a request (`POST .../adopt`, admin only).

`request_from_arm(cluster)` turns a managedClusters GET body into the raw request that describes it: name, group,
location, version, the System pool first and the other pools as user pools (VM size, count, autoscale bounds,
zones, taints, labels, spot, max pods, OS disk), tags (less aksvend's own), add-ons and the upgrade channel. The
services expand and validate it by the rules of a create, so an adopted cluster is one aksvend could have made.

What ARM does not say the same way (the VNet's address space: AKS names only the node subnet) takes the profile's
value; an adopted cluster's deletion protection is on, since its network and identity were not planned by aksvend.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.arm.names import MANAGED_BY_TAG

_CHANNELS = ("none", "patch", "stable", "rapid", "node-image")
WORKLOAD_LABEL = "aksvend.io/workload"


def request_from_arm(cluster: Mapping[str, Any], subscription_id: str, resource_group: str) -> dict[str, Any]:
    props, sku = _obj(cluster.get("properties")), _obj(cluster.get("sku"))
    profiles = [p for p in _arr(props.get("agentPoolProfiles")) if isinstance(p, Mapping)]
    system = next((p for p in profiles if p.get("mode") == "System"), profiles[0] if profiles else {})
    addons = _obj(props.get("addonProfiles"))
    raw: dict[str, Any] = {
        "name": cluster.get("name"), "subscriptionId": subscription_id, "resourceGroup": resource_group,
        "location": cluster.get("location"),
        "profile": "production" if sku.get("tier") in ("Standard", "Premium") else "development",
        "kubernetesVersion": props.get("kubernetesVersion"),
        "systemPool": _pool(system),
        "userPools": [_pool(p) for p in profiles if p is not system],
        "tags": {k: v for k, v in _obj(cluster.get("tags")).items()
                 if k not in MANAGED_BY_TAG and k != "aksvendCluster"},
        "addons": {"monitoring": bool(_obj(addons.get("omsagent")).get("enabled")),
                   "azurePolicy": bool(_obj(addons.get("azurepolicy")).get("enabled"))},
        "deletionProtection": True,
    }
    channel = _obj(props.get("autoUpgradeProfile")).get("upgradeChannel")
    if channel in _CHANNELS:
        raw["reactions"] = {"autoUpgrade": channel}
    return raw


def _obj(value: Any) -> Mapping[str, Any]:
    """An object of ARM's answer, or {} when it is none (ARM's answer is outside input: never a crash, a 422)."""
    return value if isinstance(value, Mapping) else {}


def _arr(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pool(p: Mapping[str, Any]) -> dict[str, Any]:
    labels, taints = p.get("nodeLabels") or {}, p.get("nodeTaints") or []
    labels = dict(labels) if isinstance(labels, Mapping) else labels  # anything else: the rules refuse it (422)
    workload = labels.pop(WORKLOAD_LABEL, None) if isinstance(labels, dict) else None
    pool: dict[str, Any] = {"name": p.get("name"), "vmSize": p.get("vmSize"), "count": p.get("count", 0),
                            "os": p.get("osType", "Linux"),
                            "taints": list(taints) if isinstance(taints, list) else taints, "labels": labels}
    if workload in ("general", "memory", "gpu", "batch"):
        pool["workload"] = workload
    if p.get("availabilityZones"):
        zones = p["availabilityZones"]
        pool["zones"] = list(zones) if isinstance(zones, list) else zones
    if p.get("enableAutoScaling"):
        pool["autoscale"] = {"min": p.get("minCount", 0), "max": p.get("maxCount", 0)}
    if p.get("scaleSetPriority") == "Spot":
        price = p.get("spotMaxPrice", -1)
        pool["spot"] = {"evictionPolicy": p.get("scaleSetEvictionPolicy", "Delete"),
                        "maxPrice": float(price) if isinstance(price, int | float) and not isinstance(price, bool)
                        else price}  # anything else is left to the request's rules (422)
    for field, arm_field in (("maxPods", "maxPods"), ("osDiskType", "osDiskType"), ("osDiskSizeGb", "osDiskSizeGB")):
        if p.get(arm_field) is not None:
            pool[field] = p[arm_field]
    return pool
