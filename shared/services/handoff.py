"""Hand-off: what a team needs to use its cluster, read from ARM (docs/api.md, "Hand-off").

- `observed(...)`: the cluster as ARM reports it (fqdn or private fqdn, node resource group, the control plane and
  kubelet identities, the OIDC issuer URL, versions, each pool's current count, power state and subnet), shown by
  `GET /api/clusters/{sub}/{rg}/{name}` beside the desired request. ARM is read once, within
  `OBSERVED_TIMEOUT_SECONDS`; when it cannot be read the view says so (`reachable: false`) and the GET still answers.
- `credentials(...)`: the user kubeconfig of ARM's `listClusterUserCredential`, never the admin one
  (`listClusterAdminCredential` is not called anywhere). For an Entra-integrated cluster (`access` or `entraId`) it
  asks for `format=exec`: the kubeconfig that runs kubelogin ("Only apply to AAD clusters ... format 'exec' will
  return exec format kubeconfig, which requires kubelogin binary in the path", REST
  `ManagedClusters_ListClusterUserCredentials`). The kubeconfig is handed back and nowhere else: not logged, not in
  an exception, not stored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Mapping
from ipaddress import IPv4Network
from typing import Any, Protocol, runtime_checkable

from shared.domain import arm
from shared.domain.network import parse_cidr
from shared.domain.request import ClusterRequest
from shared.errors import AksvendError
from shared.refusals import InConflict, Unavailable

log = logging.getLogger("aksvend.handoff")
OBSERVED_TIMEOUT_SECONDS = 5.0
CREDENTIALS_TIMEOUT_SECONDS = 10.0
USER_CREDENTIAL = "listClusterUserCredential"


@runtime_checkable
class ArmReader(Protocol):
    """What the hand-off reads from ARM: a GET, and a POST action that answers at once (shared/adapters/arm.py)."""

    async def get(self, resource_type: str, resource_id: str, api_version: str) -> Mapping[str, Any] | None: ...

    async def post(self, resource_type: str, resource_id: str, api_version: str,
                   params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None: ...


async def observed(reader: object, request: ClusterRequest, *,
                   timeout: float = OBSERVED_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The `observed` section of a cluster's view: what ARM reports now, or why it could not be read."""
    cluster_id = arm.ids(request)["cluster"]
    if not isinstance(reader, ArmReader):
        return unreachable("this app has no ARM reader")
    try:
        async with asyncio.timeout(timeout):
            body = await reader.get(arm.CLUSTER.name, cluster_id, arm.CLUSTER.api_version)
    except TimeoutError:
        return unreachable(f"ARM did not answer within {timeout:g} s")
    except AksvendError as exc:  # RetryableError / FatalError of the adapter: code and message are ARM's, no secret
        log.info("the observed cluster could not be read: %s", type(exc).__name__)
        return unreachable(f"ARM could not be read ({getattr(exc, 'code', type(exc).__name__)})")
    if body is None:
        return {"reachable": True, "exists": False}
    return {"reachable": True, "exists": True, **observed_view(body)}


def unreachable(reason: str) -> dict[str, Any]:
    return {"reachable": False, "exists": None, "reason": reason}


