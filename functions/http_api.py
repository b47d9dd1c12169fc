"""The HTTP API (FastAPI, served by func.AsgiFunctionApp under /api): parse, call one service, map the result.

Bodies are read and parsed by functions/bodies.py, not by FastAPI's model binding, so that every refusal is ours:
413 past 1 MiB, 415 for anything but JSON, 400 for JSON aksvend does not read, 422 with the list of violations.
Path parameters are checked first (functions/paths.py: 400 `InvalidPath`), then the caller (401), then the policy
(403; 404 for an operation the caller may not read, as for one that does not exist). The services refuse with
domain exceptions (shared/refusals.py), which one handler here turns into RFC 9457 application/problem+json by the
table in functions/problems.py. functions/edge.py refuses malformed paths before routing and answers an unexpected
failure with a 503 problem (the storage or ARM is unreachable): no exception leaves the app, no redirect is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions import docs_ui, edge, eventgrid, http_handoff, http_lifecycle, paths, runtime, webhooks
from functions.bodies import RETRY_AFTER_SECONDS, accepted, json_body
from functions.callers import caller_of
from functions.paths import path_parameters
from functions.problems import PROBLEM_JSON, problem, problem_from
from shared.domain.caller import Caller
from shared.refusals import InvalidInput, MalformedInput, Refused
from shared.services.callers import CallerNotProven, CallerUnverifiable

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.clusters import Accepted

app = FastAPI(title="aksvend", version="1.0", description="Self-service AKS cluster vending.",
              openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,  # docs: functions/docs_ui.py
              redirect_slashes=False)  # no redirect of any kind: a client may follow a 307 with its DELETE
app.add_middleware(edge.Guard)
# Route handlers take their path parameters from the request, not as annotated arguments: FastAPI's analysis of an
# annotated parameter imports pydantic.v1 (about 0.1 s of every cold start). functions/paths.py documents them.


def openapi() -> dict[str, Any]:
    if not app.openapi_schema:
        from functions import openapi_doc  # the schemas and examples: built on first request, not at cold start

        app.openapi_schema = openapi_doc.build(app)
    return app.openapi_schema


app.openapi = openapi  # type: ignore[method-assign]
app.include_router(eventgrid.router)
app.include_router(webhooks.router)
app.include_router(docs_ui.router)
app.include_router(http_lifecycle.router)  # PATCH, upgrade, adopt: a running cluster's life
app.include_router(http_handoff.router)  # GET /api/clusters, GET a cluster (with what ARM reports), its credentials


def queued(result: Accepted) -> JSONResponse:
    return accepted(result.operation_id, created=result.created)


async def context(request: Request) -> tuple[Runtime, Caller]:
    """The runtime and the proven caller (functions/callers.py): 401 or 503 before anything else is read."""
    rt = await runtime.runtime()
    return rt, await caller_of(request, rt)


CLUSTER = "/api/clusters/{subscription_id}/{resource_group}/{name}"
POOL = CLUSTER + "/pools/{pool}"
CLUSTER_PARAMS = ("subscription_id", "resource_group", "name")
CONFIRM = {"name": "confirm", "in": "query", "required": True, "schema": {"type": "string"},
           "description": "the cluster's name again: deleting a cluster must say which cluster it means"}


def cluster_of(request: Request) -> tuple[str, str, str]:
    sub, rg, name = paths.valid(request, *CLUSTER_PARAMS)
    return sub, rg, name


def pool_of(request: Request) -> tuple[str, str, str, str]:
    sub, rg, name, pool = paths.valid(request, *CLUSTER_PARAMS, "pool")
    return sub, rg, name, pool


def confirmed(request: Request, name: str) -> None:
    """A cluster is deleted only when the request names it twice: a client that resolved `/pools/..` (or followed a
    redirect) to the cluster's URL must not delete the cluster."""
    if request.query_params.get("confirm") != name:
        raise Refused("ConfirmationRequired", f"deleting a cluster needs the query parameter confirm=<the cluster's "
                                              f"name>: DELETE {request.url.path}?confirm={name}")


def _key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200 and key.isprintable()):
        raise MalformedInput("InvalidIdempotencyKey", "Idempotency-Key must be 1-200 printable characters")
    return key


@app.get("/api/health", tags=["meta"], summary="Liveness")
async def health() -> JSONResponse:
    """200 while the app answers; touches neither storage nor ARM."""
    return JSONResponse({"status": "ok"})


@app.post("/api/plan", tags=["clusters"], summary="Validate and plan a cluster request")
async def plan(request: Request) -> JSONResponse:
    """The request checked against every rule and, when valid, the resources and steps it would create. No side
    effects, but a caller is needed as for every other route, and 403 where the caller may not create (as the
    create would be). 422 with `errors` when a rule is broken (docs/request.md lists them). With `quota` when the
    caller may read the subscription (docs/cost.md)."""
    from shared.services.planning import plan_for_caller

    rt, caller = await context(request)
    outcome = await plan_for_caller(await json_body(request), caller, rt.clusters.policy, rt.engine.arm,
                                    default_subscription_id=rt.settings.default_subscription_id)
    if not outcome.valid:
        raise InvalidInput("InvalidRequest", "the request breaks the rules listed in `errors`", outcome.errors)
    return JSONResponse(outcome.to_dict())


@app.post("/api/clusters", tags=["clusters"], status_code=202, summary="Request a cluster")
async def create_cluster(request: Request) -> JSONResponse:
    """Validates the request and queues its provisioning: 202 with `Location` of the operation. The same request
    (or `Idempotency-Key`) again returns the same operation; a name another request owns is 409."""
    rt, caller = await context(request)
    key = _key(request)
    return queued(await rt.clusters.create(await json_body(request), caller, idempotency_key=key))


