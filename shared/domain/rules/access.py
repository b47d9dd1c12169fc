"""Access rules: the owner group and the role it is granted on the cluster (docs/request.md, "Access").

Only the four built-in roles of Azure RBAC for Kubernetes authorization may be named, by name or by id: a role
that gives rights on the cluster's Kubernetes API and nothing on the subscription. Their ids are Azure's
built-in role ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from shared.domain import armid
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.violations import Violation

BUILT_IN_ROLES = "learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers"
AKS_RBAC_ROLES = MappingProxyType({
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
})


def role_id(role: str) -> str | None:
    """The built-in role id of `role` (a name of AKS_RBAC_ROLES, case-insensitive, or one of their ids), else None."""
    folded = role.lower()
    return next((rid for name, rid in AKS_RBAC_ROLES.items() if folded in (name.lower(), rid)), None)


def access(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if r.access is None:
        return
    if not armid.GUID.fullmatch(r.access.owner_group):
        yield Violation("ACCESS_OWNER_GROUP_FORMAT", "/access/ownerGroup",
                        "ownerGroup must be the object id (a GUID) of a Microsoft Entra ID group",
                        source=BUILT_IN_ROLES)
    if role_id(r.access.role) is None:
        yield Violation("ACCESS_ROLE_UNKNOWN", "/access/role",
                        f"role must be one of the built-in roles of Azure RBAC for Kubernetes authorization, by name "
                        f"or id: {', '.join(AKS_RBAC_ROLES)}", source=BUILT_IN_ROLES)


RULES = (access,)
