"""The spoke side of a hub-and-spoke peering (`network.hubVnetId`; docs/request.md, "Hub and spoke"): body and record.

aksvend peers the VNet it makes to the hub. The hub side (the hub VNet's own peering back) belongs to whoever runs
the hub (in an Azure landing zone, the connectivity subscription's team): aksvend never writes it, so the spoke's
peering is `Initiated` until the hub side exists, then `Connected` (learn.microsoft.com/azure/virtual-network/
virtual-network-manage-peering: a peering is created on each VNet).
"""

from __future__ import annotations

from typing import Any

from shared.domain.arm.record import ResourceType
from shared.domain.request import ClusterRequest

HUB_PEERING = "peer-to-hub"


def peering_body(r: ClusterRequest) -> dict[str, Any]:
    """Traffic to and from the hub (its firewall, its DNS resolver); no gateway transit, which the hub side offers."""
    return {"properties": {
        "remoteVirtualNetwork": {"id": r.network.hub_vnet_id},
        "allowVirtualNetworkAccess": True,
        "allowForwardedTraffic": True,
        "allowGatewayTransit": False,
        "useRemoteGateways": False,
    }}


VNET_PEERING = ResourceType("Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "2026-03-01", "network",
                            {"put": 20, "delete": 20}, peering_body)

TYPES = (VNET_PEERING,)
