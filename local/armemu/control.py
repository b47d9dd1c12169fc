"""The control API under `/_emulator/`: what tests, demos and benchmarks use to look inside and steer.

| route | what |
|---|---|
| `GET /_emulator/health` | liveness |
| `GET /_emulator/requests?limit=N` | request log: time, method, path, status, durationMs, resourceType, fault |
| `GET /_emulator/counters` | totals by method, status and resource type |
| `GET /_emulator/inventory[?type=T]` | resources: id, type, provisioningState |
| `GET /_emulator/operations` | running operations: kind, state, phase, dueInSeconds, plannedSeconds (factor 1) |
| `POST /_emulator/operations/finish` | `{"resourceId"}` (optional): end only that resource's running operations |
| `POST /_emulator/operations/step` | `{"resourceId"}`: end the current stage (an upgrade's) of its operations |
| `PUT /_emulator/operations/hold` | `{"hold": true}`: no operation ends on its own until `{"hold": false}` or reset |
| `POST /_emulator/reset` | forget resources, operations, log, faults and the latency, quota, version overrides |
| `GET`/`PATCH /_emulator/settings` | timeFactor, throttling, retryAfter (seconds/ms/none), webhookUrl, seed ... |
| `GET`/`PUT`/`DELETE /_emulator/faults` | the fault plan (faults.py) |
| `GET`/`PUT /_emulator/latency` | latency model overrides, `{"<type>:<kind>": seconds}` |
| `GET`/`PUT /_emulator/quota` | vCPU limits, `{"<location or *>": {"<family>": limit}}` |
| `GET`/`PUT`/`DELETE /_emulator/kubernetes-versions` | the Kubernetes version table (versions.py); DELETE: default |
| `POST /_emulator/spot-eviction` | `{"clusterId", "pool", "count"}`: evict spot nodes; VirtualMachinePreempted events |
| `POST /_emulator/aks-events` | `{"clusterId", "eventType", "data"?}`: send an AKS system event |
| `GET /_emulator/deliveries` | webhook delivery attempts |

Control calls are neither logged, throttled nor faulted: they are not ARM traffic.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .errors import ArmError
from .faults import FaultPlan
from .triggers import emit_aks_event, evict_spot_nodes
from .world import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(value), content_type="application/json")


def _guarded(handler: Callable[[web.Request], Awaitable[Any]]) -> Handler:
    """Map bad input to 400 and ARM errors to their status, so the control API answers like the rest."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            result = await handler(request)
        except ArmError as error:
            return _json(error.body(), error.status)
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": {"code": "BadRequest", "message": str(exc)}}, 400)
        return result if isinstance(result, web.StreamResponse) else _json(result)

    return wrapper


