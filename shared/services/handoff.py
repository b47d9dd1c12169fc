"""Hand-off: what a team needs to use its cluster, read from ARM (docs/api.md, "Hand-off").

- `observed(...)`: the cluster as ARM reports it (fqdn or private fqdn, node resource group, the control plane and
  kubelet identities, the OIDC issuer URL, versions, each pool's current count, power state and subnet), shown by
  `GET /api/clusters/{sub}/{rg}/{name}` beside the desired request. ARM is read once, within
  `OBSERVED_TIMEOUT_SECONDS`; when it cannot be read the view says so (`reachable: false`) and the GET still answers.
- `credentials(...)`: the user kubeconfig of ARM's `listClusterUserCredential`, never the admin one
  (`listClusterAdminCredential` is not called anywhere). For a cluster that ARM says is Entra-integrated (its
  `aadProfile`, read first: not the desired request, since ARM's cluster of the name may not be the one asked for) it
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
from shared.domain.pool_subnets import ArmVnet
from shared.domain.request import ClusterRequest
from shared.errors import AksvendError
from shared.refusals import InConflict, NotPermitted, Unavailable
from shared.services.arm_views import obj, objects, observed_view

__all__ = ["arm_entra", "arm_vnet", "credentials", "observed", "observed_view", "unreachable", "vnet_subnets"]

log = logging.getLogger("aksvend.handoff")
OBSERVED_TIMEOUT_SECONDS = 5.0
CREDENTIALS_TIMEOUT_SECONDS = 10.0
USER_CREDENTIAL = "listClusterUserCredential"
CERTIFICATE_KEYS = ("client-certificate-data", "client-key-data")  # a local account's kubeconfig (no kubelogin)


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


async def vnet_subnets(reader: object, request: ClusterRequest, *,
                       timeout: float = OBSERVED_TIMEOUT_SECONDS) -> dict[str, IPv4Network]:
    """The subnets of the cluster's VNet as ARM has them, by name; empty when ARM cannot be read now (a pool change
    is then checked against the subnets the plan gives: shared/services/pool_change.py). With an existing network
    (shared/domain/byo.py) its VNet is read, and its node subnet is also found as `snet-nodes`."""
    return named_subnets(await arm_vnet(reader, request, timeout=timeout), request)


def named_subnets(vnet: ArmVnet | None, request: ClusterRequest) -> dict[str, IPv4Network]:
    """The VNet's subnets by name, an existing network's node subnet also as `snet-nodes` (what the capacity checks
    look for); empty without a VNet."""
    if vnet is None:
        return {}
    out, node_subnet = dict(vnet.subnets), arm.node_subnet_id(request)
    if request.network.existing is not None and node_subnet is not None:
        own = node_subnet.rsplit("/", 1)[-1]
        out = {k: v for k, v in out.items() if k != arm.NODE_SUBNET}
        if own in out:
            out[arm.NODE_SUBNET] = out[own]
    return out


async def arm_vnet(reader: object, request: ClusterRequest, *,
                   timeout: float = OBSERVED_TIMEOUT_SECONDS) -> ArmVnet | None:
    """The cluster's VNet as ARM has it (address space, subnets by name); None when ARM cannot be read now or has
    no such VNet (or the cluster is on AKS's own VNet). Odd shapes leave parts out (shared/services/arm_views.py)."""
    vnet_id = arm.cluster_vnet_id(request)
    if not isinstance(reader, ArmReader) or vnet_id is None:
        return None
    try:
        async with asyncio.timeout(timeout):
            vnet = await reader.get(arm.VNET.name, vnet_id, arm.VNET.api_version)
    except (TimeoutError, AksvendError):
        return None
    if vnet is None:
        return None
    props = obj(vnet, "properties")
    prefixes = obj(props, "addressSpace").get("addressPrefixes")
    spaces = tuple(net for p in (prefixes if isinstance(prefixes, list) else []) if (net := parse_cidr(str(p))))
    found = {str(s.get("name")): parse_cidr(str(obj(s, "properties").get("addressPrefix")))
             for s in objects(props.get("subnets"))}
    return ArmVnet(spaces, {name: net for name, net in found.items() if net is not None})


async def arm_entra(reader: object, request: ClusterRequest, *,
                    timeout: float = CREDENTIALS_TIMEOUT_SECONDS) -> bool:
    """Whether ARM's cluster is Entra-integrated: its `aadProfile` as ARM answers (not the desired request, which
    says what aksvend asked for, not what the cluster of that name is). 409 while ARM has no cluster; 503 when ARM
    cannot be read."""
    if not isinstance(reader, ArmReader):
        raise Unavailable("ArmUnavailable", "this app has no ARM reader for credentials")
    try:
        async with asyncio.timeout(timeout):
            body = await reader.get(arm.CLUSTER.name, arm.ids(request)["cluster"], arm.CLUSTER.api_version)
    except TimeoutError:
        raise Unavailable("ArmUnavailable", f"ARM did not answer within {timeout:g} s; try again") from None
    except AksvendError as exc:
        raise Unavailable("ArmUnavailable", f"ARM could not be read ({getattr(exc, 'code', type(exc).__name__)}); "
                                            "try again") from None
    if body is None:
        raise InConflict("ClusterNotInArm", f"ARM has no cluster '{request.name}' yet: credentials exist once its "
                                            "create has finished")
    return bool(obj(body, "properties", "aadProfile"))


async def credentials(reader: object, request: ClusterRequest, *, entra: bool, certificate: bool,
                      timeout: float = CREDENTIALS_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The user kubeconfig of the cluster (kubelogin's exec form when `entra`: ARM says so, `arm_entra`). 409 while
    ARM has no cluster yet; 503 when ARM cannot be read. Never the admin credential. `certificate`: whether a
    kubeconfig with a client certificate (a local account: `system:masters`) may be handed out; without it such a
    kubeconfig is refused (403), whatever the cluster was thought to be."""
    if not isinstance(reader, ArmReader):
        raise Unavailable("ArmUnavailable", "this app has no ARM reader for credentials")
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
    out = _kubeconfig(body, request, entra)
    if not certificate and any(k in out["kubeconfig"] for k in CERTIFICATE_KEYS):
        raise NotPermitted("Forbidden", f"the user credential of cluster '{request.name}' is a client certificate "
                                        "(a local account: system:masters, full control), handed out with `change` "
                                        "only")
    return out


def _kubeconfig(body: Any, request: ClusterRequest, entra: bool) -> dict[str, Any]:
    configs = objects(obj(body).get("kubeconfigs"))
    user = next((c for c in configs if c.get("name") == "clusterUser"), configs[0] if configs else {})
    try:
        text = base64.b64decode(str(user["value"]), validate=True).decode("utf-8")
    except (KeyError, binascii.Error, UnicodeDecodeError):
        raise Unavailable("CredentialsUnreadable", "ARM's answer holds no user kubeconfig") from None
    # ARM's aadProfile decides the form, whoever turned Entra on; a client certificate is a local account's
    entra = (entra or "command: kubelogin" in text) and not any(k in text for k in CERTIFICATE_KEYS)
    usage = ("the kubeconfig runs kubelogin (https://azure.github.io/kubelogin): install it, then "
             "`kubelogin convert-kubeconfig -l azurecli` to sign in with your Azure CLI login; "
             f"{_access_note(request)}") if entra else (
             "save it as a kubeconfig file (KUBECONFIG=<file> kubectl get nodes)")
    return {"cluster": request.name, "resourceGroup": request.resource_group, "name": str(user.get("name")),
            "format": "exec" if entra else "default", "kubeconfig": text, "usage": usage}


def _access_note(request: ClusterRequest) -> str:
    """Where a signed-in user's rights on an Entra-integrated cluster come from, as far as the request made them:
    the Entra credentials carry none of their own (rule ENTRA_NO_ADMIN warns at plan time when nothing grants any)."""
    entra = request.entra_id
    if request.access is not None:
        return (f"your access comes from the role '{request.access.role}' aksvend granted the owner group "
                f"{request.access.owner_group} on the cluster")
    if entra is not None and entra.admin_group_object_ids:
        return "members of the cluster's admin groups (entraId.adminGroupObjectIds) are its cluster-admins"
    if entra is not None and not entra.azure_rbac:
        return ("aksvend granted no one access: a cluster admin must bind you with Kubernetes RBAC (a RoleBinding "
                "or ClusterRoleBinding to your Entra user or group)")
    return ("aksvend granted no role on this cluster: ask an owner of it to grant you an Azure Kubernetes Service "
            "RBAC role (Reader, Writer, Admin or Cluster Admin) on it, e.g. `az role assignment create --role "
            "\"Azure Kubernetes Service RBAC Cluster Admin\" --assignee <you> --scope <cluster id>`")
