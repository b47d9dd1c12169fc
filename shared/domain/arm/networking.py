"""The VNet, the private endpoints and their private DNS: bodies and records."""

from __future__ import annotations

from typing import Any

from shared.domain.arm.names import NODE_SUBNET, PE_SUBNET, cluster_vnet_id, pe_subnet_id, tags
from shared.domain.arm.record import ResourceType
from shared.domain.byo import is_subnet_id
from shared.domain.network import SubnetLayout
from shared.domain.pool_subnets import subnet_name
from shared.domain.request import ClusterRequest, Pool


def vnet_body(r: ClusterRequest, subnets: SubnetLayout) -> dict[str, Any]:
    endpoints = [{"service": s} for s in r.network.service_endpoints]
    node_subnet: dict[str, Any] = {"addressPrefix": subnets.node_cidr}
    if endpoints:
        node_subnet["serviceEndpoints"] = endpoints
    return {
        "location": r.location,
        "tags": tags(r),
        "properties": {
            "addressSpace": {"addressPrefixes": [r.network.vnet_address_space]},
            "subnets": [
                {"name": NODE_SUBNET, "properties": node_subnet},
                {"name": PE_SUBNET, "properties": {
                    "addressPrefix": subnets.pe_cidr,
                    "privateEndpointNetworkPolicies": r.network.private_endpoint_network_policies,
                }},
                *[{"name": subnet_name(p.name), **pool_subnet_body(r, p)} for p in r.user_pools
                  if p.subnet and not is_subnet_id(p.subnet)],  # an existing subnet is not the VNet's
            ],
        },
    }


def pool_subnet_body(r: ClusterRequest, pool: Pool) -> dict[str, Any]:
    """A pool's own subnet (shared/domain/pool_subnets.py), with the node subnet's service endpoints."""
    props: dict[str, Any] = {"addressPrefix": pool.subnet}
    if r.network.service_endpoints:
        props["serviceEndpoints"] = [{"service": s} for s in r.network.service_endpoints]
    return {"properties": props}


def dns_zone_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": "global", "tags": tags(r)}


def vnet_link_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": "global", "tags": tags(r), "properties": {
        "virtualNetwork": {"id": cluster_vnet_id(r)}, "registrationEnabled": False}}


def private_endpoint_body(r: ClusterRequest, name: str, target: str, group_id: str) -> dict[str, Any]:
    return {"location": r.location, "tags": tags(r), "properties": {
        "subnet": {"id": pe_subnet_id(r)},
        "privateLinkServiceConnections": [
            {"name": name, "properties": {"privateLinkServiceId": target, "groupIds": [group_id]}},
        ],
    }}


def dns_zone_group_body(zone_id: str, zone_name: str) -> dict[str, Any]:
    return {"properties": {"privateDnsZoneConfigs": [
        {"name": zone_name.replace(".", "-"), "properties": {"privateDnsZoneId": zone_id}},
    ]}}


VNET = ResourceType("Microsoft.Network/virtualNetworks", "2026-03-01", "network", {"put": 10, "delete": 10},
                    vnet_body)
DNS_ZONE = ResourceType("Microsoft.Network/privateDnsZones", "2024-06-01", "privatedns", {"put": 30, "delete": 30},
                        dns_zone_body)
DNS_LINK = ResourceType("Microsoft.Network/privateDnsZones/virtualNetworkLinks", "2024-06-01", "privatedns",
                        {"put": 30, "delete": 30}, vnet_link_body)
PRIVATE_ENDPOINT = ResourceType("Microsoft.Network/privateEndpoints", "2026-03-01", "network",
                                {"put": 60, "delete": 30}, private_endpoint_body)
DNS_ZONE_GROUP = ResourceType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "2026-03-01", "network",
                              {"put": 10, "delete": 10}, dns_zone_group_body)

SUBNET = ResourceType("Microsoft.Network/virtualNetworks/subnets", "2026-03-01", "network", {"put": 10, "delete": 10},
                      pool_subnet_body)

TYPES = (VNET, DNS_ZONE, DNS_LINK, PRIVATE_ENDPOINT, DNS_ZONE_GROUP, SUBNET)
