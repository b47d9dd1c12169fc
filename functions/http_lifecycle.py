"""The routes of a running cluster's life (issue 17), an APIRouter of the HTTP API (functions/http_api.py includes
it): `PATCH` a cluster (JSON merge patch), `POST .../upgrade`, `GET .../upgrades`, `POST .../adopt`, and `POST
.../pools/{pool}/stop` and `.../start`.

Thin, as every route: the path parameters (400 `InvalidPath`), then the caller (401), then one use case of
`Lifecycle` (shared/services/lifecycle.py), whose refusals the app's handler turns into problem+json. Docs:
docs/api.md ("A running cluster's life").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from functions import paths, runtime
from functions.bodies import accepted, json_body
from functions.callers import caller_of
from functions.paths import path_parameters
from shared.refusals import MalformedInput

if TYPE_CHECKING:
    from shared.services.lifecycle import Lifecycle
    from shared.services.pool_power import Verb

router = APIRouter()
CLUSTER = "/api/clusters/{subscription_id}/{resource_group}/{name}"
PARAMS = ("subscription_id", "resource_group", "name")
MERGE_PATCH = "application/merge-patch+json"
PATCH_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    MERGE_PATCH: {"schema": {"type": "object"}, "example": {"tags": {"costCenter": "4711"},
                                                            "systemPool": {"count": 3}}},
    "application/json": {"schema": {"type": "object"}, "example": {"deletionProtection": False}}}}}
UPGRADE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["kubernetesVersion"], "additionalProperties": False,
               "properties": {"kubernetesVersion": {"type": "string"}}}, "example": {"kubernetesVersion": "1.34.2"}}}}}

ALREADY: dict[int | str, dict[str, Any]] = {200: {"description": "The pool has that power state already: no operation "
                                                                  "(`operationId` null, the pool's `powerState` and "
                                                                  "`count` as ARM has them)"}}


async def lifecycle(request: Request) -> tuple[Lifecycle, Any, tuple[str, str, str]]:
    """The use cases, the proven caller and the cluster the path names (400, 401 or 503 before anything else). The
    services are imported on first use, not at cold start (tests/unit/test_cold_start.py)."""
    from shared.services.lifecycle import Lifecycle

    cluster = paths.valid(request, *PARAMS)
    rt = await runtime.runtime()
    return Lifecycle(rt.clusters), await caller_of(request, rt), (cluster[0], cluster[1], cluster[2])


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200 and key.isprintable()):
        raise MalformedInput("InvalidIdempotencyKey", "Idempotency-Key must be 1-200 printable characters")
    return key


@router.patch(CLUSTER, tags=["clusters"], status_code=202, summary="Change a running cluster (JSON merge patch)",
              openapi_extra={**path_parameters(*PARAMS), **PATCH_BODY})
async def patch_cluster(request: Request) -> JSONResponse:
    """RFC 7396 merge patch of the desired request: tags, addons, reactions (autoUpgrade: the upgrade channel),
    drift, deletionProtection, and the system pool's count, autoscale, taints, labels and vmSize (a pool swap).
    202 with the operation; 422 `InvalidPatch` naming each field that cannot change, `InvalidRequest` when the
    result breaks a rule. Needs `change`."""
    uc, caller, cluster = await lifecycle(request)
    done = await uc.patch(*cluster, await json_body(request), caller, idempotency_key(request))
    return accepted(done.operation_id, created=done.created)


@router.post(CLUSTER + "/upgrade", tags=["clusters"], status_code=202, summary="Upgrade a cluster",
             openapi_extra={**path_parameters(*PARAMS), **UPGRADE_BODY})
async def upgrade_cluster(request: Request) -> JSONResponse:
    """To a version ARM's upgrade profile offers (422 `VersionNotOffered` otherwise): the control plane, then each
    pool in order with its maxSurge; a failure stops the rollout, the operation's error names the pool's step.
    Needs `change`."""
    uc, caller, cluster = await lifecycle(request)
    done = await uc.upgrade(*cluster, await json_body(request), caller, idempotency_key(request))
    return accepted(done.operation_id, created=done.created)


@router.get(CLUSTER + "/upgrades", tags=["clusters"], summary="The upgrades ARM offers a cluster",
            openapi_extra=path_parameters(*PARAMS))
async def cluster_upgrades(request: Request) -> JSONResponse:
    """ARM's `upgradeProfiles/default` of the cluster: its version and upgrades, and each pool's. Needs `read`."""
    uc, caller, cluster = await lifecycle(request)
    return JSONResponse(await uc.upgrades(*cluster, caller))


@router.post(CLUSTER + "/adopt", tags=["clusters"], summary="Adopt a cluster aksvend does not manage",
             openapi_extra=path_parameters(*PARAMS))
async def adopt_cluster(request: Request) -> JSONResponse:
    """Records a cluster ARM has, as ARM describes it, as the desired request (deletion protection on); nothing in
    ARM changes. 200 with the cluster; 409 `ClusterAlreadyManaged`, 404 `ClusterNotInArm`. Needs `admin`."""
    uc, caller, cluster = await lifecycle(request)
    return JSONResponse(await uc.adopt(*cluster, caller))


@router.post(CLUSTER + "/pools/{pool}/stop", tags=["pools"], status_code=202, summary="Stop a user pool",
             responses=ALREADY, openapi_extra=path_parameters(*PARAMS, "pool"))
async def stop_pool(request: Request) -> JSONResponse:
    """Deallocates the pool's nodes, keeping the pool (AKS's nodepool stop): 202 with the operation, or 200 with
    `operationId` null when it is stopped already. System pools: 409 `SystemPoolCannotStop`. Needs `change`."""
    return await power(request, "stop")


@router.post(CLUSTER + "/pools/{pool}/start", tags=["pools"], status_code=202, summary="Start a stopped user pool",
             responses=ALREADY, openapi_extra=path_parameters(*PARAMS, "pool"))
async def start_pool(request: Request) -> JSONResponse:
    """Starts a stopped pool with the node count it had: 202 with the operation, or 200 with `operationId` null
    when it is running already. Needs `change`."""
    return await power(request, "start")


async def power(request: Request, verb: Verb) -> JSONResponse:
    """The stop or start of the pool the path names (shared/services/pool_power.py)."""
    from shared.services.pool_power import AlreadyThere, set_power

    pool = paths.valid(request, "pool")[0]
    uc, caller, cluster = await lifecycle(request)
    done = await set_power(uc.clusters, *cluster, pool, verb, caller, idempotency_key(request))
    if isinstance(done, AlreadyThere):
        return JSONResponse(done.view())
    return accepted(done.operation_id, created=done.created)