@app.get("/api/operations/{operation_id}", tags=["operations"], summary="Status of an operation",
         openapi_extra=path_parameters("operation_id"))
async def get_operation(request: Request) -> JSONResponse:
    """State, progress and steps (attempts, times, ARM ids, errors); `Retry-After` while queued or running. 404 for
    an operation that does not exist and for one on a cluster the caller may not read alike."""
    (operation_id,) = paths.valid(request, "operation_id")
    rt, caller = await context(request)
    view = await rt.clusters.operation(operation_id, caller)
    running = view["state"] in ("queued", "running")
    return JSONResponse(view, headers={"Retry-After": RETRY_AFTER_SECONDS} if running else None)


@app.post("/api/operations/{operation_id}/retry", tags=["operations"], status_code=202,
          summary="Retry a failed operation", openapi_extra=path_parameters("operation_id"))
async def retry_operation(request: Request) -> JSONResponse:
    """Runs a failed operation's request again as a new operation (`retryOf` names the failed one), adopting what ARM
    already has: 202 with `Location` of the new operation; the same retry again answers it again (`created: false`).
    Needs the action of the operation (`create` for a create). 404 as for reading it; 409 `OperationNotFailed`,
    `ClusterMovedOn`, `DesiredRequestChanged` or `ClusterDeleted` when it cannot be the same operation again."""
    (operation_id,) = paths.valid(request, "operation_id")
    rt, caller = await context(request)
    result = await rt.clusters.retry(operation_id, caller)
    return accepted(result.operation_id, created=result.created, retryOf=operation_id)


@app.put(POOL, tags=["pools"], status_code=202, summary="Add a user pool or change its size",
         openapi_extra=path_parameters(*CLUSTER_PARAMS, "pool"))
async def put_pool(request: Request) -> JSONResponse:
    """Merged into the pool of that name, or added as a new one. Fields AKS fixes at creation (VM size, OS, spot,
    zones, max pods, OS disk, workload) cannot change: 422 `POOL_FIELD_IMMUTABLE`. The system pool: 409."""
    pool = pool_of(request)
    rt, caller = await context(request)
    key = _key(request)
    return queued(await rt.clusters.put_pool(*pool, await json_body(request), caller, key))


@app.delete(POOL, tags=["pools"], status_code=202, summary="Remove a user pool",
            openapi_extra=path_parameters(*CLUSTER_PARAMS, "pool"))
async def delete_pool(request: Request) -> JSONResponse:
    """Queues the pool's deletion: 202. The system pool cannot be removed (409 `LastSystemPool`)."""
    pool = pool_of(request)
    rt, caller = await context(request)
    return queued(await rt.clusters.delete_pool(*pool, caller, _key(request)))


@app.delete(CLUSTER, tags=["clusters"], status_code=202, summary="Delete a cluster",
            openapi_extra={"parameters": [*path_parameters(*CLUSTER_PARAMS)["parameters"], CONFIRM]})
async def delete_cluster(request: Request) -> JSONResponse:
    """Deletes what the plan created, dependents first; the resource group stays. Needs `?confirm=<name>`: 400
    `ConfirmationRequired` without it."""
    cluster = cluster_of(request)
    rt, caller = await context(request)
    confirmed(request, cluster[2])
    return queued(await rt.clusters.delete_cluster(*cluster, caller, _key(request)))


@app.post(CLUSTER + "/agent-key/rotate", tags=["clusters"], summary="Rotate the in-cluster agent's key",
          openapi_extra=path_parameters(*CLUSTER_PARAMS))
async def rotate_agent_key(request: Request) -> JSONResponse:
    """A new version of the cluster's agent key in Key Vault (docs/events.md); the previous one stays valid for
    24 h, while the agent is rolled onto the new one. Needs `change` on the cluster. 200 with the new version's
    id and time; the key itself is never returned."""
    cluster = cluster_of(request)
    rt, caller = await context(request)
    return JSONResponse(await rt.clusters.rotate_agent_key(*cluster, caller))


# ---- errors: every one is problem+json ------------------------------------------------------------------------
@app.exception_handler(Refused)
async def on_refused(request: Request, exc: Refused) -> Response:
    return problem_from(exc, request.url.path)


@app.exception_handler(CallerNotProven)
async def on_caller_not_proven(request: Request, exc: CallerNotProven) -> Response:
    return problem(401, exc.code, exc.detail, request.url.path, headers={"WWW-Authenticate": exc.challenge})


@app.exception_handler(CallerUnverifiable)
async def on_caller_unverifiable(request: Request, exc: CallerUnverifiable) -> Response:
    return problem(503, "CallerUnverifiable", str(exc), request.url.path, headers={"Retry-After": "10"})


@app.exception_handler(StarletteHTTPException)
async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
    codes = {404: "NotFound", 405: "MethodNotAllowed"}
    detail = "no such route" if exc.status_code == 404 else str(exc.detail)
    return problem(exc.status_code, codes.get(exc.status_code, "HttpError"), detail, request.url.path,
                   headers=exc.headers)


@app.exception_handler(RequestValidationError)
async def on_validation(request: Request, exc: RequestValidationError) -> Response:
    return problem(400, "BadRequest", "the request's path or query is malformed", request.url.path)
# Anything else: functions/edge.py (Guard) answers 503 and lets nothing out.


__all__ = ["PROBLEM_JSON", "app"]
