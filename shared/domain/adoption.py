"""A cluster aksvend did not make, read back from ARM as a request (`POST .../adopt`, admin only).

`request_from_arm(cluster)` turns a managedClusters GET body into the raw request that describes it: name, group,
location, version, the System pool first and the other pools as user pools (VM size, count, autoscale bounds,
zones, taints, labels, spot, max pods, OS disk, OS SKU, max surge and the pool options), tags (less aksvend's own),
and every cluster option of the contract (shared/domain/adoption_options.py: API server access, Entra ID, security,
add-ons, upgrade channels, autoscaler profile), each ARM's value or AKS's own default, so that no profile default
reaches the cluster. The profile follows the tier (Free: development, Standard: production), as the body's tier
follows the profile. `unsupported(cluster)` names what ARM has that the contract cannot express (the adopt is then
refused). The services expand and validate the request by the rules of a create, so an adopted cluster is one aksvend
could have made.

The cluster is expressed as bring-your-own (shared/domain/byo.py; issue 17): its node subnet is
`network.existing.nodeSubnetId` (a pool on another subnet names it as `subnet`; no `vnetSubnetID`: AKS's own VNet),
its control plane identity is `identity`, and the immutable network fields (plugin and mode, pod and service CIDRs,
DNS service IP, outbound type, policy, dataplane) are ARM's. So a change sends ARM's subnets, identity and network, and
a DELETE deletes the cluster only, never a VNet or identity aksvend did not make for it. Its deletion protection is
on.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.adoption_options import cluster_options, obj, pool_options
from shared.domain.adoption_options import unsupported as _unsupported
from shared.domain.arm.names import MANAGED_BY_TAG
from shared.domain.violations import Violation

WORKLOAD_LABEL = "aksvend.io/workload"


def request_from_arm(cluster: Mapping[str, Any], subscription_id: str, resource_group: str) -> dict[str, Any]:
    props, sku = _obj(cluster.get("properties")), _obj(cluster.get("sku"))
    profiles = [p for p in _arr(props.get("agentPoolProfiles")) if isinstance(p, Mapping)]
    system = next((p for p in profiles if p.get("mode") == "System"), profiles[0] if profiles else {})
    raw: dict[str, Any] = {
        "name": cluster.get("name"), "subscriptionId": subscription_id, "resourceGroup": resource_group,
        "location": cluster.get("location"),
        "profile": "production" if sku.get("tier") in ("Standard", "Premium") else "development",
        "kubernetesVersion": props.get("kubernetesVersion"),
        "systemPool": _pool(system),
        "userPools": [_pool(p) for p in profiles if p is not system],
        "tags": {k: v for k, v in _obj(cluster.get("tags")).items()
                 if k not in MANAGED_BY_TAG and k != "aksvendCluster"},
        "deletionProtection": True,
        "network": _network(_obj(props.get("networkProfile")), system, profiles),
        "dnsPrefix": props.get("dnsPrefix"),
        **cluster_options(props),
    }
    identity = _identity(_obj(cluster.get("identity")))
    if identity is not None:
        raw["identity"] = identity
    subnet = system.get("vnetSubnetID")
    for pool, arm_pool in zip(raw["userPools"], (p for p in profiles if p is not system), strict=True):
        own = arm_pool.get("vnetSubnetID")
        if isinstance(own, str) and own and (not isinstance(subnet, str) or own.lower() != subnet.lower()):
            pool["subnet"] = own
    channel = _obj(props.get("autoUpgradeProfile")).get("upgradeChannel") or "none"  # AKS's default: none
    raw["reactions"] = {"autoUpgrade": channel}  # anything else is left to the rules (422)
    return raw


def unsupported(cluster: Mapping[str, Any]) -> list[Violation]:
    """What ARM's cluster has that the request contract cannot express (adoption_options.py `unsupported`)."""
    props = _obj(cluster.get("properties"))
    profiles = [p for p in _arr(props.get("agentPoolProfiles")) if isinstance(p, Mapping)]
    system = next((p for p in profiles if p.get("mode") == "System"), None)
    return _unsupported(cluster, [*([system] if system else []), *(p for p in profiles if p is not system)])


_PLUGINS = {("kubenet", None): "kubenet", ("azure", None): "azure", ("azure", "overlay"): "azure-overlay"}


def _network(net: Mapping[str, Any], system: Mapping[str, Any], profiles: list[Mapping[str, Any]]) -> dict[str, Any]:
    """ARM's network profile as the request's `network`, on the existing subnet the system pool names."""
    plugin, mode = net.get("networkPlugin", "kubenet"), net.get("networkPluginMode")
    subnet = system.get("vnetSubnetID")
    out: dict[str, Any] = {
        "existing": {"nodeSubnetId": subnet} if subnet else {},
        # another plugin (none: bring your own CNI) is left as ARM says it, for the rules to refuse (422)
        "plugin": _PLUGINS.get((plugin, mode), f"{plugin}-{mode}" if mode else plugin),
        "serviceEndpoints": [],
    }
    for field, arm_field in (("podCidr", "podCidr"), ("serviceCidr", "serviceCidr"), ("dnsServiceIp", "dnsServiceIP"),
                             ("outboundType", "outboundType"), ("policy", "networkPolicy"),
                             ("dataplane", "networkDataplane")):
        if net.get(arm_field) is not None and not (field == "podCidr" and out["plugin"] == "azure"):
            out[field] = net[arm_field]
    out.setdefault("policy", "none")
    out.setdefault("dataplane", "azure")
    return out


def _identity(identity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The cluster's control plane identity: its user-assigned id, or system-assigned; None: ARM names none."""
    kind = identity.get("type")
    if kind == "SystemAssigned":
        return {"type": "SystemAssigned"}
    ids = list(_obj(identity.get("userAssignedIdentities")))
    if kind == "UserAssigned" and ids:
        return {"type": "UserAssigned", "resourceId": ids[0]}
    return None


_obj = obj


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
    pool.update(pool_options(p))
    return pool
