"""A landing zone's network as it exists before a bring-your-own-network request (docs/local.md, "A landing zone
network"): the hub VNet, the spoke VNet with the subnets the request names (each node subnet with a route table to the
hub's firewall), the peerings both ways, and the central private DNS zones, made in the ARM emulator with plain ARM
PUTs, as a platform team makes them in Azure before the cluster. `python -m local.prerequisites` runs it for an
example whose `network.existing` names such subnets; tests/integration/test_examples_local.py does the same.
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

from shared.domain.byo import vnet_of

HUB_SPACE, HUB_FIREWALL_IP = "10.100.0.0/22", "10.100.0.4"
SPOKE_SPACE = "10.60.0.0/16"
VERSIONS = {"resourceGroups": "2025-04-01", "privateDnsZones": "2024-06-01",
            "userAssignedIdentities": "2024-11-30", "managedClusters": "2026-08-01"}
NETWORK_VERSION = "2026-03-01"
PUT_DEADLINE_SECONDS = 20.0


def arm_client(arm_url: str, ca_cert: str) -> httpx.Client:
    """A client of the emulator at `arm_url` that trusts its CA; the emulator takes any bearer token."""
    return httpx.Client(base_url=arm_url, verify=ssl.create_default_context(cafile=ca_cert),
                        headers={"Authorization": "Bearer local"}, timeout=30)


def _version(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    kind = parts[-2] if len(parts) > 2 else "resourceGroups"
    return VERSIONS.get(kind, NETWORK_VERSION)


def put(arm: httpx.Client, resource_id: str, body: dict[str, Any],
        deadline_s: float = PUT_DEADLINE_SECONDS) -> dict[str, Any]:
    """PUT a resource and wait (polling against a deadline) until its provisioningState is Succeeded."""
    version = {"api-version": _version(resource_id)}
    arm.put(resource_id, params=version, json=body).raise_for_status()
    deadline = time.monotonic() + deadline_s
    while True:
        got = arm.get(resource_id, params=version)
        got.raise_for_status()
        state = (got.json().get("properties") or {}).get("provisioningState", "Succeeded")
        if state == "Succeeded":
            return dict(got.json())
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{resource_id} is still {state} after {deadline_s:g} s")
        time.sleep(0.02)  # polling a condition against a deadline


def group_of(resource_id: str) -> str:
    return resource_id.split("/providers/", 1)[0]


def create_landing_zone(arm: httpx.Client, raw: dict[str, Any], location: str = "westeurope") -> set[str]:
    """The hub, the spoke with the subnets `raw` names, the peerings and the central zones; returns their ids
    (lower case)."""
    network = raw.get("network") or {}
    existing = network.get("existing") or {}
    subnets = [s for s in (existing.get("nodeSubnetId"), existing.get("privateEndpointSubnetId")) if s]
    subnets += [p["subnet"] for p in raw.get("userPools") or [] if str(p.get("subnet", "")).startswith("/")]
    spoke = vnet_of(subnets[0])
    hub = f"{group_of(spoke).rsplit('/', 1)[0]}/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
    route_table = f"{group_of(spoke)}/providers/Microsoft.Network/routeTables/rt-{spoke.rsplit('/', 1)[-1]}-egress"
    made = {group_of(spoke), group_of(hub), hub, route_table, spoke}
    for group in (group_of(spoke), group_of(hub)):
        put(arm, group, {"location": location})
    put(arm, hub, {"location": location, "properties": {"addressSpace": {"addressPrefixes": [HUB_SPACE]},
        "subnets": [{"name": "AzureFirewallSubnet", "properties": {"addressPrefix": "10.100.0.0/26"}}]}})
    put(arm, route_table, {"location": location, "properties": {"routes": [{"name": "to-hub-firewall",
        "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                       "nextHopIpAddress": HUB_FIREWALL_IP}}]}})
    pe_subnet = existing.get("privateEndpointSubnetId")
    specs = [{"name": s.rsplit("/", 1)[-1], "properties": {"addressPrefix": f"10.60.{4 * i}.0/22",
              **({} if s == pe_subnet else {"routeTable": {"id": route_table}})}} for i, s in enumerate(subnets)]
    put(arm, spoke, {"location": location, "properties": {"addressSpace": {"addressPrefixes": [SPOKE_SPACE]},
                                                          "subnets": specs}})
    made |= {f"{spoke}/subnets/{s['name']}" for s in specs} | {f"{hub}/subnets/AzureFirewallSubnet"}
    for here, there in ((spoke, hub), (hub, spoke)):
        peering = f"{here}/virtualNetworkPeerings/to-{there.rsplit('/', 1)[-1]}"
        put(arm, peering, {"properties": {"remoteVirtualNetwork": {"id": there}, "allowForwardedTraffic": True,
                                          "allowVirtualNetworkAccess": True}})
        made.add(peering)
    zones = [*network.get("privateDnsZones", {}).values(), (raw.get("apiServer") or {}).get("privateDnsZone", "")]
    for zone in (z for z in zones if z.startswith("/")):
        put(arm, group_of(zone), {"location": location})
        put(arm, zone, {"location": "global"})
        made |= {group_of(zone), zone}
    return {m.lower() for m in made}