def routes(world: World) -> list[web.RouteDef]:
    async def body(request: web.Request) -> Any:
        raw = await request.read()
        return json.loads(raw) if raw else {}

    async def options(request: web.Request) -> dict[str, Any]:
        found = await body(request)
        if not isinstance(found, dict):
            raise ValueError("the body must be a JSON object")
        return found

    async def health(_: web.Request) -> Any:
        return {"status": "ok", "resources": len(world.store)}

    async def requests(request: web.Request) -> Any:
        return {"value": world.log.tail(int(request.query.get("limit", "1000")))}

    async def counters(_: web.Request) -> Any:
        return world.log.counters()

    async def inventory(request: web.Request) -> Any:
        world.ops.settle()
        wanted = request.query.get("type", "").lower()
        items = [r for r in world.store.all() if not wanted or r.type.lower() == wanted]
        return {
            "count": len(items),
            "value": [
                {
                    "id": r.id,
                    "type": r.type,
                    "provisioningState": (r.body.get("properties") or {}).get("provisioningState"),
                }
                for r in items
            ],
        }

    async def operations(_: web.Request) -> Any:
        world.ops.settle()
        return {
            "held": world.ops.held,
            "value": [
                {
                    "id": op.id,
                    "resourceId": op.resource_id,
                    "kind": op.kind,
                    "state": op.running_state,
                    "dueInSeconds": round(op.remaining(world.ops.now()), 3),
                    "plannedSeconds": op.planned_seconds,
                    "phase": op.phase,
                }
                for op in world.ops.running()
            ]
        }

    async def finish_operations(request: web.Request) -> Any:
        resource_id = (await options(request)).get("resourceId")
        if resource_id is not None:
            if not isinstance(resource_id, str):
                raise ValueError("resourceId must be an ARM resource id")
            return {"finished": world.ops.finish_resource(resource_id)}
        running = len(world.ops.running())
        world.ops.finish_all()
        return {"finished": running}

    async def step_operations(request: web.Request) -> Any:
        resource_id = (await options(request)).get("resourceId")
        if not isinstance(resource_id, str):
            raise ValueError("resourceId must be an ARM resource id")
        return {"moved": world.ops.step(resource_id)}

    async def hold_operations(request: web.Request) -> Any:
        hold = (await options(request)).get("hold")
        if not isinstance(hold, bool):
            raise ValueError("hold must be true or false")
        world.ops.held = hold
        return {"held": hold, "running": len(world.ops.running())}

    async def reset(_: web.Request) -> Any:
        world.reset()
        return {"status": "reset"}

    async def get_settings(_: web.Request) -> Any:
        return world.settings.to_json()

    async def patch_settings(request: web.Request) -> Any:
        world.settings.update_from_json(await body(request))
        return world.settings.to_json()

    async def get_faults(_: web.Request) -> Any:
        return world.faults.to_json()

    async def put_faults(request: web.Request) -> Any:
        world.faults = FaultPlan.from_json(await body(request), world.settings.seed)
        return world.faults.to_json()

    async def delete_faults(_: web.Request) -> Any:
        world.faults = FaultPlan(seed=world.settings.seed)
        return world.faults.to_json()

    async def get_latency(_: web.Request) -> Any:
        return {"timeFactor": world.settings.time_factor, "seconds": world.latency.table()}

    async def put_latency(request: web.Request) -> Any:
        world.latency.override(await body(request))
        return {"timeFactor": world.settings.time_factor, "seconds": world.latency.table()}

    async def get_quota(_: web.Request) -> Any:
        return world.quota_limits

    async def put_quota(request: web.Request) -> Any:
        limits = await body(request)
        for location, families in limits.items():
            world.quota_limits[location.replace(" ", "").lower() if location != "*" else "*"] = {
                family: int(limit) for family, limit in families.items()
            }
        return world.quota_limits

    async def get_versions(_: web.Request) -> Any:
        return world.versions.to_json()

    async def put_versions(request: web.Request) -> Any:
        world.versions.replace(await body(request))
        return world.versions.to_json()

    async def delete_versions(_: web.Request) -> Any:
        world.versions.reset()
        return world.versions.to_json()

    async def spot_eviction(request: web.Request) -> Any:
        spec = await body(request)
        world.ops.settle()
        return evict_spot_nodes(world, spec["clusterId"], spec["pool"], int(spec.get("count", 1)))

    async def aks_events(request: web.Request) -> Any:
        spec = await body(request)
        return emit_aks_event(world, spec["clusterId"], spec["eventType"], spec.get("data"))

    async def deliveries(_: web.Request) -> Any:
        return {"value": world.deliverer.deliveries}

    table: list[tuple[str, str, Callable[[web.Request], Awaitable[Any]]]] = [
        ("GET", "health", health),
        ("GET", "requests", requests),
        ("GET", "counters", counters),
        ("GET", "inventory", inventory),
        ("GET", "operations", operations),
        ("POST", "operations/finish", finish_operations),
        ("POST", "operations/step", step_operations),
        ("PUT", "operations/hold", hold_operations),
        ("POST", "reset", reset),
        ("GET", "settings", get_settings),
        ("PATCH", "settings", patch_settings),
        ("PUT", "settings", patch_settings),
        ("GET", "faults", get_faults),
        ("PUT", "faults", put_faults),
        ("DELETE", "faults", delete_faults),
        ("GET", "latency", get_latency),
        ("PUT", "latency", put_latency),
        ("GET", "quota", get_quota),
        ("PUT", "quota", put_quota),
        ("GET", "kubernetes-versions", get_versions),
        ("PUT", "kubernetes-versions", put_versions),
        ("DELETE", "kubernetes-versions", delete_versions),
        ("POST", "spot-eviction", spot_eviction),
        ("POST", "aks-events", aks_events),
        ("GET", "deliveries", deliveries),
    ]
    return [web.route(method, f"/_emulator/{name}", _guarded(handler)) for method, name, handler in table]
