"""Microsoft.ManagedIdentity user-assigned identities and Microsoft.Authorization role assignments.

Ids that Entra ID would mint (principalId, clientId) are derived from the ARM id with uuid5, so a re-created identity
gets the same ids and runs are reproducible. Role assignments follow ARM's two refusals that matter for idempotent
retries: the same name with other properties is `RoleAssignmentUpdateNotPermitted`, and the same
(principal, role, scope) under another name is `RoleAssignmentExists` (both 409).
"""

from __future__ import annotations

from typing import Any

from ..armid import derived_uuid, odata_eq
from ..errors import ArmError, invalid
from ..lro import utc_now_iso
from ..store import Resource
from ..world import Call
from .base import ResourceType
from .roles import is_built_in, role_does_not_exist


class UserAssignedIdentities(ResourceType):
    type_name = "Microsoft.ManagedIdentity/userAssignedIdentities"
    has_provisioning_state = False

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        rid = call.path.resource_id
        stored["properties"] = {
            "tenantId": self.world.settings.tenant_id,
            "principalId": derived_uuid(rid, "principal"),
            "clientId": derived_uuid(rid, "client"),
        }
        return stored


class RoleAssignments(ResourceType):
    type_name = "Microsoft.Authorization/roleAssignments"
    scope_kind = "extension"
    requires_location = False
    has_provisioning_state = False
    patch_mode = None

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        props = body.get("properties") or {}
        for field in ("roleDefinitionId", "principalId"):
            if not props.get(field):
                raise invalid(f"The request is missing required property '{field}'.", target=f"properties.{field}")
        if not is_built_in(props["roleDefinitionId"]):
            raise role_does_not_exist(props["roleDefinitionId"])
        if existing is not None:
            old = existing.properties
            if (old["roleDefinitionId"].lower(), old["principalId"].lower()) != (
                props["roleDefinitionId"].lower(),
                props["principalId"].lower(),
            ):
                raise ArmError(
                    409,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return
        for other in self.world.store.children(call.path.scope, self.type_name):
            if (other.properties["roleDefinitionId"].lower(), other.properties["principalId"].lower()) == (
                props["roleDefinitionId"].lower(),
                props["principalId"].lower(),
            ):
                raise ArmError(
                    409,
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                    details=[{"code": "RoleAssignmentExists", "message": other.id}],
                )

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        stored["properties"] = {
            "principalType": "ServicePrincipal",
            **stored["properties"],
            "scope": call.path.scope,
            "createdOn": existing.properties.get("createdOn") if existing else utc_now_iso(),
        }
        return stored

    def list(self, call):
        reply = super().list(call)
        principal = odata_eq(call.query.get("$filter", ""), "principalId")
        if principal:
            reply.body["value"] = [
                r for r in reply.body["value"] if r["properties"]["principalId"].lower() == principal
            ]
        return reply

