"""Resource types by family. `ALL_TYPES` is what the router serves."""

from .agentpools import AgentPools
from .aks import ManagedClusters
from .aks_actions import KubernetesVersions
from .aks_maintenance import MaintenanceConfigurations
from .aks_profiles import AgentPoolUpgradeProfiles, UpgradeProfiles
from .base import ResourceType
from .byo_network import NatGateways, RouteTables, VirtualNetworkPeerings
from .eventgrid import EventSubscriptions, SystemTopics
from .identity import RoleAssignments, UserAssignedIdentities
from .loganalytics import Workspaces
from .network import Subnets, VirtualNetworks
from .privatedns import PrivateDnsZones, VirtualNetworkLinks
from .privatelink import PrivateDnsZoneGroups, PrivateEndpoints
from .resources import ResourceGroups
from .roles import RoleDefinitions
from .storage import StorageAccounts, StorageNameAvailability
from .targets import KeyVaults, Registries

ALL_TYPES: tuple[type[ResourceType], ...] = (
    ResourceGroups,
    UserAssignedIdentities,
    RoleAssignments,
    RoleDefinitions,
    VirtualNetworks,
    Subnets,
    VirtualNetworkPeerings,
    RouteTables,
    NatGateways,
    PrivateDnsZones,
    VirtualNetworkLinks,
    PrivateEndpoints,
    PrivateDnsZoneGroups,
    StorageAccounts,
    StorageNameAvailability,
    KeyVaults,
    Registries,
    Workspaces,
    ManagedClusters,
    AgentPools,
    MaintenanceConfigurations,
    UpgradeProfiles,
    AgentPoolUpgradeProfiles,
    KubernetesVersions,
    SystemTopics,
    EventSubscriptions,
)

__all__ = ["ALL_TYPES", "ResourceType"]
