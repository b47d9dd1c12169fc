"""The HTTP API through the local host over real HTTP: the production request end to end, every refusal as a
problem, callers and policy, pool changes and cluster deletion reflected in the emulator's inventory."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from local.host.client import SUBSCRIPTION
from shared.domain.examples import PRODUCTION_REQUEST
from tests.e2e.conftest import mint, wait_op
from tests.principals import TENANT, oid
from tests.requests import MINIMAL_PRODUCTION

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"
POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"


def principal(name: str, groups: tuple[str, ...] = ()) -> str:
    """A principal header as Easy Auth would send it: what a client can send too."""
    claims = [("tid", TENANT), ("oid", oid(name)), ("name", name), *(("groups", oid(g)) for g in groups)]
    doc = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles",
           "claims": [{"typ": t, "val": v} for t, v in claims]}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def test_production_request_is_accepted_provisioned_and_idempotent(api, arm, storage_target):
    headers = {"Idempotency-Key": "e2e-production"}
    first = api.post("/api/clusters", json=PRODUCTION_REQUEST, headers=headers)
    assert first.status_code == 202, first.text
    location = first.headers["Location"]
    assert location == f"/api/operations/{first.json()['operationId']}" and int(first.headers["Retry-After"]) > 0
    again = api.post("/api/clusters", json=PRODUCTION_REQUEST, headers=headers)
    assert again.status_code == 202 and again.json()["operationId"] == first.json()["operationId"]
    assert again.json()["created"] is False
    op = wait_op(api, location)
    assert op["state"] == "succeeded", op["error"]
    assert op["progress"] == 100 and all(s["state"] == "succeeded" and s["armId"] for s in op["steps"])
    cluster = api.get(f"/api/clusters/{SUBSCRIPTION}/rg-shop/shop-prod")
    assert cluster.status_code == 200
    assert [p["name"] for p in cluster.json()["pools"]] == ["system", "apps", "gpu", "batch"]
    assert cluster.json()["state"] == "ready"
    assert any(r["id"].lower().endswith("/managedclusters/shop-prod") and r["provisioningState"] == "Succeeded"
               for r in arm.inventory(CLUSTER_TYPE))
    assert "shop-prod" in [c["name"] for c in api.get("/api/clusters").json()["value"]]


def test_invalid_request_is_422_listing_every_violation(api):
    response = api.post("/api/clusters", json={"name": "-x", "resourceGroup": "rg-shop", "location": "mars",
                                                "profile": "production", "systemPool": {"vmSize": "Standard_B2ms"}})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422 and body["code"] == "InvalidRequest"
    assert {"/name", "/location", "/systemPool/vmSize"} <= {e["path"] for e in body["errors"]}
    assert all(e["code"] and e["message"] for e in body["errors"])


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code"), [
    ("POST", "/api/clusters", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
     "MalformedJson"),
    ("POST", "/api/clusters", {"content": b"x" * (1024 * 1024 + 1), "headers": {"content-type": "application/json"}},
     413, "PayloadTooLarge"),
    ("POST", "/api/clusters", {"content": b"name=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
     415, "UnsupportedMediaType"),
    ("GET", "/api/nope", {}, 404, "NotFound"),
    ("POST", "/api/plan", {"content": b"[1, 2", "headers": {"content-type": "application/json"}}, 400,
     "MalformedJson"),
    ("GET", "/api/operations/not-an-operation", {}, 400, "InvalidPath"),
    ("GET", "/api/operations/00000000-0000-4000-8000-000000000000", {}, 404, "OperationNotFound"),
])
def test_refusals_are_problems_never_a_500(api, method, path, kwargs, status, code):
    response = api.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["title"] and body["instance"] == path


def test_a_chunked_body_past_one_mebibyte_is_413(api):
    def chunks():
        for _ in range(17):
            yield b"x" * 65536

    response = api.post("/api/clusters", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "PayloadTooLarge"


def test_no_caller_is_401_and_a_caller_outside_its_resource_groups_is_403(strict_host):
    body = {"name": "c", "resourceGroup": "rg-x", "location": "westeurope"}
    bob = {"Authorization": f"Bearer {mint(strict_host, 'bob', groups=[oid('team-x')])}"}
    with httpx.Client(base_url=strict_host.base_url, timeout=30) as client:
        missing = client.post("/api/clusters", json=body)
        assert missing.status_code == 401 and missing.headers["content-type"] == PROBLEM
        assert missing.json()["code"] == "Unauthorized" and missing.headers["www-authenticate"].startswith("Bearer")
        forged = client.post("/api/clusters", json=body, headers={"X-MS-CLIENT-PRINCIPAL": "%%%"})
        assert forged.status_code == 401
        # without --easy-auth nothing vouches for the principal header: it is ignored, whatever it says
        untrusted = client.post("/api/clusters", json=body,
                                headers={"X-MS-CLIENT-PRINCIPAL": principal("bob", ("team-x",))})
        assert untrusted.status_code == 401 and "not trusted" in untrusted.json()["detail"]
        outside = client.post("/api/clusters", json={**body, "resourceGroup": "rg-y"}, headers=bob)
        assert outside.status_code == 403 and outside.json()["code"] == "Forbidden"
        assert outside.headers["content-type"] == PROBLEM
        allowed = client.post("/api/clusters", json=body, headers=bob)
        assert allowed.status_code == 202, allowed.text


def test_with_easy_auth_the_host_checks_tokens_at_its_edge_and_hands_the_app_the_principal(easy_auth_host):
    body = {"name": "c-easy", "resourceGroup": "rg-x", "location": "westeurope"}
    bob = {"Authorization": f"Bearer {mint(easy_auth_host, 'bob', groups=[oid('team-x')])}"}
    admin = principal("mallory", ("team-x", "platform-admins"))
    with httpx.Client(base_url=easy_auth_host.base_url, timeout=30) as client:
        assert client.get("/api/health").status_code == 200  # excluded, as in infra
        for headers in ({}, {"X-MS-CLIENT-PRINCIPAL": admin}, {"Authorization": "Bearer not-a-token"},
                        {"Authorization": f"Bearer {mint(easy_auth_host, 'bob', audience='api://other')}"}):
            refused = client.post("/api/clusters", json=body, headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        # the client's principal header is stripped: Bob's token decides, and Bob may not create in rg-y
        outside = client.post("/api/clusters", json={**body, "resourceGroup": "rg-y"},
                              headers={**bob, "X-MS-CLIENT-PRINCIPAL": admin})
        assert outside.status_code == 403 and oid("bob") in outside.json()["detail"]
        allowed = client.post("/api/clusters", json=body, headers=bob)
        assert allowed.status_code == 202, allowed.text


def test_pool_changes_and_cluster_delete_are_reflected_in_the_emulator(api, arm):
    request = {**MINIMAL_PRODUCTION, "name": "pools-e2e", "resourceGroup": "rg-pools"}
    created = api.post("/api/clusters", json=request)
    assert created.status_code == 202, created.text
    assert wait_op(api, created.headers["Location"])["state"] == "succeeded"
    base = f"/api/clusters/{SUBSCRIPTION}/rg-pools/pools-e2e"

    def pools() -> dict[str, dict]:
        return {r["id"].rsplit("/", 1)[1]: r for r in arm.inventory(POOL_TYPE) if "/pools-e2e/" in r["id"].lower()}

    assert set(pools()) == {"system", "apps", "gpu", "batch"}
    scale = api.put(f"{base}/pools/apps", json={"count": 4, "autoscale": {"min": 2, "max": 9}})
    assert scale.status_code == 202, scale.text
    assert wait_op(api, scale.headers["Location"])["state"] == "succeeded"
    assert next(p for p in api.get(base).json()["pools"] if p["name"] == "apps")["count"] == 4
    add = api.put(f"{base}/pools/mem", json={"workload": "memory", "count": 2})
    assert add.status_code == 202, add.text
    assert wait_op(api, add.headers["Location"])["state"] == "succeeded"
    assert "mem" in pools()
    delete = api.delete(f"{base}/pools/mem")
    assert delete.status_code == 202
    deleted = wait_op(api, delete.headers["Location"])
    assert deleted["state"] == "succeeded", deleted["error"]
    assert "mem" not in pools()
    refused = api.delete(f"{base}/pools/system")
    assert refused.status_code == 409 and refused.json()["code"] == "LastSystemPool"
    unconfirmed = api.delete(base)
    assert unconfirmed.status_code == 400 and unconfirmed.json()["code"] == "ConfirmationRequired"
    protected = api.delete(base, params={"confirm": "pools-e2e"})  # production: deletionProtection on
    assert protected.status_code == 409 and protected.json()["code"] == "DeletionProtected"
    unprotect = api.patch(base, json={"deletionProtection": False},
                          headers={"content-type": "application/merge-patch+json"})
    assert unprotect.status_code == 202 and wait_op(api, unprotect.headers["Location"])["state"] == "succeeded"
    gone = api.delete(base, params={"confirm": "pools-e2e"})
    assert gone.status_code == 202
    removed = wait_op(api, gone.headers["Location"])
    assert removed["state"] == "succeeded", removed["error"]
    assert not [r for r in arm.inventory() if "/resourcegroups/rg-pools/" in r["id"].lower()]
    assert api.get(base).status_code == 404
