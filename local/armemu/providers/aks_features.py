"""The production options of a managed cluster and its pools (issue 18), refused where AKS refuses them, and the
read-only values AKS fills in for them. Pure functions over request dictionaries, called by aks.py (the cluster) and
aks_rules.check_pool (a pool), like the rules of aks_rules.py.

What is refused, and where AKS says so (docs/emulator.md, "Production options", lists them with the aksvend rule that
catches each first):
- `apiServerAccessProfile`: authorized IP ranges on a private cluster; `enablePrivateClusterPublicFQDN` on a public
  one, or off with `privateDNSZone` `none` (the az CLI: "--disable-public-fqdn cannot be applied for none mode private
  dns zone cluster"); a `privateDNSZone` that is neither `system`, `none` nor a `privatelink.<region>.azmk8s.io` zone
  id, or a zone id without a user-assigned identity (aks/private-clusters);
- `aadProfile.enableAzureRBAC` without `managed`, `disableLocalAccounts` without the managed Entra integration
  (aks/manage-azure-rbac, aks/manage-local-accounts-managed-azure-ad);
- `securityProfile.workloadIdentity` without `oidcIssuerProfile.enabled`, and turning the OIDC issuer off once on
  (aks/workload-identity-deploy-cluster, aks/use-oidc-issuer: "can't be disabled");
- `networkPolicy` `cilium` without `networkDataplane` `cilium`, the Cilium dataplane with another policy engine or
  on kubenet, a Windows pool on it (aks/azure-cni-powered-by-cilium; Azure/AKS#4540);
- `outboundType` `managedNATGateway` with a custom subnet (aks/nat-gateway), `userDefinedRouting` on a subnet without
  a route table (AKS's `ExistingRouteTableNotAssociatedWithSubnet`, aks/egress-udr), `userAssignedNATGateway` on one
  without a NAT gateway;
- `metricsProfile.costAnalysis` on the Free tier (aks/cost-analysis);
- per pool: an `osSKU` of the other OS, an Arm64 size in a Windows pool (aks/use-arm64-vms), a `gpuInstanceProfile` on
  a size AKS offers no MIG on (A100 v4, NC40ads_H100_v5, ND96isr_H100_v5 only: aks/gpu-multi-instance), `scaleDownMode`
  Deallocate on spot or ephemeral-OS pools, kubelet image GC thresholds out of order, an unreadable `maxSurge`.
"""

from __future__ import annotations

import re
from typing import Any

from ..armid import derived_uuid
from ..errors import ArmError, invalid
from .compute import vm_size

WINDOWS_SKUS = ("windows2019", "windows2022", "windows2025")
LINUX_SKUS = ("ubuntu", "azurelinux", "cblmariner", "mariner", "ubuntu2204", "ubuntu2404", "azurelinux3")
MIG_SIZES = re.compile(r"_a100_v4$|^standard_nc40ads_h100_v5$|^standard_nd96isr_h100_v5$", re.IGNORECASE)
SURGE = re.compile(r"^[1-9]\d{0,2}%?$")
ZONE_NAME = re.compile(r"^([a-z0-9-]+\.)?privatelink\.([a-z0-9]+)\.azmk8s\.io$")
ZONE_TYPE = "/providers/microsoft.network/privatednszones/"


