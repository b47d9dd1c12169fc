"""Rules of a bring-your-own network and identity, hub-and-spoke peering and central private DNS zones (docs/request.md,
"Bring your own network"). The plan cannot see ARM: whether the subnets exist, and have the route table or NAT gateway
an outbound type needs, is checked by AKS at create (and the emulator, as AKS does)."""

from __future__ import annotations

from collections.abc import Iterator

from shared.domain import armid, byo
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.rules.endpoints import PRIVATE_LINK_GROUPS
from shared.domain.violations import PRIVATE_ENDPOINTS, Violation

_AKS = "learn.microsoft.com/azure/aks/"
CUSTOM_VNET = _AKS + "configure-azure-cni#prerequisites (the cluster identity needs Network Contributor on the subnet)"
MANAGED_IDENTITY = _AKS + "use-managed-identity#bring-your-own-managed-identity"
HUB_SPOKE = "learn.microsoft.com/azure/architecture/networking/architecture/hub-spoke"
PEERING = "learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering"
LANDING_ZONE_DNS = ("learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/"
                    "private-link-and-dns-integration-at-scale (the policy denies private DNS zones in spokes)")
ZONE_TYPE = "microsoft.network/privatednszones"


def existing_network(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    existing, at = r.network.existing, "/network/existing"
    if existing is None:
        return
    for field, value in (("nodeSubnetId", existing.node_subnet_id),
                         ("privateEndpointSubnetId", existing.private_endpoint_subnet_id)):
        if value is not None and not byo.is_type(value, byo.SUBNET_TYPE):
            yield Violation("EXISTING_SUBNET_ID", f"{at}/{field}", f"'{value[:200]}' is not the ARM id of a subnet "
                            "(/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/"
                            "{vnet}/subnets/{subnet})", source=CUSTOM_VNET)
    if r.network.private_endpoints and existing.private_endpoint_subnet_id is None:
        yield Violation("EXISTING_PE_SUBNET_REQUIRED", f"{at}/privateEndpointSubnetId", "private endpoints go on a "
                        "subnet of the existing network: name it (aksvend makes no subnet in a VNet it does not own)",
                        source=CUSTOM_VNET)
    if r.network.service_endpoints:
        yield Violation("SERVICE_ENDPOINTS_ON_EXISTING_SUBNET", "/network/serviceEndpoints", "an existing subnet's "
                        "service endpoints are its owner's to set: aksvend does not change a subnet it did not make",
                        source=CUSTOM_VNET)
    for i, pool in enumerate(r.user_pools):
        if pool.subnet and not byo.is_subnet_id(pool.subnet):
            yield Violation("POOL_SUBNET_NEEDS_EXISTING_ID", f"/userPools/{i}/subnet", "with network.existing there "
                            "is no VNet of aksvend's to add a subnet to: name an existing subnet by its ARM id",
                            source=CUSTOM_VNET)


def pool_subnet_ids(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    own_vnet: str | None = None  # the id of the VNet aksvend makes, with network.existing none
    for i, pool in enumerate(r.user_pools):
        if not (pool.subnet and byo.is_subnet_id(pool.subnet)):
            continue
        if own_vnet is None and r.network.existing is None:
            # written for the first pool on an existing subnet only: most requests have none, and each plan is of
            # another cluster, so its id is a new text (planning is hot: bench/bench_plan.py)
            own_vnet = armid.fold_case(armid.resource_id(
                r.subscription_id, r.resource_group, "Microsoft.Network", "virtualNetworks", f"vnet-{r.name}"))
        if not byo.is_type(pool.subnet, byo.SUBNET_TYPE):
            yield Violation("POOL_SUBNET_ID", f"/userPools/{i}/subnet", f"'{pool.subnet[:200]}' is not the ARM id of "
                            "a subnet; a pool's subnet is \"auto\", a prefix, or an existing subnet's id",
                            source=CUSTOM_VNET)
        elif own_vnet is not None and armid.fold_case(byo.vnet_of(pool.subnet).rstrip("/")) == own_vnet:
            # aksvend's own subnets there (nodes, private endpoints, other pools') are not the pool's to take as an
            # existing one: its delete would remove their grant and their targets' rules
            yield Violation("POOL_SUBNET_OWN_VNET", f"/userPools/{i}/subnet", f"'{pool.subnet[:200]}' is in the VNet "
                            f"aksvend makes for this cluster (vnet-{r.name}); give the pool a subnet of its own there "
                            "(\"auto\" or a prefix) or an existing subnet of another VNet", source=CUSTOM_VNET)


def identity(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    given, at = r.identity, "/identity"
    if given is None:
        return
    if given.type == "UserAssigned" and not (given.resource_id and byo.is_type(given.resource_id, byo.IDENTITY_TYPE)):
        yield Violation("IDENTITY_ID", f"{at}/resourceId", "a user-assigned identity is named by its ARM id "
                        "(.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name})",
                        source=MANAGED_IDENTITY)
    if given.type == "SystemAssigned" and given.resource_id is not None:
        yield Violation("IDENTITY_ID_SYSTEM_ASSIGNED", f"{at}/resourceId", "a system-assigned identity has no id to "
                        "give: leave resourceId out", source=MANAGED_IDENTITY)
    if r.network.existing is None:
        yield Violation("IDENTITY_NEEDS_EXISTING_NETWORK", at, "an existing identity gets no role from aksvend, but "
                        "the VNet aksvend makes needs the cluster identity's Network Contributor grant: use "
                        "network.existing (subnets whose owner granted the identity), or leave identity out",
                        source=CUSTOM_VNET)


def hub(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    hub_id, at = r.network.hub_vnet_id, "/network/hubVnetId"
    if hub_id is None:
        return
    if not byo.is_type(hub_id, byo.VNET_TYPE):
        yield Violation("HUB_VNET_ID", at, f"'{hub_id[:200]}' is not the ARM id of a virtual network", source=PEERING)
    if r.network.existing is not None:
        yield Violation("HUB_PEERING_EXISTING_NETWORK", at, "an existing network's peering to its hub is its owner's; "
                        "aksvend peers only the VNet it makes", source=HUB_SPOKE)


def central_zones(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    used = {pe.group_id for pe in r.network.private_endpoints}
    for group, zone_id in r.network.private_dns_zones.items():
        at = f"/network/privateDnsZones/{group}"
        known = PRIVATE_LINK_GROUPS.get(group)
        if known is None:
            yield Violation("PRIVATE_DNS_ZONE_GROUP", at, f"'{group[:64]}' is not a supported group id; use one of "
                            f"{', '.join(PRIVATE_LINK_GROUPS)}", source=PRIVATE_ENDPOINTS)
        elif not byo.is_type(zone_id, ZONE_TYPE) or zone_id.rsplit("/", 1)[-1].lower() != known[1]:
            yield Violation("PRIVATE_DNS_ZONE_ID", at, f"group '{group}' resolves in the zone {known[1]}: give the "
                            "ARM id of that private DNS zone (.../providers/Microsoft.Network/privateDnsZones/"
                            f"{known[1]})", source=LANDING_ZONE_DNS)
        if group not in used:
            yield Violation("PRIVATE_DNS_ZONE_UNUSED", at, f"no private endpoint uses group '{group[:64]}'",
                            severity="warning", source=PRIVATE_ENDPOINTS)
    if r.network.link_private_dns_zones and not r.network.private_dns_zones:
        yield Violation("PRIVATE_DNS_LINK_WITHOUT_ZONES", "/network/linkPrivateDnsZones", "links are made to the "
                        "existing zones of privateDnsZones, and there are none; zones aksvend makes are always linked",
                        severity="warning", source=LANDING_ZONE_DNS)


RULES = (existing_network, pool_subnet_ids, identity, hub, central_zones)
