"""The OpenAPI document of the HTTP API, built when it is first asked for (building JSON Schemas at import would
slow every cold start).

Request bodies are parsed by the services, so FastAPI cannot see their schemas: they are added here, each with
examples that really validate, so that Swagger UI's "Try it out" starts from a request aksvend accepts rather than
one generated from the schema (which breaks the rules). tests/unit/test_openapi_examples.py holds every example
here to that.

Refusals are raised, not returned, so FastAPI cannot see them either: `REFUSALS` lists the 4xx statuses of each
route, and every operation gets them and a 503 as RFC 9457 `application/problem+json` (`Problem`), so that a
generated client knows them. tests/unit/test_openapi_errors.py checks the list against what the routes answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

CLUSTER_REQUEST = "ClusterRequestInput"
POOL = "PoolInput"
POOL_ROUTE = "/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}"
CLUSTER_ROUTE = "/api/clusters/{subscription_id}/{resource_group}/{name}"
BODY_SCHEMAS = {("/api/plan", "post"): CLUSTER_REQUEST, ("/api/clusters", "post"): CLUSTER_REQUEST,
                (POOL_ROUTE, "put"): POOL}
PROBLEM_JSON = "application/problem+json"
# What each status means, and the codes it comes with (docs/api.md has the whole list).
MEANING = {
    400: "Bad Request: the JSON is not read (MalformedJson, DuplicateKey, TooDeep, NotUtf8, NotFinite), a path "
         "segment is not a valid name (InvalidPath), a header is malformed (InvalidIdempotencyKey), or a cluster "
         "delete is not confirmed (ConfirmationRequired)",
    401: "Unauthorized: no caller could be established, or a webhook's secret or signature is missing or wrong",
    403: "Forbidden: the caller policy does not let this caller do this in that subscription and resource group",
    404: "Not Found: no such cluster, pool, operation (or one the caller may not read) or ticketing system",
    409: "Conflict: a cluster ARM does not have yet (credentials), a name another request owns, a reused "
         "Idempotency-Key with another body, the system pool (which cannot be stopped either), a pool ARM does "
         "not have yet, a cluster that kept changing, an operation that cannot be retried (not failed, its "
         "cluster moved on)",
    413: "Content Too Large: the body is over the limit",
    415: "Unsupported Media Type: the body is not JSON",
    422: "Unprocessable Content: the request breaks rules of the request contract; `errors` lists every one",
    503: "Service Unavailable: storage or ARM could not be reached; try again after `Retry-After` seconds",
}
BODY = (400, 401, 413, 415, 422)
REFUSALS: dict[tuple[str, str], tuple[int, ...]] = {
    ("/api/health", "get"): (),
    ("/api/plan", "post"): (*BODY, 403),  # where the caller may not create, as the create
    ("/api/clusters", "post"): (*BODY, 403, 409),
    ("/api/clusters", "get"): (400, 401),
    ("/api/operations/{operation_id}", "get"): (400, 401, 404),
    ("/api/operations/{operation_id}/retry", "post"): (400, 401, 403, 404, 409),
    (CLUSTER_ROUTE, "get"): (400, 401, 403, 404),
    (CLUSTER_ROUTE + "/credentials", "get"): (400, 401, 403, 404, 409),
    (CLUSTER_ROUTE, "delete"): (400, 401, 403, 404, 409),
    (POOL_ROUTE, "put"): (*BODY, 403, 404, 409),
    (POOL_ROUTE, "delete"): (400, 401, 403, 404, 409),
    (CLUSTER_ROUTE + "/agent-key/rotate", "post"): (400, 401, 403, 404, 409),
    (CLUSTER_ROUTE, "patch"): (*BODY, 403, 404, 409),  # functions/http_lifecycle.py
    (CLUSTER_ROUTE + "/upgrade", "post"): (*BODY, 403, 404, 409),
    (CLUSTER_ROUTE + "/upgrades", "get"): (400, 401, 403, 404),
    (CLUSTER_ROUTE + "/adopt", "post"): (400, 401, 403, 404, 409, 422),
    (POOL_ROUTE + "/stop", "post"): (400, 401, 403, 404, 409),  # functions/http_lifecycle.py
    (POOL_ROUTE + "/start", "post"): (400, 401, 403, 404, 409),
    ("/api/events", "post"): (400, 401, 403, 413, 415),
    ("/api/events", "options"): (400, 401, 403),
    ("/api/webhooks/{system}", "post"): (400, 401, 404, 413, 422),
}

# The smallest request: everything else comes from the development profile. First, so Swagger UI shows it.
DEVELOPMENT_REQUEST: dict[str, Any] = {"name": "team-dev", "resourceGroup": "rg-team-dev", "location": "westeurope",
                                       "profile": "development"}
POOL_EXAMPLES: dict[str, dict[str, Any]] = {
    "autoscaled": {"summary": "an autoscaled general-purpose pool",
                   "description": "The VM size comes from the cluster's profile when it is left out. The pools at "
                                  "their maxima plus surge must fit the node subnet (422 NODE_SUBNET_FULL).",
                   "value": {"workload": "general", "autoscale": {"min": 1, "max": 3}}},
    "spot-batch": {"summary": "a spot pool for batch work that scales to zero",
                   "description": "Evicted spot capacity is replaced by on-demand nodes (`reactions.spotFallback`).",
                   "value": {"workload": "batch", "spot": {"evictionPolicy": "Delete", "maxPrice": -1},
                             "autoscale": {"min": 0, "max": 3}}},
    "own-subnet": {"summary": "a large pool on a subnet of its own",
                   "description": "`subnet: auto`: aksvend adds a subnet sized for the pool to the VNet (when its "
                                  "address space has room), so the node subnet's size does not bound it.",
                   "value": {"workload": "general", "count": 3, "autoscale": {"min": 3, "max": 40}, "subnet": "auto"}},
}

# Webhook deliveries: their shape is the sender's (docs/events.md, docs/integrations.md), read after authentication.
VALIDATION_EVENT = [{"id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "topic": "/subscriptions/00000000-0000-0000-0000-"
                     "000000000000/resourceGroups/rg-x/providers/Microsoft.ContainerService/managedClusters/c1",
                     "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                     "eventTime": "2026-11-27T10:00:00Z", "data": {"validationCode": "512d38b6-c7b8-40c8-89fe"},
                     "dataVersion": "1", "metadataVersion": "1"}]
GENERIC_TICKET = {"ticket": {"id": "CHG-2031", "revision": "3", "title": "Team cluster"},
                  "request": DEVELOPMENT_REQUEST}
DELIVERIES: dict[tuple[str, str], tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]] = {
    ("/api/events", "post"): (
        ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json"),
        {"description": "Event Grid events (an array), or CloudEvents (one, or an array)",
         "oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
        {"validation": {"summary": "Event Grid's subscription validation handshake", "value": VALIDATION_EVENT}}),
    ("/api/webhooks/{system}", "post"): (
        ("application/json",),
        {"type": "object", "description": "the ticketing system's delivery; its signature is over these bytes"},
        {"generic": {"summary": "a generic ticket (signed with X-Aksvend-Signature)", "value": GENERIC_TICKET}}),
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
    for (path, method), (media_types, schema, delivery_examples) in DELIVERIES.items():
        doc["paths"][path][method]["requestBody"] = {"required": True, "content": {
            media: {"schema": schema, "examples": delivery_examples} for media in media_types}}
    components.update(problem_schemas())
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in (*REFUSALS.get((path, method), (400,)), 503):
                described = responses.get(str(status), {}).get("description")
                responses[str(status)] = {"description": described or MEANING[status], "content": {PROBLEM_JSON: {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}}
    return doc


def problem_schemas() -> dict[str, Any]:
    """RFC 9457 problem details as aksvend sends them (functions/problems.py), and a violation of `errors`."""
    text = {"type": "string"}
    violation = {"type": "object", "required": ["code", "path", "message"], "properties": {
        "code": text, "path": {"type": "string", "description": "JSON pointer into the request"}, "message": text,
        "severity": {"type": "string", "enum": ["error", "warning"]}, "source": text}}
    problem = {"type": "object", "required": ["type", "title", "status", "code", "detail", "instance"],
               "properties": {
                   "type": {"type": "string", "format": "uri"}, "title": text,
                   "status": {"type": "integer", "minimum": 400, "maximum": 599},
                   "code": {"type": "string", "description": "stable: clients match it (docs/api.md)"},
                   "detail": text, "instance": text,
                   "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}}}}
    return {"Problem": problem, "Violation": violation}
