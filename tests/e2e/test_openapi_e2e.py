"""The OpenAPI document lists every route, and a bounded schemathesis run against it finds no 5xx and no response
that breaks the documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

EXAMPLES = 15

pytestmark = pytest.mark.e2e
ROUTES = {("/api/clusters", "post"), ("/api/plan", "post"), ("/api/operations/{operation_id}", "get"),
          ("/api/clusters", "get"), ("/api/clusters/{subscription_id}/{resource_group}/{name}", "get"),
          ("/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}", "put"),
          ("/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}", "delete"),
          ("/api/clusters/{subscription_id}/{resource_group}/{name}", "delete"), ("/api/health", "get")}


def test_every_route_is_in_the_openapi_document(api):
    doc = api.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    routes = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes >= ROUTES
    served = {(r.path, m.lower()) for r in __import__("functions.http_api").http_api.app.routes
              for m in getattr(r, "methods", ()) if r.path.startswith("/api/") and m != "HEAD"
              and r.path not in ("/api/openapi.json", "/api/docs", "/api/docs/assets/{version}/{name}")}
    assert served <= routes, served - routes
    assert {"ClusterRequestInput", "PoolInput"} <= set(doc["components"]["schemas"])
    assert api.get("/api/docs").status_code == 200


def test_no_input_gets_a_5xx_or_a_response_outside_the_schema(host):
    """Positive and negative cases for every operation (bounded: EXAMPLES each); checks: no 5xx, and every
    response that the document describes matches its schema."""
    schema = schemathesis.openapi.from_url(f"{host.base_url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= len(ROUTES)
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def run(case) -> None:
                response = case.call(base_url=host.base_url, timeout=30)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

            try:
                run()
            except Unsatisfiable:  # nothing to negate (a free-form string path parameter accepts anything)
                continue
            except Exception as exc:  # collect every operation's failure, then fail once with all of them
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:800]}")
    assert not failures, "\n\n".join(failures)
