"""What the API shows of ARM's own bodies: the observed cluster (`GET /api/clusters/{sub}/{rg}/{name}`, `observed`)
and its upgrade profile (`GET .../upgrades`). Pure functions of the JSON ARM answered.

ARM's answer is outside input: a field may be missing, null, of another type than the REST spec says (an API
version that changed it, a proxy, an emulator), or a list may hold non-objects. Each field is read through the
accessors below, which give None (or an empty list) for anything that is not of the type the view shows, so an odd
answer leaves those fields null and the view is still answered: never a 500 (tests/unit/test_arm_views.py fuzzes
them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}
MAX_ITEMS = 1000  # more pools, identities or upgrades than AKS allows (100 pools): the rest is not shown


def obj(value: Any, *path: str) -> Mapping[str, Any]:
    """The object at `path` under `value`; empty when any step of the way is not an object."""
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else _EMPTY


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list (non-objects left out); empty for anything but a list."""
    return [v for v in value[:MAX_ITEMS] if isinstance(v, Mapping)] if isinstance(value, list) else []


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def whole(value: Any) -> int | None:
    """An integer (not a bool, which JSON's true is in Python); None for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def observed_view(body: Any) -> dict[str, Any]:
    """The parts of ARM's managed cluster a team needs, by ARM's names (camelCase)."""
    props, identity = obj(body, "properties"), obj(body, "identity")
    kubelet = obj(props, "identityProfile", "kubeletidentity")
    pools = [_pool(p) for p in objects(props.get("agentPoolProfiles"))]
    aad = obj(props, "aadProfile")
    return {
        "provisioningState": text(props.get("provisioningState")),
        "powerState": text(obj(props, "powerState").get("code")),
        "fqdn": text(props.get("fqdn")), "privateFqdn": text(props.get("privateFQDN")),
        "nodeResourceGroup": text(props.get("nodeResourceGroup")),
        "kubernetesVersion": text(props.get("kubernetesVersion")),
        "currentKubernetesVersion": text(props.get("currentKubernetesVersion")),
        "controlPlaneIdentity": {"type": text(identity.get("type")),
                                 "userAssignedIdentities": sorted(obj(identity, "userAssignedIdentities"))[:MAX_ITEMS],
                                 "principalId": text(identity.get("principalId"))},
        "kubeletIdentity": {k: text(kubelet.get(k)) for k in ("resourceId", "clientId", "objectId")} if kubelet
        else None,
        "oidcIssuerUrl": text(obj(props, "oidcIssuerProfile").get("issuerURL")),
        "entra": {"managed": aad.get("managed") is True, "azureRbac": aad.get("enableAzureRBAC") is True} if aad
        else None,
        "pools": pools,
        "subnetIds": sorted({p["vnetSubnetId"] for p in pools if p["vnetSubnetId"]}),
    }


def _pool(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": text(p.get("name")), "mode": text(p.get("mode")), "vmSize": text(p.get("vmSize")),
            "count": whole(p.get("count")), "minCount": whole(p.get("minCount")), "maxCount": whole(p.get("maxCount")),
            "powerState": text(obj(p, "powerState").get("code")), "provisioningState": text(p.get("provisioningState")),
            "orchestratorVersion": text(p.get("orchestratorVersion")),
            "currentOrchestratorVersion": text(p.get("currentOrchestratorVersion")),
            "vnetSubnetId": text(p.get("vnetSubnetID"))}


def upgrades_view(body: Any) -> dict[str, Any]:
    """ARM's upgrade profile (`upgradeProfiles/default`): the control plane's version and upgrades, and each pool's."""
    props = obj(body, "properties")
    plane = obj(props, "controlPlaneProfile")
    return {"kubernetesVersion": text(plane.get("kubernetesVersion")),
            "upgrades": [{"kubernetesVersion": text(u.get("kubernetesVersion")),
                          "isPreview": u.get("isPreview") not in (None, False)}
                         for u in objects(plane.get("upgrades"))],
            "pools": [{"name": text(p.get("name")), "kubernetesVersion": text(p.get("kubernetesVersion")),
                       "upgrades": [v for u in objects(p.get("upgrades")) if (v := text(u.get("kubernetesVersion")))]}
                      for p in objects(props.get("agentPoolProfiles"))]}
