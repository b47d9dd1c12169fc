"""AKS read-only extras the Azure CLI calls: cluster credentials and the region's Kubernetes versions.

- `POST .../managedClusters/{name}/listClusterUserCredential` and `listClusterAdminCredential` (what
  `az aks get-credentials` calls; REST `ManagedClusters_ListClusterUserCredentials`): `{"kubeconfigs": [{"name":
  "clusterUser"|"clusterAdmin", "value": <base64 kubeconfig>}]}`. The kubeconfig names the cluster's `fqdn` as its
  server, a private cluster's `privateFQDN` (see `server`); its token is an obviously local placeholder, never a
  secret. An Entra-integrated cluster's user kubeconfig authenticates with kubelogin instead (`format=exec`, the
  default, or `azure`: see below).
- `GET .../providers/Microsoft.ContainerService/locations/{loc}/kubernetesVersions` (`az aks get-versions`; REST
  `ManagedClusters_ListKubernetesVersions`): one entry per minor of the version table (versions.py) with its
  patches and the upgrades each is offered.
"""

from __future__ import annotations

import base64
from typing import Any

from ..errors import invalid, method_not_allowed
from ..versions import parse
from ..world import Call, Reply
from .base import ResourceType

PLACEHOLDER_TOKEN = "aksvend-emulator-local-placeholder-not-a-secret"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://{fqdn}:443
    insecure-skip-tls-verify: true
  name: {cluster}
contexts:
- context:
    cluster: {cluster}
    user: {user}_{cluster}
  name: {cluster}{suffix}
current-context: {cluster}{suffix}
users:
- name: {user}_{cluster}
  user:
    token: {token}
"""


# An Entra-integrated cluster's user kubeconfig (`aadProfile`): `format=exec` (the default, as AKS answers from
# Kubernetes 1.24 on) runs kubelogin; `format=azure` is the older azure auth-provider (REST
# ManagedClusters_ListClusterUserCredentials: "Only apply to AAD clusters ... format 'exec' will return exec format
# kubeconfig, which requires kubelogin binary in the path"). The ids are AKS's Entra server and client applications.
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_CLIENT_APP = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
EXEC_USER = """    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - {server}
      - --client-id
      - {client}
      - --tenant-id
      - {tenant}
      - --login
      - devicecode
      installHint: install kubelogin (https://azure.github.io/kubelogin/install.html)
      provideClusterInfo: false
"""
AZURE_USER = """    auth-provider:
      name: azure
      config:
        apiserver-id: {server}
        client-id: {client}
        config-mode: '1'
        environment: AzurePublicCloud
        tenant-id: {tenant}
"""


def credentials(cluster: Any, action: str, query: dict[str, str] | None = None, tenant: str = "") -> Reply:
    admin = action.lower() == "listclusteradmincredential"
    text = KUBECONFIG.format(
        fqdn=server(cluster.properties, query), cluster=cluster.name, token=PLACEHOLDER_TOKEN,
        user="clusterAdmin" if admin else "clusterUser", suffix="-admin" if admin else "")
    wanted = (query or {}).get("format")
    if wanted is not None and wanted.lower() not in ("azure", "exec"):
        raise invalid(f"format must be 'azure' or 'exec', not '{wanted}'.", "format")
    if not admin and cluster.properties.get("aadProfile"):
        form = AZURE_USER if (wanted or "exec").lower() == "azure" else EXEC_USER
        user = form.format(server=AKS_SERVER_APP, client=AKS_CLIENT_APP, tenant=tenant)
        text = text.split("  user:\n", 1)[0] + "  user:\n" + user
    name = "clusterAdmin" if admin else "clusterUser"
    return Reply(200, {"kubeconfigs": [{"name": name, "value": base64.b64encode(text.encode()).decode()}]})


def server(props: dict[str, Any], query: dict[str, str] | None) -> str:
    """The API server a kubeconfig names: a private cluster's `privateFQDN` (its public `fqdn` may be absent), unless
    the caller asks for the public one (REST `server-fqdn=public`, what `az aks get-credentials --public-fqdn` sends:
    "Get private cluster credential with server address to be public fqdn"); else the cluster's `fqdn`."""
    private = bool((props.get("apiServerAccessProfile") or {}).get("enablePrivateCluster"))
    public = str((query or {}).get("server-fqdn") or "").lower() == "public" and props.get("fqdn")
    if private and props.get("privateFQDN") and not public:
        return str(props["privateFQDN"])
    return str(props.get("fqdn") or props.get("privateFQDN") or "")


class KubernetesVersions(ResourceType):
    type_name = "Microsoft.ContainerService/locations/kubernetesVersions"
    scope_kind = "subscription"

    def list(self, call: Call) -> Reply:
        table = self.world.versions
        minors: dict[tuple[int, int], dict[str, Any]] = {}
        for text, preview in sorted(table.versions.items(), key=lambda item: parse(item[0]) or (0, 0, 0)):
            version = parse(text)
            if version is None:
                continue
            entry = minors.setdefault(version[:2], {
                "version": f"{version[0]}.{version[1]}", "isPreview": preview,
                "capabilities": {"supportPlan": ["KubernetesOfficial"]}, "patchVersions": {}})
            entry["isPreview"] = entry["isPreview"] and preview
            entry["patchVersions"][text] = {"upgrades": [u["kubernetesVersion"] for u in table.upgrades(text)]}
        return Reply(200, {"values": list(minors.values())})

    def get(self, call: Call) -> Reply:
        raise method_not_allowed(call.method, self.type_name)

    put = patch = delete = get
