"""The OpenAPI document describes the refusals (functions/openapi_doc.py): every operation lists its 4xx statuses and
a 503 as application/problem+json with the `Problem` schema, and every refusal the HTTP edge tests observe
(tests/unit/test_http_edge.py) is one that its route documents."""

from __future__ import annotations

import re
from urllib.parse import unquote

from functions.http_api import openapi
from functions.openapi_doc import REFUSALS
from tests.unit.test_http_edge import REFUSALS as OBSERVED

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def operations() -> dict[tuple[str, str], dict]:
    return {(path, method): op for path, ops in openapi()["paths"].items() for method, op in ops.items()}


def template(method: str, path: str) -> str | None:
    """The documented route this request is for (path templates matched as the router does: `{x}` is one segment)."""
    path = unquote(path)
    return next((route for route, m in operations() if m == method.lower()
                 and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", route), path)), None)


def test_every_operation_says_which_refusals_it_answers_with():
    assert set(operations()) == set(REFUSALS)


def test_every_refusal_is_documented_as_problem_json_with_the_problem_schema():
    doc = openapi()
    assert {"type", "title", "status", "code", "detail", "instance"} <= set(doc["components"]["schemas"]["Problem"][
        "required"])
    for (path, method), op in operations().items():
        documented = {int(s) for s in op["responses"] if s.startswith(("4", "5"))}
        assert documented == {*REFUSALS[(path, method)], 503}
        for status in documented:
            response = op["responses"][str(status)]
            assert response["description"] and response["content"]["application/problem+json"]["schema"] == PROBLEM


def test_what_the_routes_answer_is_what_the_document_says():
    for method, path, _, status, code in OBSERVED:
        route = template(method, path)
        if route is None or status == 405:  # no route, or not this method: nothing to document
            continue
        assert status in REFUSALS[(route, method.lower())], (method, route, status, code)


def test_the_delete_of_a_cluster_documents_its_confirmation_and_every_name_its_pattern():
    op = operations()[("/api/clusters/{subscription_id}/{resource_group}/{name}", "delete")]
    parameters = {p["name"]: p for p in op["parameters"]}
    assert parameters["confirm"]["in"] == "query" and parameters["confirm"]["required"] is True
    assert all(parameters[n]["schema"]["pattern"] for n in ("subscription_id", "resource_group", "name"))
