"""The OpenAPI document (`/api/openapi.json`) describes every operation, and every example in it is a body that
aksvend accepts: Swagger UI's "Try it out" starts from the first one, so an example that breaks a rule is a bug
a user meets first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import jsonschema_rs
import pytest

from functions.http_api import app
from shared.domain.profiles import expand
from shared.services.planning import plan_request
from shared.services.pool_change import with_pool

SUB = "00000000-0000-0000-0000-000000000000"
CLUSTER_BODIES = {("/api/plan", "post"), ("/api/clusters", "post")}
POOL_BODY = ("/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}", "put")
DOC = app.openapi()


def example_locations(node: Any, pointer: str = "") -> Iterator[str]:
    """The JSON pointer of every `example` or `examples` anywhere in the document."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if key in ("example", "examples") and isinstance(node, dict):
            yield here
        yield from example_locations(value, here)


def body_examples() -> list[tuple[str, str, str, dict[str, Any], Any]]:
    """(path, method, example name, body schema, value) for each example of each request body."""
    found = []
    for path, operations in DOC["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                named = dict(content.get("examples", {}))
                if "example" in content:
                    named["example"] = {"value": content["example"]}
                found += [(path, method, name, content["schema"], e["value"]) for name, e in named.items()]
    return found


EXAMPLES = body_examples()


def ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [f"{c[1]} {c[0]} {c[2]}" for c in cases]


def test_every_operation_has_a_summary_and_a_description():
    operations = [(m, p, op) for p, ops in DOC["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 12
    missing = [f"{m} {p}" for m, p, op in operations if not op.get("summary", "").strip()
               or not op.get("description", "").strip()]
    assert missing == []


def test_every_example_is_the_example_of_a_request_body_so_the_tests_below_cover_it():
    locations = set(example_locations(DOC))
    assert locations, "the document has no examples at all"
    assert all("/requestBody/content/" in where for where in locations), locations


def test_each_documented_request_body_offers_at_least_one_example():
    with_examples = {(path, method) for path, method, *_ in EXAMPLES}
    with_bodies = {(p, m) for p, ops in DOC["paths"].items() for m, op in ops.items() if "requestBody" in op}
    assert with_bodies >= {*CLUSTER_BODIES, POOL_BODY}
    assert with_examples == with_bodies


@pytest.mark.parametrize(("path", "method", "name", "schema", "value"), EXAMPLES, ids=ids(EXAMPLES))
def test_the_example_is_accepted_by_the_schema_the_document_gives_its_body(path, method, name, schema, value):
    validator = jsonschema_rs.validator_for({**schema, "components": DOC["components"]})
    assert [e.message for e in validator.iter_errors(value)] == []


CLUSTER_EXAMPLES = [c for c in EXAMPLES if (c[0], c[1]) in CLUSTER_BODIES]


@pytest.mark.parametrize(("path", "method", "name", "schema", "value"), CLUSTER_EXAMPLES, ids=ids(CLUSTER_EXAMPLES))
def test_the_cluster_request_example_validates_and_plans(path, method, name, schema, value):
    outcome = plan_request(value, default_subscription_id=SUB)
    assert [f"{v.path} {v.code}" for v in outcome.errors] == []
    assert outcome.plan is not None and outcome.plan.resources


POOL_EXAMPLES = [c for c in EXAMPLES if (c[0], c[1]) == POOL_BODY]


@pytest.mark.parametrize(("path", "method", "name", "schema", "value"), POOL_EXAMPLES, ids=ids(POOL_EXAMPLES))
def test_the_pool_example_adds_a_valid_pool_to_the_cluster_of_the_first_cluster_example(path, method, name, schema,
                                                                                          value):
    first = next(c[4] for c in CLUSTER_EXAMPLES if c[:2] == ("/api/clusters", "post"))
    request, violations = expand(first, default_subscription_id=SUB)
    assert request is not None, violations
    desired = request.model_dump(mode="json", by_alias=True)  # as the registry keeps it
    changed = with_pool(desired, "extra", value, default_subscription_id=SUB, today=date.today())
    assert [p.name for p in changed.user_pools] == [*(p["name"] for p in desired["userPools"]), "extra"]