def observed_view(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of ARM's managed cluster a team needs, by ARM's names (camelCase). Pure."""
    props: Mapping[str, Any] = body.get("properties") or {}
    identity: Mapping[str, Any] = body.get("identity") or {}
    kubelet: Mapping[str, Any] = (props.get("identityProfile") or {}).get("kubeletidentity") or {}
    pools = [_pool(p) for p in props.get("agentPoolProfiles") or [] if isinstance(p, Mapping)]
    aad: Mapping[str, Any] = props.get("aadProfile") or {}
    return {
        "provisioningState": props.get("provisioningState"),
        "powerState": (props.get("powerState") or {}).get("code"),
        "fqdn": props.get("fqdn"), "privateFqdn": props.get("privateFQDN"),
        "nodeResourceGroup": props.get("nodeResourceGroup"),
        "kubernetesVersion": props.get("kubernetesVersion"),
        "currentKubernetesVersion": props.get("currentKubernetesVersion"),
        "controlPlaneIdentity": {"type": identity.get("type"),
                                 "userAssignedIdentities": sorted(identity.get("userAssignedIdentities") or {}),
                                 "principalId": identity.get("principalId")},
        "kubeletIdentity": {k: kubelet.get(k) for k in ("resourceId", "clientId", "objectId")} if kubelet else None,
        "oidcIssuerUrl": (props.get("oidcIssuerProfile") or {}).get("issuerURL"),
        "entra": {"managed": bool(aad.get("managed")), "azureRbac": bool(aad.get("enableAzureRBAC"))} if aad else None,
        "pools": pools,
        "subnetIds": sorted({p["vnetSubnetId"] for p in pools if p["vnetSubnetId"]}),
    }


def _pool(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": p.get("name"), "mode": p.get("mode"), "vmSize": p.get("vmSize"), "count": p.get("count"),
            "minCount": p.get("minCount"), "maxCount": p.get("maxCount"),
            "powerState": (p.get("powerState") or {}).get("code"), "provisioningState": p.get("provisioningState"),
            "orchestratorVersion": p.get("orchestratorVersion"),
            "currentOrchestratorVersion": p.get("currentOrchestratorVersion"), "vnetSubnetId": p.get("vnetSubnetID")}


async def vnet_subnets(reader: object, request: ClusterRequest, *,
                       timeout: float = OBSERVED_TIMEOUT_SECONDS) -> dict[str, IPv4Network]:
    """The subnets of the cluster's VNet as ARM has them, by name; empty when ARM cannot be read now (a pool change
    is then checked against the subnets the plan gives: shared/services/pool_change.py). With an existing network
    (shared/domain/byo.py) its VNet is read, and its node subnet is also found as `snet-nodes`."""
    vnet_id, node_subnet = arm.cluster_vnet_id(request), arm.node_subnet_id(request)
    if not isinstance(reader, ArmReader) or vnet_id is None:
        return {}
    try:
        async with asyncio.timeout(timeout):
            vnet = await reader.get(arm.VNET.name, vnet_id, arm.VNET.api_version)
    except (TimeoutError, AksvendError):
        return {}
    subnets = ((vnet or {}).get("properties") or {}).get("subnets") or []
    found = {str(s.get("name")): parse_cidr(str((s.get("properties") or {}).get("addressPrefix")))
             for s in subnets if isinstance(s, Mapping)}
    out = {name: net for name, net in found.items() if net is not None}
    if request.network.existing is not None and node_subnet is not None:
        own = node_subnet.rsplit("/", 1)[-1]
        out = {k: v for k, v in out.items() if k != arm.NODE_SUBNET}
        if own in out:
            out[arm.NODE_SUBNET] = out[own]
    return out


async def credentials(reader: object, request: ClusterRequest, *,
                      timeout: float = CREDENTIALS_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The user kubeconfig of the cluster (kubelogin's exec form for an Entra-integrated one). 409 while ARM has no
    cluster yet; 503 when ARM cannot be read. Never the admin credential."""
    if not isinstance(reader, ArmReader):
        raise Unavailable("ArmUnavailable", "this app has no ARM reader for credentials")
    entra = entra_integrated(request)
    action_id = f"{arm.ids(request)['cluster']}/{USER_CREDENTIAL}"
    try:
        async with asyncio.timeout(timeout):
            body = await reader.post(arm.CLUSTER.name, action_id, arm.CLUSTER.api_version,
                                     {"format": "exec"} if entra else None)
    except TimeoutError:
        raise Unavailable("ArmUnavailable", f"ARM did not answer within {timeout:g} s; try again") from None
    except AksvendError as exc:  # never chained: nothing of the answer may travel with the refusal
        code = getattr(exc, "code", type(exc).__name__)
        raise Unavailable("ArmUnavailable", f"ARM could not list the credentials ({code}); try again") from None
    if body is None:
        raise InConflict("ClusterNotInArm", f"ARM has no cluster '{request.name}' yet: credentials exist once its "
                                            "create has finished")
    return _kubeconfig(body, request, entra)


def entra_integrated(request: ClusterRequest) -> bool:
    """Whether the request makes the cluster Entra-integrated: `access` (which turns it on) or `entraId` (the
    production profile's, or the caller's). Its user kubeconfig then runs kubelogin and carries no right of its own."""
    return request.access is not None or request.entra_id is not None


def _kubeconfig(body: Mapping[str, Any], request: ClusterRequest, entra: bool) -> dict[str, Any]:
    configs = [c for c in body.get("kubeconfigs") or [] if isinstance(c, Mapping)]
    user = next((c for c in configs if c.get("name") == "clusterUser"), configs[0] if configs else {})
    try:
        text = base64.b64decode(str(user["value"]), validate=True).decode("utf-8")
    except (KeyError, binascii.Error, UnicodeDecodeError):
        raise Unavailable("CredentialsUnreadable", "ARM's answer holds no user kubeconfig") from None
    entra = entra or "command: kubelogin" in text  # ARM's aadProfile decides the form, whoever turned Entra on
    usage = ("the kubeconfig runs kubelogin (https://azure.github.io/kubelogin): install it, then "
             "`kubelogin convert-kubeconfig -l azurecli` to sign in with your Azure CLI login; your access comes from "
             "the role granted to the owner group on the cluster") if entra else (
             "save it as a kubeconfig file (KUBECONFIG=<file> kubectl get nodes)")
    return {"cluster": request.name, "resourceGroup": request.resource_group, "name": str(user.get("name")),
            "format": "exec" if entra else "default", "kubeconfig": text, "usage": usage}
