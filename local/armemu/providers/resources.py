"""Microsoft.Resources: resource groups (PUT/PATCH synchronous; DELETE long-running with `Location` only, cascading
to everything inside, as ARM does)."""

from __future__ import annotations

from typing import Any

from ..errors import resource_group_not_found
from ..lro import Operation
from ..store import Resource
from ..world import Call, Reply
from .base import ResourceType


class ResourceGroups(ResourceType):
    type_name = "Microsoft.Resources/resourceGroups"
    scope_kind = "subscription"
    lro_delete = "location"

    def find(self, path) -> Resource:
        resource = self.world.store.get(path.resource_id)
        if resource is None:
            raise resource_group_not_found(path.name)
        return resource

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        if existing is not None and "managedBy" in existing.body:
            stored.setdefault("managedBy", existing.body["managedBy"])
        return stored

    def head(self, call: Call) -> Reply:
        return Reply(204 if self.world.store.get(call.path.resource_id) else 404)

    def delete(self, call: Call) -> Reply:
        if self.world.store.get(call.path.resource_id) is None:
            raise resource_group_not_found(call.path.name)
        return super().delete(call)

    def operation_url(self, call: Call, op: Operation, *, results: bool) -> str:
        return (
            f"{call.base_url}/subscriptions/{op.subscription}/operationresults/{op.id}?api-version={call.api_version}"
        )
