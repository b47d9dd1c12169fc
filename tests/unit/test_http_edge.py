"""Bad input gets a clear 4xx, never a 5xx, and no exception leaves the app: every refusal of docs/api.md and a
list of hostile inputs, sent through function_app's own HTTP function as the Python worker runs it
(func.AsgiMiddleware.handle_async, tests/worker.py) over a runtime of fakes.

Before this, 1,000 nested arrays raised RecursionError (the host answered 500 with a stack trace), a duplicate key
took the last value, a UTF-16 body was read, `/pools/..` deleted a pool named '..' or (resolved by the client) the
cluster, and a trailing slash was a 307 that clients follow with their DELETE.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shared.domain.tickets.signatures import hub_signature
from tests.fakes import FakeStateStore
from tests.worker import (
    EVENTS_SECRET,
    GITHUB_SECRET,
    OTHER_SUB,
    SUB,
    Worker,
    as_caller,
    fake_runtime,
    principal_header,
    problem_of,
)

CLUSTER = f"/api/clusters/{SUB}/rg-a/c1"
REQUEST = {"name": "c1", "resourceGroup": "rg-a", "location": "westeurope", "profile": "development"}
JSON = {"Content-Type": "application/json"}
DEEP = "[" * 1000 + "]" * 1000  # 2 KB
SPOT = '{"workload": "batch", "spot": {"evictionPolicy": "Delete", "maxPrice": %s}, "autoscale": {"min": 0, "max": 3}}'
ABSENT_OPERATION = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def worker():
    w = Worker(fake_runtime())
    created = await w.request("POST", "/api/clusters", json_body=REQUEST, headers={"Idempotency-Key": "k1"})
    assert created.status_code == 202, created.get_body()
    yield w
    await w.close()


# ---- every refusal of docs/api.md -------------------------------------------------------------------------------
def cluster_request(**changes: Any) -> dict[str, Any]:
    return {**REQUEST, **changes}


REFUSALS: list[tuple[str, str, dict[str, Any], int, str]] = [
    # bodies
    ("POST", "/api/clusters", {"body": b"{not json", "headers": JSON}, 400, "MalformedJson"),
    ("POST", "/api/clusters", {"body": b'{"name": "a", "name": "c1"}', "headers": JSON}, 400, "DuplicateKey"),
    ("POST", "/api/clusters", {"body": DEEP, "headers": JSON}, 400, "TooDeep"),
    ("POST", "/api/clusters", {"body": '{"name": "c1"}'.encode("utf-16"), "headers": JSON}, 400, "NotUtf8"),
    ("POST", "/api/clusters", {"body": b"x" * (1024 * 1024 + 1), "headers": JSON}, 413, "PayloadTooLarge"),
    ("POST", "/api/clusters", {"body": b"name=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
     415, "UnsupportedMediaType"),
    ("POST", "/api/clusters", {"json_body": cluster_request(name="-x", location="mars")}, 422, "InvalidRequest"),
    ("POST", "/api/plan", {"json_body": cluster_request(location="mars")}, 422, "InvalidRequest"),
    ("POST", "/api/plan", {"body": b"[1, 2", "headers": JSON}, 400, "MalformedJson"),
    # who may
    ("POST", "/api/clusters", {"json_body": cluster_request(resourceGroup="rg-z")}, 403, "Forbidden"),
    ("POST", "/api/clusters", {"json_body": REQUEST, "headers": {"X-MS-CLIENT-PRINCIPAL": "%%%"}}, 401,
     "Unauthorized"),
    ("GET", f"/api/clusters/{OTHER_SUB}/rg-a/c1", {}, 403, "Forbidden"),
    # conflicts and what does not exist
    ("POST", "/api/clusters", {"json_body": cluster_request(profile="production")}, 409, "ClusterNameTaken"),
    ("POST", "/api/clusters", {"json_body": cluster_request(name="c2"), "headers": {"Idempotency-Key": "k1"}}, 409,
     "IdempotencyKeyReused"),
    ("POST", "/api/clusters", {"json_body": REQUEST, "headers": {"Idempotency-Key": "a\x01b"}}, 400,
     "InvalidIdempotencyKey"),
    ("GET", f"/api/operations/{ABSENT_OPERATION}", {}, 404, "OperationNotFound"),
    ("GET", f"/api/clusters/{SUB}/rg-a/c9", {}, 404, "ClusterNotFound"),
    ("DELETE", f"{CLUSTER}/pools/nopool", {}, 404, "PoolNotFound"),
    ("DELETE", f"{CLUSTER}/pools/system", {}, 409, "LastSystemPool"),
    ("PUT", f"{CLUSTER}/pools/system", {"json_body": {"count": 2}}, 409, "SystemPoolFixed"),
    ("PUT", f"{CLUSTER}/pools/apps", {"json_body": {"vmSize": "Standard_D4s_v5"}}, 422, "InvalidRequest"),
    ("PUT", f"{CLUSTER}/pools/p1", {"body": SPOT % "NaN", "headers": JSON}, 422, "InvalidRequest"),
    ("DELETE", CLUSTER, {}, 400, "ConfirmationRequired"),
    ("DELETE", CLUSTER, {"query": "confirm=c2"}, 400, "ConfirmationRequired"),
    ("GET", "/api/nope", {}, 404, "NotFound"),
    ("PATCH", "/api/clusters", {}, 405, "MethodNotAllowed"),
    # paths
    ("GET", "/api/clusters/not-a-guid/rg-a/c1", {}, 400, "InvalidPath"),
    ("GET", f"/api/clusters/{SUB}/rg-a./c1", {}, 400, "InvalidPath"),
    ("GET", f"/api/clusters/{SUB}/rg-a/-c1", {}, 400, "InvalidPath"),
    ("PUT", f"{CLUSTER}/pools/Apps", {"json_body": {"count": 1}}, 400, "InvalidPath"),
    ("GET", "/api/operations/not-an-operation", {}, 400, "InvalidPath"),
    # the webhooks
    ("POST", "/api/events", {"json_body": []}, 401, "Unauthorized"),
    ("POST", "/api/events", {"json_body": [{"id": "x"}], "headers": {"X-Aksvend-Secret": EVENTS_SECRET}}, 400,
     "MalformedEvents"),
    ("OPTIONS", "/api/events", {"headers": {"X-Aksvend-Secret": EVENTS_SECRET}}, 400, "HandshakeMissing"),
    ("POST", "/api/webhooks/nosuch", {"json_body": {}}, 404, "UnknownTicketSystem"),
    ("POST", "/api/webhooks/github", {"json_body": {}, "headers": {"X-Hub-Signature-256": "sha256=00"}}, 401,
     "InvalidSignature"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code"), REFUSALS,
                         ids=[f"{m} {p[:40]} {c}" for m, p, _, _, c in REFUSALS])
async def test_every_refusal_is_a_problem_with_its_status_and_code(worker, method, path, kwargs, status, code):
    response = await worker.request(method, path, **kwargs)
    assert response.status_code == status, response.get_body()[:400]
    assert problem_of(response)["code"] == code


async def test_a_number_that_is_not_finite_is_422_naming_its_field(worker):
    for number in ("NaN", "Infinity", "-Infinity", "1e400"):
        pool = await worker.request("PUT", f"{CLUSTER}/pools/p1", body=SPOT % number, headers=JSON)
        request = await worker.request("POST", "/api/plan", body='{"name": "c1", "resourceGroup": "rg-a", '
                                       '"location": "westeurope", "userPools": [%s]}' % (SPOT % number), headers=JSON)
        assert [e["path"] for e in problem_of(pool)["errors"]] == ["/spot/maxPrice"]
        assert [e["path"] for e in problem_of(request)["errors"]] == ["/userPools/0/spot/maxPrice"]
        assert pool.status_code == request.status_code == 422


# ---- hostile input on every route -------------------------------------------------------------------------------
ROUTES = [("POST", "/api/plan"), ("POST", "/api/clusters"), ("PUT", f"{CLUSTER}/pools/p1"),
          ("POST", "/api/events"), ("POST", "/api/webhooks/github")]
HOSTILE_BODIES = {
    "deep JSON": (DEEP, "TooDeep"),
    "deep JSON in an object": ('{"a":' * 1000 + "1" + "}" * 1000, "TooDeep"),
    "NaN": ('{"name": NaN}', "NotFinite"),
    "Infinity": ('[Infinity]', "NotFinite"),
    "1e400": ('{"count": 1e400}', "NotFinite"),
    "a 5,000-digit integer": ("[" + "9" * 5000 + "]", "NotFinite"),
    "a duplicate key": ('{"name": "a", "name": "b"}', "DuplicateKey"),
    "a lone surrogate": ('{"name": "\\ud800"}', "MalformedJson"),
    "a control character": ('{"name": "a\x01"}', "MalformedJson"),
    "UTF-16": ('{"name": "x"}'.encode("utf-16"), "NotUtf8"),
    "a byte order mark": (b'\xef\xbb\xbf{"name": "x"}', "NotUtf8"),
    "bytes that are not UTF-8": (b'{"name": "\xff"}', "NotUtf8"),
}


def authenticated(method: str, path: str, body: bytes | str) -> dict[str, str]:
    """The headers that get a body past authentication, so that the body itself is what is judged."""
    if path == "/api/events":
        return {**JSON, "X-Aksvend-Secret": EVENTS_SECRET}
    if path.startswith("/api/webhooks/github"):
        raw = body.encode() if isinstance(body, str) else body
        return {**JSON, "X-Hub-Signature-256": hub_signature(GITHUB_SECRET, raw), "X-GitHub-Event": "issues"}
    return JSON


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("hostile", HOSTILE_BODIES)
async def test_a_hostile_body_is_400_with_the_readers_code_on_every_route(worker, method, path, hostile):
    body, code = HOSTILE_BODIES[hostile]
    response = await worker.request(method, path, body=body, headers=authenticated(method, path, body))
    problem = problem_of(response)
    if code == "NotFinite" and not path.startswith(("/api/events", "/api/webhooks")):
        assert (response.status_code, problem["code"]) == (422, "InvalidRequest")  # the request contract's field
    else:
        assert (response.status_code, problem["code"]) == (400, code)


HOSTILE_PATHS = {
    "a dot-dot segment": f"{CLUSTER}/pools/..",
    "a dot segment": f"{CLUSTER}/pools/.",
    "an encoded dot-dot": f"{CLUSTER}/pools/%2e%2e",
    "an encoded slash": f"/api/clusters/{SUB}/rg-a/c1%2Fpools%2Fapps",
    "an encoded backslash": f"{CLUSTER}%5Cpools",
    "a trailing slash": f"{CLUSTER}/",
    "a double slash": f"/api/clusters/{SUB}//c1",
    "a NUL": f"{CLUSTER}/pools/a%00",
    "a newline": f"/api/clusters/{SUB}/rg-a/c1%0A",
    "a control character": f"/api/clusters/{SUB}/rg-a%1F/c1",
    "a lone surrogate": f"/api/clusters/{SUB}/rg-a/%ED%A0%80",
    "escapes that are not UTF-8": f"/api/clusters/{SUB}/rg-a/%ff",
    "a backslash": f"{CLUSTER}\\pools",
}
LONG_NAMES = {  # each with the methods of its route
    "a 5,000-character cluster name": (f"/api/clusters/{SUB}/rg-a/{'c' * 5000}", ("GET", "DELETE")),
    "a 5,000-character resource group": (f"/api/clusters/{SUB}/{'r' * 5000}/c1", ("GET", "DELETE")),
    "a 5,000-character subscription": (f"/api/clusters/{'0' * 5000}/rg-a/c1/pools/p1", ("PUT", "DELETE")),
    "a 5,000-character pool name": (f"{CLUSTER}/pools/{'p' * 5000}", ("PUT", "DELETE")),
    "a 5,000-character operation id": (f"/api/operations/{'0' * 5000}", ("GET",)),
}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
@pytest.mark.parametrize("hostile", HOSTILE_PATHS)
async def test_a_hostile_path_is_400_invalid_path_before_routing(worker, method, hostile):
    response = await worker.request(method, HOSTILE_PATHS[hostile], json_body={"count": 1}, query="confirm=c1")
    assert (response.status_code, problem_of(response)["code"]) == (400, "InvalidPath"), response.get_body()[:300]


@pytest.mark.parametrize("hostile", LONG_NAMES)
async def test_a_name_that_is_not_valid_is_400_invalid_path_before_anything_else(worker, hostile):
    path, methods = LONG_NAMES[hostile]
    for method in methods:
        for headers in ({}, {"X-MS-CLIENT-PRINCIPAL": "%%%"}):  # before the caller is looked at
            response = await worker.request(method, path, json_body={"count": 1}, query="confirm=c1", headers=headers)
            problem = problem_of(response)
            assert (response.status_code, problem["code"]) == (400, "InvalidPath"), (method, problem)
            assert "ccccc" not in problem["detail"] and "rrrrr" not in problem["detail"]  # named, not echoed


async def test_a_hostile_principal_header_is_401_never_a_500(worker):
    for document in (b'{"claims": ' + DEEP.encode() + b"}", b'{"claims": [], "claims": []}', b'{"name_typ": NaN}',
                     '{"claims": [{"typ": "name", "val": "x"}]}'.encode("utf-16"), b"[" * 5000):
        response = await worker.request("GET", "/api/clusters", headers={
            "X-MS-CLIENT-PRINCIPAL": principal_header(document)})
        assert (response.status_code, problem_of(response)["code"]) == (401, "Unauthorized"), document[:40]


# ---- no redirect of any kind ------------------------------------------------------------------------------------
ROUTE_PATHS = ["/api/health", "/api/plan", "/api/clusters", f"/api/operations/{ABSENT_OPERATION}", CLUSTER,
               f"{CLUSTER}/pools/apps", "/api/events", "/api/webhooks/github", "/api/docs", "/api/openapi.json"]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"])
async def test_no_route_answers_with_a_redirect(worker, method):
    for path in ROUTE_PATHS:
        for variant in (path, path + "/", path + "//", path.upper()):
            response = await worker.request(method, variant, json_body={})
            assert not 300 <= response.status_code < 400, (method, variant, response.status_code)
            assert response.headers.get("location") is None or response.status_code == 202


# ---- the last resort --------------------------------------------------------------------------------------------
class UnreachableStore(FakeStateStore):
    async def get(self, partition_key: str, row_key: str) -> Any:
        raise ConnectionError(f"storage down (key {EVENTS_SECRET})")

    async def query_partition(self, partition_key: str) -> Any:
        raise ConnectionError(f"storage down (key {EVENTS_SECRET})")


async def test_an_unexpected_failure_is_503_with_retry_after_and_is_logged_without_its_message(caplog):
    worker = Worker(fake_runtime(clusters=UnreachableStore()))
    try:
        with caplog.at_level(logging.ERROR):
            response = await worker.request("GET", CLUSTER)
    finally:
        await worker.close()
    assert (response.status_code, problem_of(response)["code"]) == (503, "ServiceUnavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert f"unexpected ConnectionError on GET {CLUSTER}" in caplog.text and EVENTS_SECRET not in caplog.text
    assert EVENTS_SECRET not in response.get_body().decode()


async def test_the_guard_answers_for_the_app_itself_when_driven_without_the_middleware():
    """The FastAPI app alone (as the local host and httpx's ASGITransport drive it) lets no exception out either."""
    import httpx

    from functions import runtime
    from functions.http_api import app

    runtime.use(fake_runtime(clusters=UnreachableStore()))
    try:
        transport = httpx.ASGITransport(app=app)  # raises what the app raises
        async with httpx.AsyncClient(transport=transport, base_url="http://aksvend.test") as client:
            response = await client.get(CLUSTER, headers=as_caller("dev"))
            deep = await client.post("/api/plan", content=DEEP, headers={**JSON, **as_caller("dev")})
    finally:
        runtime.use(None)
    assert response.status_code == 503 and response.json()["code"] == "ServiceUnavailable"
    assert deep.status_code == 400 and deep.json()["code"] == "TooDeep"


def test_a_wrong_content_type_is_told_both_media_types_the_docs_use():
    """New-user review: a PATCH sent as text/plain was told "send the body as application/json" while the docs
    PATCH with application/merge-patch+json: the refusal names both, and both are accepted."""
    from starlette.requests import Request

    from functions.bodies import json_media
    from shared.refusals import UnsupportedMediaType

    def sent(media: str) -> Request:
        return Request({"type": "http", "method": "PATCH", "path": "/", "headers": [(b"content-type", media.encode())]})

    with pytest.raises(UnsupportedMediaType) as refused:
        json_media(sent("text/plain"))
    assert "application/json" in refused.value.detail and "application/merge-patch+json" in refused.value.detail
    json_media(sent("application/merge-patch+json"))
    json_media(sent("application/json; charset=utf-8"))
