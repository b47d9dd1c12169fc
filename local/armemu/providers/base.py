"""The generic ARM resource: GET, list, PUT, PATCH, DELETE, synchronous or long-running.

A resource type declares how ARM treats it (where it may live, whether PUT and DELETE are long-running and how, the
provisioningState shown while running) and overrides a few hooks (`validate`, `shape`, `render`, `on_created`,
`check_delete`, `guard`). The flow of each verb, the parent-must-exist rule and the status codes live here once:
- PUT: 201 on create, 200 on update; long-running ones add `Azure-AsyncOperation` (and the polling hint), or
  `Location` only for `lro_put = "location"` types (202, as Storage does).
- DELETE: 202 with `Location` + `Azure-AsyncOperation` when long-running, 200 when synchronous, 204 when gone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..armid import ArmPath, key
from ..errors import ArmError, invalid, parent_not_found, resource_group_not_found, resource_not_found
from ..lro import Operation
from ..store import Resource, system_data
from ..world import Call, Reply, World

PAGE_SIZE = 1000
Props = dict[str, Any] | None
READ_ONLY_TOP_LEVEL = ("id", "name", "type", "etag", "systemData")


def normalize_location(location: str) -> str:
    return location.replace(" ", "").lower()


class ResourceType:
    type_name: ClassVar[str]
    scope_kind: ClassVar[str] = "resourceGroup"  # resourceGroup | subscription | child | extension
    lro_put: ClassVar[str | None] = None  # None | "async" | "location"
    lro_delete: ClassVar[str | None] = None
    patch_mode: ClassVar[str | None] = "sync"  # None | "sync" | "async"
    running_create: ClassVar[str] = "Creating"
    running_update: ClassVar[str] = "Updating"
    requires_location: ClassVar[bool] = True
    has_provisioning_state: ClassVar[bool] = True
    busy_status: ClassVar[int] = 409
    busy_code: ClassVar[str] = "AnotherOperationInProgress"

    def __init__(self, world: World) -> None:
        self.world = world

    # ---- hooks -------------------------------------------------------------------------------------------------
    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        """Raise ArmError for a request Azure would refuse. Default: nothing."""

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        """The stored body for a PUT: the request with read-only fields replaced by the server's."""
        stored = {k: v for k, v in body.items() if k not in READ_ONLY_TOP_LEVEL}
        stored["properties"] = dict(stored.get("properties") or {})
        if "location" in stored:
            stored["location"] = normalize_location(stored["location"])
        return stored

    def kind(self, body: dict[str, Any], existing: Resource | None) -> str:
        return "create" if existing is None else "update"

    def on_created(self, resource: Resource, op: Operation | None) -> None:
        """Fill what Azure fills only once the operation has finished."""

    def render(self, resource: Resource) -> dict[str, Any]:
        return resource.body

    def check_delete(self, resource: Resource) -> None:
        """Raise ArmError if this resource may not be deleted now."""

    def guard(self, call: Call, existing: Resource | None) -> None:
        """Refuse a mutation while another one holds the resource."""
        if existing is not None and existing.busy is not None and not existing.busy.done:
            raise ArmError(
                self.busy_status,
                self.busy_code,
                f"Another operation ({existing.busy.running_state}) on this or dependent resource is in progress.",
                headers=self.world.retry_after_headers(1.0, lro=False) if self.busy_status == 429 else None,
            )

    def lock_holder(self, resource: Resource) -> Resource:
        return resource

    def op_location(self, resource: Resource) -> str:
        """The location segment of the operation status URLs."""
        return normalize_location(resource.body.get("location") or "global")

    def extra_children(self, resource: Resource) -> None:
        """Create child resources that a PUT declares inline (subnets, agent pools)."""

    def planned_seconds(self, resource: Resource, kind: str, before: Props) -> float:
        """Seconds at time factor 1, given the resource as it will be and its properties `before` (None if none)."""
        return self.world.latency.seconds(self.type_name, kind)

    # ---- verbs -------------------------------------------------------------------------------------------------
    def get(self, call: Call) -> Reply:
        resource = self.find(call.path)
        return Reply(200, self.render(resource))

    def find(self, path: ArmPath) -> Resource:
        self.require_resource_group(path)
        resource = self.world.store.get(path.resource_id)
        if resource is None:
            raise resource_not_found(path.type_name, "/".join(path.names), path.resource_group)
        return resource

    def list(self, call: Call) -> Reply:
        path = call.path
        if self.scope_kind == "child":
            parent = self.world.store.get(path.parent_id)
            if parent is None:
                raise resource_not_found(path.type_name.rsplit("/", 1)[0], "/".join(path.names), path.resource_group)
            items = self.world.store.children(path.parent_id, self.type_name)
        elif path.resource_group is None and key(path.scope) == f"/subscriptions/{path.subscription.lower()}":
            items = self.world.store.in_subscription(path.subscription, self.type_name)
        else:
            self.require_resource_group(path)
            items = self.world.store.children(path.scope, self.type_name)
        return self.page(call, [self.render(r) for r in items])

    def page(self, call: Call, values: list[dict[str, Any]]) -> Reply:
        skip = int(call.query.get("$skiptoken", "0") or 0)
        body: dict[str, Any] = {"value": values[skip : skip + PAGE_SIZE]}
        if skip + PAGE_SIZE < len(values):
            body["nextLink"] = (
                f"{call.base_url}{call.path.resource_id}?api-version={call.api_version}&$skiptoken={skip + PAGE_SIZE}"
            )
        return Reply(200, body)

    def put(self, call: Call) -> Reply:
        path = call.path
        body = call.body
        if not isinstance(body, dict):
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            )
        self.require_parent(path)
        if self.requires_location and not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        existing = self.world.store.get(path.resource_id)
        before = dict(existing.properties) if existing is not None else None
        self.guard(call, existing)
        self.validate(call, body, existing)
        stored = self.shape(call, body, existing)
        stored.update(id=path.resource_id if existing is None else existing.id, name=path.name, type=self.type_name)
        stored["systemData"] = system_data(existing)
        kind = self.kind(body, existing)
        resource = existing or self.new_resource(path, stored)
        resource.body = stored
        status = 201 if existing is None else 200
        if self.lro_put is None:
            if self.has_provisioning_state:
                stored["properties"]["provisioningState"] = "Succeeded"
            self.world.store.add(resource)
            self.extra_children(resource)
            self.on_created(resource, None)
            return Reply(status, self.render(resource))
        running = {"create": self.running_create, "scale": "Scaling", "stop": "Stopping", "start": "Starting",
                   "upgrade": "Upgrading"}.get(kind, self.running_update)
        stored["properties"]["provisioningState"] = running
        self.world.store.add(resource)
        self.extra_children(resource)
        op = self.start(call, resource, kind, running, self._finish_put, before)
        reply = Reply(status, self.render(resource))
        if self.lro_put == "location":
            reply.status = 202 if existing is None else 200
            reply.body = None if existing is None else reply.body
            reply.headers["Location"] = self.operation_url(call, op, results=True)
        else:
            reply.headers["Azure-AsyncOperation"] = self.operation_url(call, op, results=False)
        reply.headers.update(self.world.poll_hint(op.remaining(self.world.ops.now())))
        return reply

    def patch(self, call: Call) -> Reply:
        if self.patch_mode is None:
            raise ArmError(405, "MethodNotAllowed", f"PATCH is not supported for {self.type_name}.")
        resource = self.find(call.path)
        body = call.body if isinstance(call.body, dict) else {}
        self.guard(call, resource)
        if "tags" in body:
            resource.body["tags"] = dict(body["tags"] or {})
        if isinstance(body.get("properties"), dict):
            resource.properties.update(body["properties"])
        if self.patch_mode == "sync":
            return Reply(200, self.render(resource))
        resource.properties["provisioningState"] = self.running_update
        op = self.start(call, resource, "update", self.running_update, self._finish_put)
        reply = Reply(200, self.render(resource))
        reply.headers["Azure-AsyncOperation"] = self.operation_url(call, op, results=False)
        reply.headers.update(self.world.poll_hint(op.remaining(self.world.ops.now())))
        return reply

    def delete(self, call: Call) -> Reply:
        path = call.path
        self.require_resource_group(path)
        resource = self.world.store.get(path.resource_id)
        if resource is None:
            return Reply(204)
        self.guard(call, resource)
        self.check_delete(resource)
        if self.lro_delete is None:
            self.world.store.remove(resource.id)
            return Reply(200)
        if self.has_provisioning_state:
            resource.properties["provisioningState"] = "Deleting"
        op = self.start(call, resource, "delete", "Deleting", self._finish_delete)
        headers = {"Location": self.operation_url(call, op, results=True)}
        if self.lro_delete == "async":
            headers["Azure-AsyncOperation"] = self.operation_url(call, op, results=False)
        headers.update(self.world.poll_hint(op.remaining(self.world.ops.now())))
        return Reply(202, None, headers)

    # ---- helpers -----------------------------------------------------------------------------------------------
    def new_resource(self, path: ArmPath, stored: dict[str, Any]) -> Resource:
        return Resource(
            id=path.resource_id,
            type=self.type_name,
            body=stored,
            parent=path.parent_id,
            subscription=path.subscription,
            top_level=self.scope_kind != "child",
        )

    def require_resource_group(self, path: ArmPath) -> Resource | None:
        if path.resource_group is None or self.scope_kind == "subscription":
            return None
        group = self.world.store.get(path.resource_group_id or "")
        if group is None:
            raise resource_group_not_found(path.resource_group)
        return group

    def require_parent(self, path: ArmPath) -> None:
        group = self.require_resource_group(path)
        if group is not None and group.busy is not None and not group.busy.done:
            raise ArmError(
                409,
                "ResourceGroupBeingDeleted",
                f"The resource group '{path.resource_group}' is in deprovisioning state and cannot perform this "
                "operation.",
            )
        if self.scope_kind == "child" and self.world.store.get(path.parent_id) is None:
            raise parent_not_found(path.names[-2])
        if self.scope_kind == "extension" and path.scope.count("/") > 4 and self.world.store.get(path.scope) is None:
            raise invalid(f"The scope '{path.scope}' does not exist.", code="ResourceNotFound")

    def start(self, call: Call, resource: Resource, kind: str, running: str, finish, before: Props = None) -> Operation:
        fault = call.fault if call.fault is not None and call.fault.action == "lro-fail" else None
        error = None
        if fault is not None:
            error = {
                "code": fault.spec.get("code", "InternalOperationError"),
                "message": fault.spec.get("message", "The operation failed (injected by the emulator)."),
            }
        holder = self.lock_holder(resource)
        planned = self.planned_seconds(resource, kind, before)
        op = self.world.ops.start(
            {
                "namespace": call.path.namespace,
                "subscription": call.path.subscription,
                "location": self.op_location(resource),
                "resource_id": resource.id,
                "kind": kind,
                "running_state": running,
                "on_finish": lambda op: finish(resource, holder, op),
                "error": error,
                "error_status": int(fault.spec.get("status", 500)) if fault else 500,
                "planned_seconds": planned,
            },
            planned * self.world.settings.time_factor,
        )
        holder.busy = op
        resource.busy = op
        return op

    def _release(self, resource: Resource, holder: Resource, op: Operation) -> None:
        for r in (resource, holder):
            if r.busy is op:
                r.busy = None

    def _finish_put(self, resource: Resource, holder: Resource, op: Operation) -> None:
        self._release(resource, holder, op)
        if self.world.store.get(resource.id) is not resource:
            return
        if op.error:
            resource.properties["provisioningState"] = "Failed"
            return
        resource.properties["provisioningState"] = "Succeeded"
        self.on_created(resource, op)

    def _finish_delete(self, resource: Resource, holder: Resource, op: Operation) -> None:
        self._release(resource, holder, op)
        if op.error:
            resource.properties["provisioningState"] = "Failed"
            return
        self.world.store.remove(resource.id)

    def operation_url(self, call: Call, op: Operation, *, results: bool) -> str:
        segment = "operationresults" if results else "operations"
        where = f"{call.base_url}/subscriptions/{op.subscription}/providers/{op.namespace}/locations/{op.location}"
        return f"{where}/{segment}/{op.id}?api-version={call.api_version}"
