"""Bring your own network and identity, hub-and-spoke and central private DNS zones (shared/domain/byo.py,
rules/byo.py): the rules, table-driven like tests/unit/test_rules.py, and what the plan and the operations make of
such a request: no VNet, no identity, nothing of the caller's deleted, vnetSubnetID per pool."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain import arm
from shared.domain.operations import steps_for
from shared.domain.plan import plan
from shared.domain.rules import check
from tests.requests import DELETE, MINIMAL_PRODUCTION, STORAGE, SUB, patched, valid_request
from tests.unit.test_rules_production import PROD

SPOKE = f"/subscriptions/{SUB}/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
HUB = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
ZONES = f"/subscriptions/{SUB}/resourceGroups/rg-hub-dns/providers/Microsoft.Network/privateDnsZones"
IDENTITY = f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x"
EXISTING = {"nodeSubnetId": f"{SPOKE}/subnets/snet-aks", "privateEndpointSubnetId": f"{SPOKE}/subnets/snet-pe"}
PE = [{"name": "data", "targetResourceId": STORAGE, "groupId": "blob"}]
BYO = patched(PROD, {"/network": {"existing": EXISTING}})
BLOB_ZONE = f"{ZONES}/privatelink.blob.core.windows.net"

# (code, path, base, valid patch, invalid patch)
BYO_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("EXISTING_SUBNET_ID", "/network/existing/nodeSubnetId", BYO, {},
     {"/network/existing/nodeSubnetId": SPOKE}),
    ("EXISTING_PE_SUBNET_REQUIRED", "/network/existing/privateEndpointSubnetId", BYO,
     {"/network/privateEndpoints": PE}, {"/network/privateEndpoints": PE, "/network/existing/privateEndpointSubnetId":
                                        DELETE}),
    ("SERVICE_ENDPOINTS_ON_EXISTING_SUBNET", "/network/serviceEndpoints", BYO, {},
     {"/network/serviceEndpoints": ["Microsoft.Storage"]}),
    ("POOL_SUBNET_NEEDS_EXISTING_ID", "/userPools/0/subnet", BYO, {"/userPools/0/subnet": f"{SPOKE}/subnets/apps"},
     {"/userPools/0/subnet": "auto"}),
    ("POOL_SUBNET_ID", "/userPools/0/subnet", PROD, {"/userPools/0/subnet": f"{SPOKE}/subnets/apps"},
     {"/userPools/0/subnet": SPOKE}),
    # a subnet of the VNet aksvend makes for the cluster (any case): its own, not the pool's to take as existing
    ("POOL_SUBNET_OWN_VNET", "/userPools/0/subnet", PROD, {"/userPools/0/subnet": f"{SPOKE}/subnets/apps"},
     {"/userPools/0/subnet": f"/subscriptions/{SUB}/resourceGroups/RG-SHOP/providers/Microsoft.Network/"
                             "virtualNetworks/VNET-shop-prod/subnets/snet-nodes"}),
    ("IDENTITY_ID", "/identity/resourceId", BYO, {"/identity": {"resourceId": IDENTITY}},
     {"/identity": {"resourceId": f"{SPOKE}/subnets/snet-aks"}}),
    ("IDENTITY_ID_SYSTEM_ASSIGNED", "/identity/resourceId", BYO, {"/identity": {"type": "SystemAssigned"}},
     {"/identity": {"type": "SystemAssigned", "resourceId": IDENTITY}}),
    ("IDENTITY_NEEDS_EXISTING_NETWORK", "/identity", PROD, {},
     {"/identity": {"type": "SystemAssigned"}}),
    ("HUB_VNET_ID", "/network/hubVnetId", PROD, {"/network/hubVnetId": HUB},
     {"/network/hubVnetId": f"{HUB}/subnets/AzureFirewallSubnet"}),
    ("HUB_PEERING_EXISTING_NETWORK", "/network/hubVnetId", BYO, {}, {"/network/hubVnetId": HUB}),
    ("PRIVATE_DNS_ZONE_GROUP", "/network/privateDnsZones/blobs", PROD, {"/network/privateDnsZones/blob": BLOB_ZONE},
     {"/network/privateDnsZones/blobs": BLOB_ZONE}),
    ("PRIVATE_DNS_ZONE_ID", "/network/privateDnsZones/blob", PROD, {"/network/privateDnsZones/blob": BLOB_ZONE},
     {"/network/privateDnsZones/blob": f"{ZONES}/privatelink.file.core.windows.net"}),
    ("PRIVATE_DNS_ZONE_UNUSED", "/network/privateDnsZones/blob", PROD,
     {"/network/privateDnsZones/blob": BLOB_ZONE, "/network/privateEndpoints": PE},
     {"/network/privateDnsZones/blob": BLOB_ZONE}),
    ("PRIVATE_DNS_LINK_WITHOUT_ZONES", "/network/linkPrivateDnsZones", PROD,
     {"/network/linkPrivateDnsZones": True, "/network/privateDnsZones/blob": BLOB_ZONE},
     {"/network/linkPrivateDnsZones": True}),
    # egress: the real rule (the route table or NAT gateway itself is AKS's check, and the emulator's)
    ("OUTBOUND_NEEDS_BYO_SUBNET", "/network/outboundType", BYO, {"/network/outboundType": "userDefinedRouting"},
     {"/network/outboundType": "userDefinedRouting", "/network/existing/nodeSubnetId": DELETE}),
    ("OUTBOUND_MANAGED_NAT_CUSTOM_VNET", "/network/outboundType", BYO,
     {"/network/outboundType": "managedNATGateway", "/network/existing": {}},
     {"/network/outboundType": "managedNATGateway"}),
]


def _codes(raw: dict[str, Any]) -> set[tuple[str, str]]:
    _, violations = check(raw, default_subscription_id=SUB)
    return {(v.code, v.path) for v in violations}


@pytest.mark.parametrize(("code", "path", "base", "valid", "invalid"), BYO_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BYO_CASES)])
def test_rule_holds_at_the_valid_edge_and_fires_at_the_invalid_edge(code, path, base, valid, invalid):
    assert code not in {c for c, _ in _codes(patched(base, valid))}
    assert (code, path) in _codes(patched(base, invalid))


HUB_SPOKE = patched(MINIMAL_PRODUCTION, {
    "/network": {"existing": EXISTING, "outboundType": "userDefinedRouting", "privateEndpoints": PE,
                 "privateDnsZones": {"blob": BLOB_ZONE}},
    "/apiServer/privateDnsZone": f"{ZONES}/privatelink.westeurope.azmk8s.io",
    "/userPools": [{"name": "apps", "subnet": f"{SPOKE}/subnets/snet-apps"}],
})


def test_an_existing_network_is_neither_made_nor_deleted_and_every_pool_names_its_subnet():
    r = valid_request(HUB_SPOKE)
    p = plan(r)
    types = {res.type for res in p.resources}
    assert arm.VNET.name not in types and arm.DNS_ZONE.name not in types and arm.DNS_LINK.name not in types
    profiles = {x["name"]: x["vnetSubnetID"] for x in p.resource("cluster").body["properties"]["agentPoolProfiles"]}
    assert profiles == {"system": EXISTING["nodeSubnetId"], "apps": f"{SPOKE}/subnets/snet-apps"}
    grants = {res.id.split("/providers/Microsoft.Authorization/")[0] for res in p.resources
              if res.type == arm.ROLE_ASSIGNMENT.name}
    api_zone = f"{ZONES}/privatelink.westeurope.azmk8s.io"
    assert grants == {EXISTING["nodeSubnetId"], f"{SPOKE}/subnets/snet-apps", api_zone}
    pe = p.resource("privateEndpoint:data").body["properties"]["subnet"]["id"]
    assert pe == EXISTING["privateEndpointSubnetId"]
    zones = p.resource("dnsZoneGroup:data").body["properties"]["privateDnsZoneConfigs"]
    assert [z["properties"]["privateDnsZoneId"] for z in zones] == [BLOB_ZONE]
    assert set(p.resource("cluster").depends_on) == {"identity", "roleAssignment", "roleAssignment:apps",
                                                     "roleAssignment:apiServerDnsZone"}
    deleted = {s.resource_id for s in steps_for("delete-cluster", r)}
    assert not any(d.lower().startswith(SPOKE.lower() + "/subnets/") and "roleassignments" not in d.lower()
                   for d in deleted)
    assert BLOB_ZONE not in deleted and f"{ZONES}/privatelink.westeurope.azmk8s.io" not in deleted


def test_central_zones_are_linked_to_the_existing_vnet_only_when_asked():
    r = valid_request(patched(HUB_SPOKE, {"/network/linkPrivateDnsZones": True}))
    link = plan(r).resource("dnsLink:blob")
    assert link.id.startswith(BLOB_ZONE + "/virtualNetworkLinks/")
    assert link.body["properties"]["virtualNetwork"]["id"] == SPOKE


def test_an_existing_identity_is_sent_and_gets_nothing_made_or_granted():
    r = valid_request(patched(HUB_SPOKE, {"/identity": {"resourceId": IDENTITY}}))
    p = plan(r)
    assert p.resource("cluster").body["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}}
    assert {res.type for res in p.resources} & {arm.IDENTITY.name, arm.ROLE_ASSIGNMENT.name} == set()
    deleted = {s.resource_type for s in steps_for("delete-cluster", r)}
    assert deleted == {arm.CLUSTER.name, arm.MAINTENANCE.name, arm.PRIVATE_ENDPOINT.name, arm.DNS_ZONE_GROUP.name}
    system = valid_request(patched(HUB_SPOKE, {"/identity": {"type": "SystemAssigned"}}))
    assert plan(system).resource("cluster").body["identity"] == {"type": "SystemAssigned"}
    pool_steps = steps_for("put-pool", r, "apps")
    assert [s.id for s in pool_steps] == ["put:pool:apps"]  # no subnet PUT, no identity, no grant
    assert [s.id for s in steps_for("delete-pool", r, "apps")] == ["delete:pool:apps"]


def test_a_hub_peering_is_the_spoke_side_of_aksvends_own_vnet():
    p = plan(valid_request(patched(MINIMAL_PRODUCTION, {"/network/hubVnetId": HUB})))
    peering = p.resource("hubPeering")
    assert peering.id == f"{arm.ids(p.request)['vnet']}/virtualNetworkPeerings/{arm.HUB_PEERING}"
    assert peering.depends_on == ("vnet",)
    assert peering.body["properties"]["remoteVirtualNetwork"]["id"] == HUB
    assert p.tree.endswith("peered to hub vnet-hub")