def check_cluster(props: dict[str, Any], body: dict[str, Any], old: dict[str, Any] | None,
                  subnets: dict[str, dict[str, Any] | None]) -> None:
    """Raise for the first broken rule of the cluster-wide options; `subnets`: the pools' `vnetSubnetID`s, each with
    the subnet's stored body (None: not in the emulator)."""
    _check_api_server(props.get("apiServerAccessProfile") or {}, body)
    aad = props.get("aadProfile") or {}
    if aad.get("enableAzureRBAC") and not aad.get("managed"):
        raise invalid("Azure RBAC for Kubernetes authorization requires the AKS-managed Microsoft Entra ID "
                      "integration (aadProfile.managed).", "aadProfile.enableAzureRBAC")
    if props.get("disableLocalAccounts") and not aad.get("managed"):
        raise ArmError(400, "BadRequest", "Local accounts can only be disabled on clusters with the AKS-managed "
                       "Microsoft Entra ID integration enabled.", target="disableLocalAccounts")
    oidc = bool((props.get("oidcIssuerProfile") or {}).get("enabled"))
    was_oidc = bool(((old or {}).get("oidcIssuerProfile") or {}).get("enabled"))
    if was_oidc and "oidcIssuerProfile" in props and not oidc:
        raise invalid("The OIDC issuer can't be disabled once it is enabled.", "oidcIssuerProfile.enabled")
    workload = ((props.get("securityProfile") or {}).get("workloadIdentity") or {}).get("enabled")
    if workload and not (oidc or (was_oidc and "oidcIssuerProfile" not in props)):
        raise invalid("Enabling workload identity requires the OIDC issuer (oidcIssuerProfile.enabled).",
                      "securityProfile.workloadIdentity")
    _check_network(props.get("networkProfile") or {}, subnets)
    cost = ((props.get("metricsProfile") or {}).get("costAnalysis") or {}).get("enabled")
    if cost and (body.get("sku") or {}).get("tier", "Free") not in ("Standard", "Premium"):
        raise invalid("Cost analysis requires the Standard or Premium tier.", "metricsProfile.costAnalysis")


def _check_api_server(api: dict[str, Any], body: dict[str, Any]) -> None:
    private = bool(api.get("enablePrivateCluster"))
    if private and api.get("authorizedIPRanges"):
        raise invalid("API server authorized IP ranges are not supported on private clusters.",
                      "apiServerAccessProfile.authorizedIPRanges")
    public_fqdn = api.get("enablePrivateClusterPublicFQDN")
    if public_fqdn and not private:
        raise invalid("enablePrivateClusterPublicFQDN can only be set on private clusters.",
                      "apiServerAccessProfile.enablePrivateClusterPublicFQDN")
    zone = str(api.get("privateDNSZone") or "system")
    if not private or zone.lower() == "system":
        return
    if zone.lower() == "none":
        if public_fqdn is False:
            raise invalid("The public FQDN cannot be disabled for a private cluster with privateDNSZone 'none'.",
                          "apiServerAccessProfile.enablePrivateClusterPublicFQDN")
        return
    name = zone.rsplit("/", 1)[-1].lower()
    location = str(body.get("location") or "").replace(" ", "").lower()
    found = ZONE_NAME.match(name)
    if ZONE_TYPE not in zone.lower() or found is None or found[2] != location:
        raise invalid(f"The private DNS zone '{zone}' is invalid: it must be 'system', 'none' or the resource id of a "
                      f"private DNS zone named privatelink.{location}.azmk8s.io or "
                      f"<subzone>.privatelink.{location}.azmk8s.io.", "apiServerAccessProfile.privateDNSZone")
    if (body.get("identity") or {}).get("type") != "UserAssigned":
        raise invalid("A custom private DNS zone requires a user-assigned managed identity for the control plane.",
                      "identity")


def _check_network(network: dict[str, Any], subnets: dict[str, dict[str, Any] | None]) -> None:
    policy = str(network.get("networkPolicy") or "").lower()
    dataplane = str(network.get("networkDataplane") or "azure").lower()
    if policy == "cilium" and dataplane != "cilium":
        raise invalid("networkPolicy 'cilium' requires networkDataplane 'cilium'.", "networkProfile.networkPolicy")
    if dataplane == "cilium" and policy not in ("", "none", "cilium"):
        raise invalid(f"networkDataplane 'cilium' does not support networkPolicy '{policy}'.",
                      "networkProfile.networkPolicy")
    if dataplane == "cilium" and str(network.get("networkPlugin") or "azure").lower() != "azure":
        raise invalid("networkDataplane 'cilium' requires networkPlugin 'azure'.", "networkProfile.networkDataplane")
    outbound = str(network.get("outboundType") or "loadBalancer")
    stored = [s for s in subnets.values() if s is not None]
    if outbound == "managedNATGateway" and subnets:
        raise invalid("Managed NAT gateway is not supported with a custom virtual network (the pools name "
                      "vnetSubnetID); use userAssignedNATGateway.", "networkProfile.outboundType")
    if outbound == "userDefinedRouting" and not (stored and all((s.get("properties") or {}).get("routeTable")
                                                                for s in stored)):
        raise ArmError(400, "ExistingRouteTableNotAssociatedWithSubnet", "An existing route table has not been "
                       "associated with the subnet of the cluster's nodes. Please update the route table "
                       "association.", target="networkProfile.outboundType")
    if outbound == "userAssignedNATGateway" and not (stored and all((s.get("properties") or {}).get("natGateway")
                                                                    for s in stored)):
        raise invalid("outboundType 'userAssignedNATGateway' requires a NAT gateway associated with the nodes' "
                      "subnet.", "networkProfile.outboundType")


