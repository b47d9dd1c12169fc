"""A bounded fuzz run of every route through the ASGI middleware the Functions worker uses (tests/worker.py):
schemathesis cases generated from the OpenAPI document (valid and invalid, seeded, the document's examples first),
then the hand-written hostile list of tests/unit/test_http_edge.py on every route. No response may be a 5xx, no
exception may escape, and every response the document describes must match its schema (problem+json included). The
caller may do anything (allow-all policy), so that valid cases reach the registry and the engine.

    .venv/bin/python -m pytest -q -s tests/unit/test_http_fuzz.py   # prints the figures docs/security.md records
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import azure.functions as func
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.transport import Response

from functions.http_api import openapi
from shared.domain.policy import allow_all
from shared.domain.tickets.signatures import hub_signature
from tests.unit.test_http_edge import CLUSTER, HOSTILE_BODIES, HOSTILE_PATHS, LONG_NAMES
from tests.worker import EVENTS_SECRET, GITHUB_SECRET, Worker, as_caller, fake_runtime

EXAMPLES = 15  # per operation and generation mode: operations x 2 modes x 15 cases at most
BASE_URL = "https://aksvend.example"
BODY_ROUTES = [("POST", "/api/plan"), ("POST", "/api/clusters"), ("PUT", f"{CLUSTER}/pools/p1"), ("PATCH", CLUSTER),
               ("POST", "/api/events"), ("POST", "/api/webhooks/github")]
METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
HOSTILE_PATH_LIST = [*HOSTILE_PATHS.values(), *(path for path, _ in LONG_NAMES.values())]
HAND_WRITTEN = len(BODY_ROUTES) * len(HOSTILE_BODIES) + len(HOSTILE_PATH_LIST) * len(METHODS)


class Run:
    """Sends requests through the worker's HTTP function on one event loop and keeps the figures."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner
        self.worker = Worker(fake_runtime(policy=allow_all()))
        self.statuses: Counter[int] = Counter()
        self.escaped: list[str] = []

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes) -> func.HttpResponse | None:
        headers = {**as_caller("dev"), **headers, "X-Aksvend-Secret": EVENTS_SECRET}  # a caller; the events secret
        if "/api/webhooks/github" in url:  # past the signature: the body itself is judged
            headers.update({"X-Hub-Signature-256": hub_signature(GITHUB_SECRET, body), "X-GitHub-Event": "issues"})
        try:
            response = self.runner.run(self.worker.function(func.HttpRequest(method, url, headers=headers,
                                                                            body=body), None))
        except Exception as exc:  # what the Functions host would have turned into a 500
            self.escaped.append(f"{method} {url[:120]}: {type(exc).__name__}")
            return None
        self.statuses[response.status_code] += 1
        return response

    @property
    def cases(self) -> int:
        return sum(self.statuses.values()) + len(self.escaped)


def schemathesis_cases(run: Run) -> list[str]:
    """Every operation of the document, valid and invalid cases; the failures of the response checks."""
    schema = schemathesis.openapi.from_dict(openapi())
    failures: list[str] = []
    for operation in [result.ok() for result in schema.get_all_operations()]:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def check(case: Any) -> None:
                prepared = requests.Request(**case.as_transport_kwargs(base_url=BASE_URL)).prepare()
                body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
                response = run.send(prepared.method or "GET", prepared.url or BASE_URL, dict(prepared.headers), body)
                if response is None:
                    return
                headers = {k: [v] for k, v in response.headers.items()}
                case.validate_response(Response(response.status_code, headers, response.get_body(), prepared, 0.0,
                                                True), checks=[not_a_server_error, response_schema_conformance])

            try:
                check()
            except Unsatisfiable:  # nothing to negate (a free-form header or body)
                continue
            except Exception as exc:  # every operation's failures, then one assertion with all of them
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:600]}")
    return failures


def hostile_cases(run: Run) -> list[str]:
    """The hand-written list: hostile bodies on every route that reads one, hostile paths with every method."""
    wrong: list[str] = []
    for method, path in BODY_ROUTES:
        for name, (body, _) in HOSTILE_BODIES.items():
            raw = body.encode() if isinstance(body, str) else body
            response = run.send(method, BASE_URL + path, {"Content-Type": "application/json"}, raw)
            if response is not None and not 400 <= response.status_code < 500:
                wrong.append(f"{method} {path} {name}: {response.status_code}")
    for path in HOSTILE_PATH_LIST:
        for method in METHODS:
            response = run.send(method, BASE_URL + path + "?confirm=c1", {"Content-Type": "application/json"},
                                json.dumps({"count": 1}).encode())
            if response is not None and not 400 <= response.status_code < 500:
                wrong.append(f"{method} {path[:80]}: {response.status_code}")
    return wrong


def test_no_input_gets_a_5xx_or_an_escaped_exception_or_a_response_outside_the_document():
    with asyncio.Runner() as runner:
        run = Run(runner)
        try:
            failures = schemathesis_cases(run)
            generated = run.cases
            wrong = hostile_cases(run)
        finally:
            runner.run(run.worker.close())
    server_errors = sum(n for status, n in run.statuses.items() if status >= 500)
    print(f"\nfuzz: {generated} schemathesis cases + {run.cases - generated} hand-written = {run.cases} requests; "
          f"{server_errors} 5xx; {len(run.escaped)} escaped exceptions; statuses {dict(sorted(run.statuses.items()))}")
    assert run.escaped == [] and server_errors == 0
    assert not failures, "\n\n".join(failures)
    assert not wrong, wrong
    operations = sum(len(ops) for ops in openapi()["paths"].values())
    assert 200 <= generated <= operations * 2 * EXAMPLES and run.cases - generated == HAND_WRITTEN  # bounded; it ran
