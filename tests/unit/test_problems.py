"""The HTTP edge's one table from refusals (shared/refusals.py) to status codes (functions/problems.py): every kind of
refusal has its status, the table is the one shared/errors.py documents, and problem+json bodies keep their shape."""

from __future__ import annotations

import json
import re

import pytest

import shared.errors
import shared.refusals
from functions.problems import PROBLEM_JSON, STATUS, TITLES, problem_from, status_of
from shared.domain.violations import Violation
from shared.refusals import InConflict, InvalidInput, NotFound, Refused

KINDS = [getattr(shared.refusals, name) for name in shared.refusals.__all__]


def test_every_kind_of_refusal_has_a_status_of_its_own_with_a_title():
    assert set(KINDS) == set(STATUS)
    assert all(status in TITLES for status in STATUS.values())


def test_the_table_is_the_one_the_exception_tree_documents():
    documented = {name: int(status) for name, status in
                  re.findall(r"── (\w+) \.+ (\d{3}) ", shared.errors.__doc__ or "")}
    assert documented == {kind.__name__: status for kind, status in STATUS.items() if kind is not Refused}


def test_a_narrower_refusal_takes_the_status_of_its_nearest_kind():
    class PoolGone(NotFound):
        pass

    assert status_of(PoolGone("PoolNotFound", "no such pool")) == 404


@pytest.mark.parametrize(("refusal", "status", "errors"), [
    (InvalidInput("InvalidRequest", "breaks rules"), 422, []),
    (InvalidInput("InvalidRequest", "breaks rules", [Violation("X", "/a", "m")]), 422,
     [{"code": "X", "path": "/a", "message": "m"}]),
    (InConflict("ClusterNameTaken", "taken"), 409, None),
])
def test_a_refusal_becomes_a_problem_with_its_code_and_detail(refusal, status, errors):
    response = problem_from(refusal, "/api/clusters")
    body = json.loads(response.body)
    assert response.status_code == status and response.media_type == PROBLEM_JSON
    assert (body["status"], body["code"], body["detail"], body["instance"]) == (status, refusal.code, refusal.detail,
                                                                                "/api/clusters")
    assert body["type"] == f"https://aksvend.dev/problems/{refusal.code}" and body["title"] == TITLES[status]
    if errors is None:
        assert "errors" not in body
    else:
        assert [{k: e[k] for k in ("code", "path", "message")} for e in body["errors"]] == errors