def check_pool(name: str, props: dict[str, Any], cluster_props: dict[str, Any]) -> None:
    """Raise for the first broken rule of one pool's options."""
    target = f"agentPoolProfile.{name}"
    windows = (props.get("osType") or "Linux") == "Windows"
    sku = str(props.get("osSKU") or "").lower()
    if sku and (sku in WINDOWS_SKUS) != windows:
        raise invalid(f"Pool '{name}': OS SKU '{props['osSKU']}' does not match osType "
                      f"'{props.get('osType') or 'Linux'}'.", f"{target}.osSKU")
    if windows and vm_size(str(props.get("vmSize") or "")).arm64:
        raise invalid(f"Pool '{name}': VM size {props.get('vmSize')} is an Arm64 size; Arm64 VMs aren't supported "
                      "for Windows node pools.", f"{target}.vmSize")
    network = cluster_props.get("networkProfile") or {}
    if windows and str(network.get("networkDataplane") or "").lower() == "cilium":
        raise invalid(f"Windows pool '{name}' is not supported with networkDataplane 'cilium'.",
                      "networkProfile.networkDataplane")
    if props.get("gpuInstanceProfile") and not MIG_SIZES.search(str(props.get("vmSize") or "")):
        raise invalid(f"Pool '{name}': gpuInstanceProfile is only supported on MIG-capable GPU sizes (A100, H100); "
                      f"{props.get('vmSize')} is not one.", f"{target}.gpuInstanceProfile")
    if props.get("scaleDownMode") == "Deallocate":
        if props.get("scaleSetPriority") == "Spot":
            raise invalid(f"Pool '{name}': scaleDownMode Deallocate is not supported on spot pools.",
                          f"{target}.scaleDownMode")
        if props.get("osDiskType") == "Ephemeral":
            raise invalid(f"Pool '{name}': scaleDownMode Deallocate is not supported with ephemeral OS disks.",
                          f"{target}.scaleDownMode")
    kubelet = props.get("kubeletConfig") or {}
    high, low = kubelet.get("imageGcHighThreshold"), kubelet.get("imageGcLowThreshold")
    if isinstance(high, int) and isinstance(low, int) and not 0 <= low < high <= 100:
        raise invalid(f"Pool '{name}': kubeletConfig needs 0 <= imageGcLowThreshold < imageGcHighThreshold <= 100.",
                      f"{target}.kubeletConfig")
    surge = (props.get("upgradeSettings") or {}).get("maxSurge")
    if surge not in (None, "") and not SURGE.match(str(surge)):
        raise invalid(f"Pool '{name}': maxSurge '{surge}' must be a node count or a percentage.",
                      f"{target}.upgradeSettings.maxSurge")


def fill(props: dict[str, Any], cluster_id: str, location: str, suffix: str, tenant: str) -> None:
    """What AKS fills in for the options: a private cluster's privateFQDN (and no public FQDN unless asked for),
    the OIDC issuer's URL."""
    api = props.get("apiServerAccessProfile") or {}
    if api.get("enablePrivateCluster"):
        props["privateFQDN"] = f"{props['dnsPrefix']}-{suffix}.{suffix[:8]}.privatelink.{location}.azmk8s.io"
        if api.get("enablePrivateClusterPublicFQDN") is False:
            props.pop("fqdn", None)
    oidc = props.get("oidcIssuerProfile")
    if isinstance(oidc, dict) and oidc.get("enabled"):
        oidc["issuerURL"] = f"https://{location}.oic.prod-aks.azure.com/{tenant}/{derived_uuid(cluster_id, 'oidc')}/"
