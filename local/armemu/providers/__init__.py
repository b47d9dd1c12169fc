"""Resource types by family. `ALL_TYPES` is what the router serves."""

from .agentpools import AgentPools
from .aks import ManagedClusters
from .aks_actions import KubernetesVersions
from .aks_maintenance import MaintenanceConfigurations
from .aks_profiles import UpgradeProfiles
from .base import ResourceType
from .eventgrid import EventSubscriptions, SystemTopics
from .identity import RoleAssignments, UserAssignedIdentities
from .network import Subnets, VirtualNetworks
from .privatedns import PrivateDnsZones, VirtualNetworkLinks
from .privatelink import PrivateDnsZoneGroups, PrivateEndpoints
from .resources import ResourceGroups
from .storage import StorageAccounts

ALL_TYPES: tuple[type[ResourceType], ...] = (
    ResourceGroups,
    UserAssignedIdentities,
    RoleAssignments,
    VirtualNetworks,
    Subnets,
    PrivateDnsZones,
    VirtualNetworkLinks,
    PrivateEndpoints,
    PrivateDnsZoneGroups,
    StorageAccounts,
    ManagedClusters,
    AgentPools,
    MaintenanceConfigurations,
    UpgradeProfiles,
    KubernetesVersions,
    SystemTopics,
    EventSubscriptions,
)

__all__ = ["ALL_TYPES", "ResourceType"]
