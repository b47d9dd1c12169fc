"""The ARM catch-all: one aiohttp handler for every path under /subscriptions.

Order per request, as ARM does it: settle due operations; authentication (a bearer token must be present);
`api-version` present; route; injected faults; throttling; then the resource type's verb. Every answer is logged with
its duration. Kept in one function rather than aiohttp middlewares because the GET path is the benchmark's hot path.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

from aiohttp import web

from .armid import ArmPath, odata_eq, parse
from .conditional import check_if_none_match
from .errors import ArmError, method_not_allowed, no_route, resource_group_not_found
from .faults import FaultRule
from .providers import ALL_TYPES, ResourceType
from .providers.aks_refusals import check_api_version
from .providers.aks_rules import not_allowed_busy
from .providers.compute import quota_exceeded, usages
from .providers.operations import operation_result, operation_status
from .world import Call, Reply, World

MUTATING = frozenset({"PUT", "PATCH", "DELETE", "POST"})
DEFAULT_FAULT_CODES = {
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


class Router:
    def __init__(self, world: World) -> None:
        self.world = world
        self.types: dict[str, ResourceType] = {cls.type_name.lower(): cls(world) for cls in ALL_TYPES}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        world = self.world
        world.ops.settle()
        method = request.method
        path = request.path
        label = "unrouted"
        fault: FaultRule | None = None
        headers: dict[str, str] = {}
        try:
            arm_path = parse(path)
            label = _label(arm_path, path)
            _authenticate(request)
            api_version = request.query.get("api-version")
            if not api_version:
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            fault = world.faults.pick(method, path, arm_path)
            if fault is not None and fault.action == "slow" and fault.spec.get("phase", "before") != "after":
                await asyncio.sleep(fault.delay_seconds)  # a slow front door: the request is handled late
            if fault is not None:
                _raise_injected(fault, arm_path, method)
            if arm_path is not None:
                world.note_subscription(arm_path.subscription)
                if world.settings.throttling:
                    headers.update(world.throttler.check(method, arm_path))
            check_if_none_match(method, request.headers, arm_path, world.store)
            body = await _read_json(request) if method in ("PUT", "PATCH", "POST") else None
            call = Call(method, arm_path, api_version, body, base_url(request), dict(request.query), fault)
            reply = self._dispatch(call, path)
        except ArmError as error:
            reply = Reply(error.status, error.body(), self._error_headers(error))
        except Exception as exc:  # an emulator bug must still answer like ARM, and be visible in the log
            reply = Reply(500, {"error": {"code": "InternalServerError", "message": f"emulator error: {exc!r}"}})
        reply.headers.update(headers)
        if fault is not None and fault.action == "slow" and fault.spec.get("phase", "before") == "after":
            await asyncio.sleep(fault.delay_seconds)  # done, but the answer is late: the client may give up first
        response = _to_response(request, reply)
        world.log.record(
            method,
            path,
            reply.status,
            (time.perf_counter() - started) * 1000,
            label,
            fault.spec.get("name", fault.action) if fault else None,
        )
        if fault is not None and fault.action == "reset":
            await _reset_connection(request)
        return response

    def _dispatch(self, call: Call, raw_path: str) -> Reply:
        path = call.path
        if path is None:
            segments = [s for s in raw_path.split("/") if s]
            if len(segments) == 4 and segments[2].lower() == "operationresults":
                return operation_result(
                    self.world,
                    segments[3],
                    f"{call.base_url}{raw_path}?api-version={call.api_version}",
                    self._render_by_id,
                )
            if len(segments) == 5 and segments[2].lower() == "resourcegroups" and segments[4].lower() == "resources":
                return self._list_group_resources(call, segments)
            raise no_route(call.method, raw_path)
        types = tuple(t.lower() for t in path.types)
        if types in (("locations", "operations"), ("locations", "operationresults")) and not path.is_collection:
            if call.method != "GET":
                raise method_not_allowed(call.method, path.type_name)
            if types[1] == "operations":
                return operation_status(self.world, path.name, raw_path)
            return operation_result(
                self.world, path.name, f"{call.base_url}{raw_path}?api-version={call.api_version}", self._render_by_id
            )
        if path.type_key == "microsoft.compute/locations/usages" and path.is_collection and call.method == "GET":
            return usages(self.world, call)
        if call.method == "POST":
            return self._post(call, raw_path)
        rtype = self.types.get(path.type_key)
        if rtype is None:
            raise no_route(call.method, raw_path)
        if path.type_key.startswith("microsoft.containerservice/managedclusters"):
            check_api_version(call.api_version, self._location_of(call), path.type_name)
        if path.is_collection:
            if call.method != "GET":
                raise method_not_allowed(call.method, path.type_name)
            return rtype.list(call)
        if call.method == "HEAD":
            exists = self.world.store.get(path.resource_id) is not None
            return Reply(204 if exists else 404)
        handler = {"GET": rtype.get, "PUT": rtype.put, "PATCH": rtype.patch, "DELETE": rtype.delete}.get(call.method)
        if handler is None:
            raise method_not_allowed(call.method, path.type_name)
        return handler(call)

    def _location_of(self, call: Call) -> str:
        """The location an ARM error names: the request's, else its cluster's."""
        cluster = self.world.store.get(re.split("/agentpools/", call.path.resource_id, flags=re.I)[0])
        body_location = call.body.get("location") if isinstance(call.body, dict) else None
        return str(body_location or (cluster.body.get("location") if cluster else None) or "global")

    def _post(self, call: Call, raw_path: str) -> Reply:
        """A POST: an action on one resource (`.../managedClusters/c/stop`: the type's `action(call, "stop")`) or on
        a collection-level route served by its own type (`.../Microsoft.Storage/checkNameAvailability`)."""
        path = call.path
        owner = self.types.get(path.type_key.rsplit("/", 1)[0]) if len(path.types) > 1 else None
        own = self.types.get(path.type_key)
        if path.is_collection and owner is not None and hasattr(owner, "action"):
            return owner.action(call, path.types[-1])
        if own is not None and hasattr(own, "action"):
            return own.action(call, "")
        raise no_route(call.method, raw_path)

    def _list_group_resources(self, call: Call, segments: list[str]) -> Reply:
        """`GET .../resourcegroups/<rg>/resources`: every top-level resource in the group, `$filter=resourceType eq`."""
        group_id = "/".join(["", *segments[:4]])
        if self.world.store.get(group_id) is None:
            raise resource_group_not_found(segments[3])
        wanted = odata_eq(call.query.get("$filter", ""), "resourceType")
        items = [r for r in self.world.store.all_children(group_id) if not wanted or r.type.lower() == wanted]
        return Reply(
            200,
            {
                "value": [
                    {
                        "id": r.id,
                        "name": r.name,
                        "type": r.type,
                        "location": r.body.get("location"),
                        "tags": r.body.get("tags"),
                    }
                    for r in items
                ]
            },
        )

    def _render_by_id(self, resource_id: str) -> dict[str, Any] | None:
        resource = self.world.store.get(resource_id)
        if resource is None:
            return None
        return self.types[resource.type.lower()].render(resource)

    def _error_headers(self, error: ArmError) -> dict[str, str]:
        headers = dict(error.headers)
        wait = headers.pop("x-emulator-wait-seconds", None)
        if "Retry-After" in headers and self.world.settings.retry_after == "ms":
            seconds = float(wait) if wait is not None else float(headers["Retry-After"])
            del headers["Retry-After"]
            headers.update(self.world.retry_after_headers(seconds, lro=False))
        return headers


def _label(arm_path: ArmPath | None, path: str) -> str:
    if arm_path is None:
        return "operationResults" if "/operationresults/" in path.lower() else "unrouted"
    types = tuple(t.lower() for t in arm_path.types)
    if types[:1] == ("locations",) and len(types) == 2 and types[1] in ("operations", "operationresults"):
        return f"{arm_path.namespace}/operationStatus"
    return arm_path.type_name



def _authenticate(request: web.Request) -> None:
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                'error="invalid_token"'
            },
        )


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ArmError(
            400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {exc}."
        ) from exc


def _raise_injected(fault: FaultRule, arm_path: ArmPath | None, method: str) -> None:
    spec = fault.spec
    if fault.action == "status":
        status = spec["status"]
        error = ArmError(
            status,
            spec.get("code", DEFAULT_FAULT_CODES.get(status, "InjectedFault")),
            spec.get("message", f"Injected fault ({status}) from the emulator's fault plan."),
        )
        if status in (429, 503):
            error.headers["Retry-After"] = str(spec.get("retryAfter", 1))
        raise error
    if fault.action == "conflict" and method in MUTATING:
        raise not_allowed_busy(spec.get("runningOperation", "Upgrading"), None)
    if fault.action == "quota" and method == "PUT":
        raise quota_exceeded(spec.get("family", "cores"), "(injected)", 0, 1)
    if fault.action == "reset" and spec.get("phase", "before") != "after":
        raise ArmError(500, "ConnectionReset", "The emulator's fault plan resets this connection before any work.")


def _to_response(request: web.Request, reply: Reply) -> web.Response:
    headers = {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-correlation-request-id": request.headers.get("x-ms-client-request-id", str(uuid.uuid4())),
        **reply.headers,
    }
    if reply.body is None or request.method == "HEAD":
        return web.Response(status=reply.status, headers=headers)
    headers["Content-Type"] = "application/json; charset=utf-8"
    return web.Response(
        status=reply.status, body=json.dumps(reply.body, separators=(",", ":")).encode(), headers=headers
    )


async def _reset_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()
