"""The OpenAPI document of the HTTP API, built when it is first asked for (building JSON Schemas at import would
slow every cold start).

Request bodies are parsed by the services, so FastAPI cannot see their schemas: they are added here, each with
examples that really validate, so that Swagger UI's "Try it out" starts from a request aksvend accepts rather than
one generated from the schema (which breaks the rules). tests/unit/test_openapi_examples.py holds every example
here to that.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

CLUSTER_REQUEST = "ClusterRequestInput"
POOL = "PoolInput"
POOL_ROUTE = "/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}"
BODY_SCHEMAS = {("/api/plan", "post"): CLUSTER_REQUEST, ("/api/clusters", "post"): CLUSTER_REQUEST,
                (POOL_ROUTE, "put"): POOL}

# The smallest request: everything else comes from the development profile. First, so Swagger UI shows it.
DEVELOPMENT_REQUEST: dict[str, Any] = {"name": "team-dev", "resourceGroup": "rg-team-dev", "location": "westeurope",
                                       "profile": "development"}
POOL_EXAMPLES: dict[str, dict[str, Any]] = {
    "autoscaled": {"summary": "an autoscaled general-purpose pool",
                   "description": "The VM size comes from the cluster's profile when it is left out.",
                   "value": {"workload": "general", "autoscale": {"min": 1, "max": 5}}},
    "spot-batch": {"summary": "a spot pool for batch work that scales to zero",
                   "description": "Evicted spot capacity is replaced by on-demand nodes (`reactions.spotFallback`).",
                   "value": {"workload": "batch", "spot": {"evictionPolicy": "Delete", "maxPrice": -1},
                             "autoscale": {"min": 0, "max": 10}}},
}


def cluster_request_examples() -> dict[str, dict[str, Any]]:
    from shared.domain.examples import PRODUCTION_REQUEST  # the request `make demo` provisions

    return {
        "development": {"summary": "a development cluster from the profile's defaults",
                        "description": "One system node and one small autoscaled user pool.",
                        "value": DEVELOPMENT_REQUEST},
        "production": {"summary": "a production cluster with a private endpoint",
                       "description": "Three zones, the production pools, and a private endpoint to a storage "
                                      "account (it must exist for the provisioning to succeed).",
                       "value": PRODUCTION_REQUEST},
    }


def build(app: FastAPI) -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi

    from shared.domain.request import ClusterRequestInput, PoolInput

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ClusterRequestInput, PoolInput):
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    examples = {CLUSTER_REQUEST: cluster_request_examples(), POOL: POOL_EXAMPLES}
    for (path, method), name in BODY_SCHEMAS.items():
        doc["paths"][path][method]["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{name}"}, "examples": examples[name]}}}
    return doc
