"""The HTTP API (FastAPI, served by func.AsgiFunctionApp under /api): parse, call one service, map the result.

Bodies are read and parsed here, not by FastAPI's model binding, so that every refusal is ours: 413 past 1 MiB,
415 for anything but JSON, 400 for malformed JSON, 422 with the list of violations, all as RFC 9457
application/problem+json. An unexpected failure is a 503 problem (the storage or ARM is unreachable), never a
stack trace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions import eventgrid, runtime, webhooks
from functions.bodies import json_body
from functions.callers import CallerMissing, caller_of
from functions.paths import path_parameters
from functions.problems import PROBLEM_JSON, problem, problem_from
from shared.domain.caller import Caller
from shared.services.problems import Problem

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.api import Accepted

log = logging.getLogger("aksvend.http")
RETRY_AFTER_SECONDS = "5"

app = FastAPI(title="aksvend", version="1.0", description="Self-service AKS cluster vending.",
              openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)


# Request bodies are parsed by the services, so FastAPI cannot see their schemas; they are added to the OpenAPI
# document when it is first asked for (building the JSON Schemas at import would slow every cold start).
BODY_SCHEMAS = {("/api/plan", "post"): "ClusterRequestInput", ("/api/clusters", "post"): "ClusterRequestInput",
                ("/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}", "put"): "PoolInput"}
# Route handlers take their path parameters from the request, not as annotated arguments: FastAPI's analysis of an
# annotated parameter imports pydantic.v1 (about 0.1 s of every cold start). functions/paths.py documents them.


def openapi() -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    from shared.domain.request import ClusterRequestInput, PoolInput

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ClusterRequestInput, PoolInput):
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    for (path, method), name in BODY_SCHEMAS.items():
        doc["paths"][path][method]["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{name}"}}}}
    app.openapi_schema = doc
    return doc


app.openapi = openapi  # type: ignore[method-assign]
app.include_router(eventgrid.router)
app.include_router(webhooks.router)


def accepted(result: Accepted) -> JSONResponse:
    location = f"/api/operations/{result.operation_id}"
    return JSONResponse({"operationId": result.operation_id, "status": location, "created": result.created},
                        status_code=202, headers={"Location": location, "Retry-After": RETRY_AFTER_SECONDS})


async def context(request: Request) -> tuple[Runtime, Caller]:
    rt = await runtime.runtime()
    return rt, caller_of(request, rt.settings.local_caller)


CLUSTER = "/api/clusters/{subscription_id}/{resource_group}/{name}"
POOL = CLUSTER + "/pools/{pool}"
CLUSTER_PARAMS = ("subscription_id", "resource_group", "name")


def cluster_of(request: Request) -> tuple[str, str, str]:
    p = request.path_params
    return p["subscription_id"], p["resource_group"], p["name"]


def _key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200 and key.isprintable()):
        raise Problem(400, "InvalidIdempotencyKey", "Idempotency-Key must be 1-200 printable characters")
    return key


@app.get("/api/health", tags=["meta"])
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@app.post("/api/plan", tags=["clusters"])
async def plan(request: Request) -> JSONResponse:
    from shared.services.planning import plan_request

    rt = await runtime.runtime()
    outcome = plan_request(await json_body(request), default_subscription_id=rt.settings.default_subscription_id)
    if not outcome.valid:
        raise Problem(422, "InvalidRequest", "the request breaks the rules listed in `errors`", outcome.errors)
    return JSONResponse(outcome.to_dict())


@app.post("/api/clusters", tags=["clusters"], status_code=202)
async def create_cluster(request: Request) -> JSONResponse:
    rt, caller = await context(request)
    key = _key(request)
    return accepted(await rt.clusters.create(await json_body(request), caller, idempotency_key=key))


@app.get("/api/operations/{operation_id}", tags=["operations"], openapi_extra=path_parameters("operation_id"))
async def get_operation(request: Request) -> JSONResponse:
    operation_id = request.path_params["operation_id"]
    rt, _ = await context(request)
    view = await rt.clusters.operation(operation_id)
    running = view["state"] in ("queued", "running")
    return JSONResponse(view, headers={"Retry-After": RETRY_AFTER_SECONDS} if running else None)


@app.get("/api/clusters", tags=["clusters"])
async def list_clusters(request: Request) -> JSONResponse:
    rt, caller = await context(request)
    return JSONResponse({"value": await rt.clusters.clusters(caller)})


@app.get(CLUSTER, tags=["clusters"], openapi_extra=path_parameters(*CLUSTER_PARAMS))
async def get_cluster(request: Request) -> JSONResponse:
    rt, caller = await context(request)
    return JSONResponse(await rt.clusters.cluster(*cluster_of(request), caller))


@app.put(POOL, tags=["pools"], status_code=202, openapi_extra=path_parameters(*CLUSTER_PARAMS, "pool"))
async def put_pool(request: Request) -> JSONResponse:
    rt, caller = await context(request)
    key = _key(request)
    body = await json_body(request)
    return accepted(await rt.clusters.put_pool(*cluster_of(request), request.path_params["pool"], body, caller, key))


@app.delete(POOL, tags=["pools"], status_code=202, openapi_extra=path_parameters(*CLUSTER_PARAMS, "pool"))
async def delete_pool(request: Request) -> JSONResponse:
    rt, caller = await context(request)
    return accepted(await rt.clusters.delete_pool(*cluster_of(request), request.path_params["pool"], caller,
                                                  _key(request)))


@app.delete(CLUSTER, tags=["clusters"], status_code=202, openapi_extra=path_parameters(*CLUSTER_PARAMS))
async def delete_cluster(request: Request) -> JSONResponse:
    rt, caller = await context(request)
    return accepted(await rt.clusters.delete_cluster(*cluster_of(request), caller, _key(request)))


# ---- errors: every one is problem+json ------------------------------------------------------------------------
@app.exception_handler(Problem)
async def on_problem(request: Request, exc: Problem) -> Response:
    return problem_from(exc, request.url.path)


@app.exception_handler(CallerMissing)
async def on_missing_caller(request: Request, exc: CallerMissing) -> Response:
    return problem(401, "Unauthorized", str(exc), request.url.path)


@app.exception_handler(StarletteHTTPException)
async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
    codes = {404: "NotFound", 405: "MethodNotAllowed"}
    detail = "no such route" if exc.status_code == 404 else str(exc.detail)
    return problem(exc.status_code, codes.get(exc.status_code, "HttpError"), detail, request.url.path)


@app.exception_handler(RequestValidationError)
async def on_validation(request: Request, exc: RequestValidationError) -> Response:
    return problem(400, "BadRequest", "the request's path or query is malformed", request.url.path)


@app.exception_handler(Exception)
async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem(503, "ServiceUnavailable", "aksvend could not complete the request; try again shortly",
                   request.url.path, headers={"Retry-After": "10"})


__all__ = ["PROBLEM_JSON", "app"]
