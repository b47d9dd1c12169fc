"""The hand-off routes (docs/api.md, "Hand-off"): the cluster list with filters and pages, one cluster with what ARM
reports beside its desired request, and its user credentials. Thin: the path, the caller, one service call
(shared/services/cluster_reads.py). Refusals are the app's problem+json (functions/http_api.py's handlers).

The credentials' answer carries a kubeconfig: it is sent with `Cache-Control: no-store` and is never logged (the app
logs no response body; an unexpected failure is logged by type only: functions/edge.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from functions import paths, runtime
from functions.callers import caller_of
from functions.paths import path_parameters

if TYPE_CHECKING:
    from shared.services.cluster_reads import ClusterReads

__all__ = ["router"]

router = APIRouter(tags=["clusters"])
CLUSTER = "/api/clusters/{subscription_id}/{resource_group}/{name}"
CLUSTER_PARAMS = ("subscription_id", "resource_group", "name")
LIST_PARAMETERS: dict[str, Any] = {"parameters": [
    {"name": "owner", "in": "query", "schema": {"type": "string", "format": "uuid"},
     "description": "only clusters whose request names this owner group (`access.ownerGroup`)"},
    {"name": "resourceGroup", "in": "query", "schema": {"type": "string", "maxLength": 90},
     "description": "only clusters in this resource group (case-insensitive)"},
    {"name": "state", "in": "query",
     "schema": {"type": "string", "enum": ["provisioning", "ready", "failed", "deleting", "deleted"]}},
    {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
     "style": "form", "explode": True, "description": "key:value; repeat for several (all must hold)"},
    {"name": "$top", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
    {"name": "continuationToken", "in": "query", "schema": {"type": "string", "maxLength": 1024},
     "description": "the previous page's `continuationToken`, with the same filters"}]}


async def reads(request: Request) -> tuple[ClusterReads, Any]:
    """The read use cases and the proven caller (401 or 503 before anything else is read). Imported here: the use
    cases load the engine, which a cold start does not (tests/unit/test_cold_start.py)."""
    from shared.services.cluster_reads import ClusterReads

    rt = await runtime.runtime()
    return ClusterReads(rt.clusters), await caller_of(request, rt)


@router.get("/api/clusters", summary="List clusters", openapi_extra=LIST_PARAMETERS)
async def list_clusters(request: Request) -> JSONResponse:
    """The clusters the caller may read, filtered (`owner`, `resourceGroup`, `state`, `tag=key:value`), a page of
    `$top` at a time: `continuationToken` fetches the next. 400 `InvalidQuery` or `InvalidContinuationToken`."""
    service, caller = await reads(request)
    return JSONResponse(await service.list(caller, request.query_params.multi_items()))


@router.get(CLUSTER, summary="A cluster", openapi_extra=path_parameters(*CLUSTER_PARAMS))
async def get_cluster(request: Request) -> JSONResponse:
    """Its desired request, state, pools, current and queued operations and, in `observed`, what ARM reports now
    (fqdn, node resource group, identities, OIDC issuer, versions, each pool's count, power state and subnet);
    `observed.reachable` is false when ARM could not be read in time, and the rest is still answered."""
    sub, rg, name = paths.valid(request, *CLUSTER_PARAMS)
    service, caller = await reads(request)
    return JSONResponse(await service.cluster(sub, rg, name, caller))


@router.get(CLUSTER + "/credentials", summary="The cluster's user kubeconfig",
            openapi_extra=path_parameters(*CLUSTER_PARAMS))
async def get_credentials(request: Request) -> JSONResponse:
    """The user kubeconfig from ARM's `listClusterUserCredential` (never the admin one), to callers with `read`; for
    a cluster with `access` (Entra ID, Azure RBAC) the kubelogin form. 409 until ARM has the cluster; 503 when ARM
    cannot be read."""
    sub, rg, name = paths.valid(request, *CLUSTER_PARAMS)
    service, caller = await reads(request)
    return JSONResponse(await service.credentials(sub, rg, name, caller), headers={"Cache-Control": "no-store"})
