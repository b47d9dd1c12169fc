"""The ARM side of a plan: the resource types aksvend manages, their names, and the exact request bodies.

One `ResourceType` record per type (`record.py`) holds its api-version, body builder, typical durations and
SDK family; each sits next to its body builder (`core.py`, `networking.py`, `aks.py`), and `TYPES` indexes
them all. Names and ids of a cluster's resources are in `names.py`.

Bodies are plain JSON (camelCase, as on the wire). A unit test builds the same resources with the SDK's own
model classes and checks that their serialization equals these bodies, so the domain needs no SDK import.

Two kinds of value are only known at provisioning time and appear as placeholders that the engine resolves:
- `${<resource key>.<json path>}`: an output of an earlier step, e.g. `${identity.properties.principalId}`;
- `${secret:<name>}`: a secret the engine generates and keeps in the secret store; never in a plan or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.domain.arm import aks, aks_options, core, networking, peering, vnet_rules
from shared.domain.arm.aks import (
    AGENT_POOL,
    CLUSTER,
    MAX_SURGE,
    WINDOWS_ADMIN_USER,
    WINDOWS_PASSWORD,
    addon_profiles,
    agent_pool_body,
    agent_pool_properties,
    managed_cluster_body,
)
from shared.domain.arm.aks_options import MAINTENANCE, maintenance_body, maintenance_windows
from shared.domain.arm.core import IDENTITY, RESOURCE_GROUP, ROLE_ASSIGNMENT, owner_role_assignment_body, role_body
from shared.domain.arm.names import (
    MANAGED_BY_TAG,
    NETWORK_CONTRIBUTOR,
    NODE_SUBNET,
    PE_SUBNET,
    PRIVATE_DNS_ZONE_CONTRIBUTOR,
    cluster_vnet_id,
    dns_link_name,
    dns_prefix,
    dns_zone_for,
    identity_body,
    identity_name,
    ids,
    node_subnet_id,
    pe_subnet_id,
    pool_subnet_id,
    role_assignment_name,
    tags,
    vnet_name,
)
from shared.domain.arm.networking import DNS_LINK, DNS_ZONE, DNS_ZONE_GROUP, PRIVATE_ENDPOINT, SUBNET, VNET
from shared.domain.arm.peering import HUB_PEERING, VNET_PEERING
from shared.domain.arm.record import ResourceType
from shared.domain.arm.vnet_rules import KEY_VAULT, STORAGE_ACCOUNT, cluster_subnets, edited_acls

__all__ = [
    "AGENT_POOL",
    "CLUSTER",
    "DNS_LINK",
    "DNS_ZONE",
    "DNS_ZONE_GROUP",
    "HUB_PEERING",
    "IDENTITY",
    "KEY_VAULT",
    "MAINTENANCE",
    "MANAGED_BY_TAG",
    "MAX_SURGE",
    "NETWORK_CONTRIBUTOR",
    "NODE_SUBNET",
    "PE_SUBNET",
    "PRIVATE_DNS_ZONE_CONTRIBUTOR",
    "PRIVATE_ENDPOINT",
    "RESOURCE_GROUP",
    "ROLE_ASSIGNMENT",
    "STORAGE_ACCOUNT",
    "SUBNET",
    "TYPES",
    "VNET",
    "VNET_PEERING",
    "WINDOWS_ADMIN_USER",
    "WINDOWS_PASSWORD",
    "ResourceType",
    "addon_profiles",
    "agent_pool_body",
    "agent_pool_properties",
    "cluster_subnets",
    "cluster_vnet_id",
    "dns_link_name",
    "dns_prefix",
    "dns_zone_for",
    "edited_acls",
    "identity_body",
    "identity_name",
    "ids",
    "maintenance_body",
    "maintenance_windows",
    "managed_cluster_body",
    "node_subnet_id",
    "owner_role_assignment_body",
    "pe_subnet_id",
    "pool_subnet_id",
    "resource_type",
    "role_assignment_name",
    "role_body",
    "tags",
    "vnet_name",
]

# Every type aksvend sends requests for, by lower-cased name (ARM types are case-insensitive).
TYPES: Mapping[str, ResourceType] = MappingProxyType(
    {t.name.lower(): t for t in (*core.TYPES, *networking.TYPES, *peering.TYPES, *aks.TYPES, *aks_options.TYPES,
                                   *vnet_rules.TYPES)})


def resource_type(name: str) -> ResourceType:
    """The record of an ARM type; LookupError for a type aksvend does not manage."""
    try:
        return TYPES[name.lower()]
    except KeyError:
        raise LookupError(f"aksvend manages no ARM resource type {name}") from None
