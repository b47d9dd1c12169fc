"""Rules of the cluster-wide production options (issue 18): API server access, Entra ID, workload identity, network
policy and dataplane, outbound type, add-ons and maintenance windows. Sources in docs/request.md, "Production options".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shared.domain import armid
from shared.domain.network import parse_cidr
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.rules.pools import each_pool
from shared.domain.violations import Violation, pointer

_AKS = "learn.microsoft.com/azure/aks/"
PRIVATE_CLUSTERS = _AKS + "private-clusters"
AUTHORIZED_RANGES = _AKS + "api-server-authorized-ip-ranges"
ENTRA = _AKS + "manage-azure-rbac"
LOCAL_ACCOUNTS = _AKS + "manage-local-accounts-managed-azure-ad"
WORKLOAD_IDENTITY = _AKS + "workload-identity-deploy-cluster"
CILIUM = _AKS + "azure-cni-powered-by-cilium (Windows: Azure/AKS#4540)"
NETWORK_POLICIES = _AKS + "use-network-policies"
OUTBOUND = _AKS + "egress-outboundtype; nat-gateway (managed NAT gateway is incompatible with custom VNets)"
COST_ANALYSIS = _AKS + "cost-analysis"
SECRETS_PROVIDER = _AKS + "csi-secrets-store-configuration-options"
MAINTENANCE = _AKS + "planned-maintenance"
NODE_OS_UPGRADE = _AKS + "auto-upgrade-node-os-image"

PRIVATE_ZONE_TYPE = "microsoft.network/privatednszones"
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d\Z")
UTC_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d\Z")


def api_server(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    api, at = r.api_server, "/apiServer"
    if api.private and api.authorized_ip_ranges:
        yield Violation("AUTHORIZED_IP_RANGES_PRIVATE", f"{at}/authorizedIpRanges", "authorized IP ranges apply to a "
                        "public API server; a private cluster's API server has no public endpoint to limit",
                        source=AUTHORIZED_RANGES)
    for i, text in enumerate(api.authorized_ip_ranges):
        if parse_cidr(text if "/" in text else f"{text}/32") is None:
            yield Violation("AUTHORIZED_IP_RANGE_FORMAT", f"{at}/authorizedIpRanges/{i}", f"'{text}' is not an IPv4 "
                            "address or CIDR with its host bits zero, e.g. 203.0.113.0/24", source=AUTHORIZED_RANGES)
    if api.public_fqdn and not api.private:
        yield Violation("PUBLIC_FQDN_NOT_PRIVATE", f"{at}/publicFqdn", "publicFqdn (enablePrivateClusterPublicFQDN) "
                        "applies to private clusters only; a public cluster has a public FQDN anyway",
                        source=PRIVATE_CLUSTERS)
    if not api.private:
        return
    zone = api.private_dns_zone
    if zone.lower() == "none":
        if not api.public_fqdn:
            yield Violation("PRIVATE_DNS_NONE_NEEDS_PUBLIC_FQDN", f"{at}/publicFqdn", "privateDnsZone 'none' creates "
                            "no private zone: the API server is found through its public FQDN, which must stay on "
                            "(publicFqdn true)", source=PRIVATE_CLUSTERS)
        yield Violation("PRIVATE_DNS_NONE_CUSTOM_DNS", f"{at}/privateDnsZone", "with privateDnsZone 'none' the API "
                        "server's name resolves only through public DNS or a custom DNS server you run for the VNet",
                        severity="warning", source=PRIVATE_CLUSTERS)
    elif zone.lower() != "system":
        yield from _zone_id(zone, r.location, f"{at}/privateDnsZone")


def _zone_id(zone: str, location: str, at: str) -> Iterator[Violation]:
    parsed = armid.parse(zone)
    name = parsed.names[-1].lower() if parsed is not None and parsed.names else ""
    if parsed is None or parsed.resource_group is None or parsed.resource_type.lower() != PRIVATE_ZONE_TYPE:
        yield Violation("PRIVATE_DNS_ZONE_FORMAT", at, "privateDnsZone is 'system', 'none' or the ARM id of a "
                        "Microsoft.Network/privateDnsZones resource in a resource group", source=PRIVATE_CLUSTERS)
    elif not (name == f"privatelink.{location}.azmk8s.io" or name.endswith(f".privatelink.{location}.azmk8s.io")):
        yield Violation("PRIVATE_DNS_ZONE_NAME", at, f"the zone must be named privatelink.{location}.azmk8s.io or "
                        f"<subzone>.privatelink.{location}.azmk8s.io (the cluster's region); it is '{name}'",
                        source=PRIVATE_CLUSTERS)


def entra_id(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    entra, at = r.entra_id, "/entraId"
    if entra is None:
        return
    if entra.azure_rbac and not entra.managed:
        yield Violation("AZURE_RBAC_NEEDS_ENTRA", f"{at}/azureRbac", "Azure RBAC for Kubernetes authorization needs "
                        "the AKS-managed Entra ID integration (managed true)", source=ENTRA)
    if entra.disable_local_accounts and not entra.managed:
        yield Violation("LOCAL_ACCOUNTS_NEED_ENTRA", f"{at}/disableLocalAccounts", "local accounts can be disabled "
                        "only on a cluster with the Entra ID integration (managed true)", source=LOCAL_ACCOUNTS)
    for i, group in enumerate(entra.admin_group_object_ids):
        if not armid.GUID.fullmatch(group):
            yield Violation("ENTRA_GROUP_ID_FORMAT", f"{at}/adminGroupObjectIds/{i}", "an admin group is named by its "
                            "object id, a GUID", source=ENTRA)
    if not entra.managed or entra.admin_group_object_ids or r.access is not None:
        return
    if entra.azure_rbac:  # the production profile's default: the Entra credentials carry no right of their own
        yield Violation("ENTRA_NO_ADMIN", "/access", "Azure RBAC decides who may use the cluster and the request "
                        "grants no one a role: name access.ownerGroup (aksvend grants it a role on the cluster) or "
                        "entraId.adminGroupObjectIds, or have an owner of the subscription grant an Azure Kubernetes "
                        "Service RBAC role (Reader, Writer, Admin or Cluster Admin) on the cluster after the create",
                        severity="warning", source=ENTRA)
    elif entra.disable_local_accounts:
        yield Violation("ENTRA_NO_ADMIN", f"{at}/adminGroupObjectIds", "local accounts are disabled and neither "
                        "Azure RBAC nor an admin group grants access: nobody can administer the cluster",
                        severity="warning", source=LOCAL_ACCOUNTS)


def workload_identity(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if r.security.workload_identity and not r.security.oidc_issuer:
        yield Violation("WORKLOAD_IDENTITY_NEEDS_OIDC", "/security/oidcIssuer", "workload identity needs the OIDC "
                        "issuer (oidcIssuer true)", source=WORKLOAD_IDENTITY)


def network_policy(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    n, at = r.network, "/network"
    if n.policy == "cilium" and n.dataplane != "cilium":
        yield Violation("CILIUM_POLICY_NEEDS_DATAPLANE", f"{at}/policy", "network policy 'cilium' needs the Cilium "
                        "dataplane (dataplane 'cilium')", source=CILIUM)
    if n.dataplane == "cilium" and n.policy in ("azure", "calico"):
        yield Violation("CILIUM_DATAPLANE_POLICY", f"{at}/policy", f"with the Cilium dataplane the network policy "
                        f"engine is Cilium: policy must be 'cilium' or 'none', not '{n.policy}'", source=CILIUM)
    if n.dataplane == "cilium" and n.plugin == "kubenet":
        yield Violation("CILIUM_NEEDS_AZURE_CNI", f"{at}/dataplane", "the Cilium dataplane runs on Azure CNI "
                        "('azure-overlay' or 'azure'), not kubenet", source=CILIUM)
    if n.policy == "azure" and n.plugin == "kubenet":
        yield Violation("AZURE_POLICY_NEEDS_AZURE_CNI", f"{at}/policy", "Azure Network Policy Manager needs Azure "
                        "CNI, not kubenet; use 'calico' or move to 'azure-overlay'", source=NETWORK_POLICIES)
    if n.dataplane == "cilium":
        for pool, pool_at, _system, _size, _nodes in each_pool(r):
            if pool.os == "Windows":
                yield Violation("CILIUM_WINDOWS", f"{pool_at}/os", "the Cilium dataplane supports Linux nodes only; "
                                "a Windows pool needs dataplane 'azure'", source=CILIUM)


def outbound(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    """managedNATGateway needs AKS's own VNet; userDefinedRouting and userAssignedNATGateway an existing node subnet,
    whose route table or NAT gateway AKS checks at create (the plan cannot see it; docs/request.md)."""
    kind, at = r.network.outbound_type, "/network/outboundType"
    existing = r.network.existing
    node_subnet = existing.node_subnet_id if existing is not None else None
    if kind == "managedNATGateway" and (existing is None or node_subnet is not None):
        yield Violation("OUTBOUND_MANAGED_NAT_CUSTOM_VNET", at, "AKS's managed NAT gateway is incompatible with a "
                        "custom VNet, and the nodes go on one (aksvend's, or network.existing's); use "
                        "'loadBalancer', or 'userAssignedNATGateway' on an existing subnet with a NAT gateway",
                        source=OUTBOUND)
    elif kind in ("userDefinedRouting", "userAssignedNATGateway") and node_subnet is None:
        needs = "a route table to the firewall" if kind == "userDefinedRouting" else "a NAT gateway"
        yield Violation("OUTBOUND_NEEDS_BYO_SUBNET", at, f"{kind} needs the nodes on an existing subnet that has "
                        f"{needs} (network.existing.nodeSubnetId); aksvend's own subnets have neither",
                        source=OUTBOUND)


def addons(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    a, at = r.addons, "/addons"
    if a.cost_analysis and not r.is_production:
        yield Violation("COST_ANALYSIS_NEEDS_STANDARD_TIER", f"{at}/costAnalysis", "cost analysis needs the "
                        "Standard or Premium tier; the 'development' profile's clusters are Free tier",
                        source=COST_ANALYSIS)
    if a.secret_rotation and not a.key_vault_secrets_provider:
        yield Violation("SECRET_ROTATION_WITHOUT_PROVIDER", f"{at}/secretRotation", "secret rotation is a setting of "
                        "the Key Vault secrets provider: turn on keyVaultSecretsProvider", source=SECRETS_PROVIDER)


def maintenance(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    m, at = r.maintenance, "/maintenance"
    if r.reactions.auto_upgrade == "node-image" and m.node_os_upgrade_channel != "NodeImage":
        yield Violation("NODE_OS_CHANNEL_WITH_NODE_IMAGE", f"{at}/nodeOsUpgradeChannel", "the auto-upgrade channel "
                        "'node-image' sets the node OS channel to NodeImage; leave it NodeImage",
                        source=NODE_OS_UPGRADE)
    windows = (("autoUpgradeWindow", m.auto_upgrade_window, r.reactions.auto_upgrade == "none"),
               ("nodeOsUpgradeWindow", m.node_os_upgrade_window, m.node_os_upgrade_channel in ("None", "Unmanaged")))
    for field, window, idle in windows:
        if window is None:
            continue
        if not CLOCK.fullmatch(window.start_time):
            yield Violation("MAINTENANCE_START_TIME", pointer("maintenance", field, "startTime"), "startTime is "
                            "HH:MM on a 24-hour clock, e.g. 01:30", source=MAINTENANCE)
        if not UTC_OFFSET.fullmatch(window.utc_offset):
            yield Violation("MAINTENANCE_UTC_OFFSET", pointer("maintenance", field, "utcOffset"), "utcOffset is "
                            "+HH:MM or -HH:MM, e.g. +01:00", source=MAINTENANCE)
        if idle:
            yield Violation("MAINTENANCE_WINDOW_UNUSED", pointer("maintenance", field), "this window schedules "
                            "upgrades of a channel that is off; it has no effect", severity="warning",
                            source=MAINTENANCE)


RULES = (api_server, entra_id, workload_identity, network_policy, outbound, addons, maintenance)
