"""The resource group, the cluster's identity, its role on the node subnet and the owner group's role on the
cluster: bodies and records."""

from __future__ import annotations

from typing import Any

from shared.domain.arm.names import NETWORK_CONTRIBUTOR, tags
from shared.domain.arm.record import ResourceType
from shared.domain.request import ClusterRequest
from shared.domain.rules.access import role_id


def resource_group_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": r.location, "tags": tags(r)}


def identity_body(r: ClusterRequest) -> dict[str, Any]:
    return {"location": r.location, "tags": tags(r)}


def role_assignment_body(r: ClusterRequest) -> dict[str, Any]:
    return role_body(r, NETWORK_CONTRIBUTOR)


def role_body(r: ClusterRequest, role_definition: str) -> dict[str, Any]:
    """A role assignment of a built-in role (by its GUID) to the cluster's identity."""
    role = f"/subscriptions/{r.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_definition}"
    return {"properties": {
        "roleDefinitionId": role,
        "principalId": "${identity.properties.principalId}",
        "principalType": "ServicePrincipal",
    }}


def owner_role_assignment_body(r: ClusterRequest) -> dict[str, Any]:
    """The request's owner group gets its role (`access.role`, validated: one of the AKS RBAC roles) on the cluster."""
    assert r.access is not None
    role = role_id(r.access.role)
    definitions = f"/subscriptions/{r.subscription_id}/providers/Microsoft.Authorization/roleDefinitions"
    return {"properties": {
        "roleDefinitionId": f"{definitions}/{role}",
        "principalId": r.access.owner_group,
        "principalType": "Group",
    }}


RESOURCE_GROUP = ResourceType("Microsoft.Resources/resourceGroups", "2025-04-01", "resources",
                              {"put": 2, "delete": 60}, resource_group_body)
IDENTITY = ResourceType("Microsoft.ManagedIdentity/userAssignedIdentities", "2024-11-30", "identity",
                        {"put": 5, "delete": 5}, identity_body)
ROLE_ASSIGNMENT = ResourceType("Microsoft.Authorization/roleAssignments", "2022-04-01", "authorization",
                               {"put": 5, "delete": 5}, role_assignment_body)

TYPES = (RESOURCE_GROUP, IDENTITY, ROLE_ASSIGNMENT)
