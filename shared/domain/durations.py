"""Typical durations of ARM operations, for critical-path estimates and the emulator's latency model.

Figures from docs/aks-facts.md (observed durations: cluster create 3.5-13 min, node pool create 4-14 min, pool scale
P50 1.67 min; private endpoint about 1 minute) and the ARM docs for the quick control-plane writes. They are
estimates for planning, not promises: the engine never waits on them, it polls.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPICAL_SECONDS: Mapping[tuple[str, str], int] = {
    ("Microsoft.Resources/resourceGroups", "put"): 2,
    ("Microsoft.Resources/resourceGroups", "delete"): 60,
    ("Microsoft.ManagedIdentity/userAssignedIdentities", "put"): 5,
    ("Microsoft.ManagedIdentity/userAssignedIdentities", "delete"): 5,
    ("Microsoft.Network/virtualNetworks", "put"): 10,
    ("Microsoft.Network/virtualNetworks", "delete"): 10,
    ("Microsoft.Authorization/roleAssignments", "put"): 5,
    ("Microsoft.Authorization/roleAssignments", "delete"): 5,
    ("Microsoft.Network/privateDnsZones", "put"): 30,
    ("Microsoft.Network/privateDnsZones", "delete"): 30,
    ("Microsoft.Network/privateDnsZones/virtualNetworkLinks", "put"): 30,
    ("Microsoft.Network/privateDnsZones/virtualNetworkLinks", "delete"): 30,
    ("Microsoft.Network/privateEndpoints", "put"): 60,
    ("Microsoft.Network/privateEndpoints", "delete"): 30,
    ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "put"): 10,
    ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "delete"): 10,
    ("Microsoft.ContainerService/managedClusters", "put"): 360,
    ("Microsoft.ContainerService/managedClusters", "delete"): 300,
    ("Microsoft.ContainerService/managedClusters/agentPools", "put"): 240,
    ("Microsoft.ContainerService/managedClusters/agentPools", "scale"): 100,
    ("Microsoft.ContainerService/managedClusters/agentPools", "delete"): 120,
}
