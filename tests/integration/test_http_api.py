"""The HTTP API in-process (the ASGI app through httpx) over a real engine: Azurite, the emulator, the SDKs."""

from __future__ import annotations

import dataclasses

import pytest

from functions import runtime
from shared.bootstrap import authentication
from shared.config import AuthSettings, Settings
from tests.integration.engine_harness import make_storage_target, production
from tests.integration.http_harness import api_client, principal_header, settled, wait_op
from tests.principals import TENANT, oid, pid

pytestmark = pytest.mark.integration
POLICY = {"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-shop*"],
     "actions": ["create", "change", "delete", "read"]},
    {"groups": [oid("team-x")], "subscriptions": ["*"], "resourceGroups": ["rg-x"], "actions": ["create", "read"]}]}


def principal(name: str, groups: tuple[str, ...] = ()) -> str:
    return principal_header(name, groups)


@pytest.fixture
async def api(armemu, azurite_connection_string):
    async with api_client(armemu, azurite_connection_string, POLICY) as (client, h):
        yield client, h


def arm_get(armemu, resource_id: str) -> dict:
    """The resource as ARM answers a GET of it (the emulator's inventory lists ids and states only)."""
    from azure.core.rest import HttpRequest

    from shared.domain.arm import resource_type

    api_version = resource_type("Microsoft.ContainerService/managedClusters/agentPools").api_version
    response = armemu.pipeline().send_request(HttpRequest("GET", f"{armemu.base_url}{resource_id}?api-version="
                                                                 f"{api_version}"))
    assert response.status_code == 200, response.text()
    return response.json()


async def test_production_request_is_accepted_provisioned_and_listed(api, armemu):
    client, _ = api
    account = make_storage_target(armemu)
    response = await client.post("/api/clusters", json=production(account), headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/api/operations/{response.json()['operationId']}"
    assert int(response.headers["Retry-After"]) > 0
    again = await client.post("/api/clusters", json=production(account), headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 202 and again.json()["operationId"] == response.json()["operationId"]
    running = await client.get(response.headers["Location"])
    assert running.status_code == 200
    assert ("Retry-After" in running.headers) == (running.json()["state"] in ("queued", "running"))
    op = await wait_op(client, response.headers["Location"])
    assert op["state"] == "succeeded" and op["progress"] == 100
    assert all(s["state"] == "succeeded" and s["armId"] for s in op["steps"])
    kinds = [h["kind"] for h in op["history"]]
    assert kinds[0] == "queued" and kinds[-1] == "succeeded" and kinds.count("step") == len(op["steps"])
    sub = armemu.subscription_id
    cluster = (await client.get(f"/api/clusters/{sub}/rg-shop/shop-prod")).json()
    assert [p["name"] for p in cluster["pools"]] == ["system", "apps", "gpu", "batch"]
    assert cluster["state"] == "ready"
    listed = (await client.get("/api/clusters")).json()["value"]
    assert [c["name"] for c in listed] == ["shop-prod"]


async def test_pool_changes_and_cluster_delete_reach_the_emulator(api, armemu):
    client, _ = api
    account = make_storage_target(armemu)
    sub = armemu.subscription_id
    base = f"/api/clusters/{sub}/rg-shop/shop-prod"
    await wait_op(client, (await client.post("/api/clusters", json=production(account))).headers["Location"])

    def pools() -> dict[str, int]:
        return {r["id"].rsplit("/", 1)[1]: r for r in armemu.inventory(
            "Microsoft.ContainerService/managedClusters/agentPools")}

    scale = await client.put(f"{base}/pools/apps", json={"count": 8, "autoscale": {"min": 3, "max": 12}})
    add = await client.put(f"{base}/pools/mem", json={"workload": "memory", "count": 2})
    assert scale.status_code == 202 and add.status_code == 202, (scale.text, add.text)
    assert (await wait_op(client, scale.headers["Location"]))["state"] == "succeeded"
    assert (await wait_op(client, add.headers["Location"]))["state"] == "succeeded"
    assert "mem" in pools()
    delete = await client.delete(f"{base}/pools/mem")
    deleted = await wait_op(client, delete.headers["Location"])
    assert deleted["state"] == "succeeded", deleted["error"]
    assert "mem" not in pools()
    refused = await client.delete(f"{base}/pools/system")
    assert refused.status_code == 409 and refused.json()["code"] == "LastSystemPool"
    unconfirmed = await client.delete(base)
    assert unconfirmed.status_code == 400 and unconfirmed.json()["code"] == "ConfirmationRequired"
    protected = await client.delete(base, params={"confirm": "shop-prod"})  # production: deletionProtection on
    assert protected.status_code == 409 and protected.json()["code"] == "DeletionProtected"
    unprotect = await client.patch(base, json={"deletionProtection": False})
    assert (await wait_op(client, unprotect.headers["Location"]))["state"] == "succeeded"
    gone = await client.delete(base, params={"confirm": "shop-prod"})
    removed = await wait_op(client, gone.headers["Location"])
    assert removed["state"] == "succeeded", removed["error"]
    assert not [r for r in armemu.inventory() if "/resourcegroups/rg-shop/" in r["id"].lower()]
    assert (await client.get(base)).status_code == 404


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"json": {"name": "-x", "resourceGroup": "rg-shop", "location": "mars"}}, 422, "InvalidRequest"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "MalformedJson"),
    ({"content": b"x" * (1024 * 1024 + 1), "headers": {"content-type": "application/json"}}, 413,
     "PayloadTooLarge"),
    ({"content": b"name=x", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415,
     "UnsupportedMediaType"),
    ({"json": {"name": "c", "resourceGroup": "rg-other", "location": "westeurope"}}, 403, "Forbidden"),
])
async def test_bad_input_gets_a_problem_never_a_500(api, kwargs, status, code):
    client, _ = api
    response = await client.post("/api/clusters", **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["title"]


async def test_invalid_request_lists_every_violation(api):
    client, _ = api
    response = await client.post("/api/clusters", json={"name": "-x", "resourceGroup": "rg-shop",
                                                          "location": "mars", "profile": "production",
                                                          "systemPool": {"vmSize": "Standard_B2ms"}})
    paths = {e["path"] for e in response.json()["errors"]}
    assert {"/name", "/location", "/systemPool/vmSize"} <= paths


async def test_unknown_route_is_a_404_problem(api):
    client, _ = api
    response = await client.get("/api/nope")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


async def test_no_caller_is_401_and_a_principal_outside_its_groups_is_403(api):
    client, _ = api
    rt = runtime._runtime
    assert rt is not None
    easy_auth = Settings(default_subscription_id=rt.settings.default_subscription_id, auth=AuthSettings(
        easy_auth=True, tenant_id=TENANT, audiences=("api://aksvend",)))
    runtime.use(dataclasses.replace(rt, settings=easy_auth, authentication=authentication(easy_auth)))
    body = {"name": "c", "resourceGroup": "rg-x", "location": "westeurope"}
    assert (await client.post("/api/clusters", json=body)).status_code == 401
    allowed = await client.post("/api/clusters", json=body, headers={"X-MS-CLIENT-PRINCIPAL": principal(
        "bob", ("team-x",))})
    assert allowed.status_code == 202, allowed.text
    denied = await client.post("/api/clusters", json={**body, "resourceGroup": "rg-y"},
                               headers={"X-MS-CLIENT-PRINCIPAL": principal("bob", ("team-x",))})
    assert denied.status_code == 403
    forged = await client.post("/api/clusters", json=body, headers={"X-MS-CLIENT-PRINCIPAL": "%%%"})
    assert forged.status_code == 401


async def test_openapi_lists_every_route(api):
    client, _ = api
    doc = (await client.get("/api/openapi.json")).json()
    routes = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert {("/api/clusters", "post"), ("/api/plan", "post"), ("/api/operations/{operation_id}", "get"),
            ("/api/clusters", "get"), ("/api/clusters/{subscription_id}/{resource_group}/{name}", "get"),
            ("/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}", "put"),
            ("/api/clusters/{subscription_id}/{resource_group}/{name}/pools/{pool}", "delete"),
            ("/api/clusters/{subscription_id}/{resource_group}/{name}", "delete"), ("/api/health", "get")} <= routes
    assert "ClusterRequestInput" in doc["components"]["schemas"]
    assert (await client.get("/api/docs")).status_code == 200


async def test_twenty_concurrent_pool_additions_are_all_accepted_and_run_in_order(api, armemu, monkeypatch):
    """Issue 15: 20 callers add 20 pools to one cluster at once. Each gets 202 and its own operation; the operations
    run one after another in the order they were accepted (the cluster's queue); ARM ends with the desired pools.
    The node subnet is taken to be a /22, so that capacity (tests/unit/test_capacity.py) is not what is tested."""
    import asyncio
    import ipaddress
    import itertools

    from shared.domain.pool_subnets import ArmVnet

    async def roomy(*_: object) -> ArmVnet:
        return ArmVnet((ipaddress.IPv4Network("10.40.0.0/16"),), {"snet-nodes": ipaddress.IPv4Network("10.40.0.0/22")})

    monkeypatch.setattr("shared.services.clusters.arm_vnet", roomy)

    client, _ = api
    base = f"/api/clusters/{armemu.subscription_id}/rg-shop/shop-prod"
    await wait_op(client, (await client.post("/api/clusters", json=production(make_storage_target(armemu))))
                  .headers["Location"])
    names = [f"q{i:02d}" for i in range(20)]
    answers = await asyncio.gather(*(client.put(f"{base}/pools/{n}", json={"count": 1 + i % 3})
                                     for i, n in enumerate(names)))
    assert [a.status_code for a in answers] == [202] * 20, [a.text for a in answers if a.status_code != 202]
    assert len({a.json()["operationId"] for a in answers}) == 20
    ops = [await wait_op(client, a.headers["Location"], timeout=180) for a in answers]
    assert [op["state"] for op in ops] == ["succeeded"] * 20, [op["error"] for op in ops]
    ran = sorted(ops, key=lambda op: op["startedAt"])
    assert all(a["endedAt"] <= b["startedAt"] for a, b in itertools.pairwise(ran))  # one at a time
    put_order = []
    for r in armemu.requests():
        pool = r["path"].split("?")[0].rsplit("/agentPools/", 1)[-1] if "/agentPools/" in r["path"] else None
        if r["method"] == "PUT" and pool in names and pool not in put_order:
            put_order.append(pool)
    assert put_order == [op["pool"] for op in ran]  # ARM saw them in the order the operations ran
    cluster = await settled(client, base)  # the last operation released: what it applied is recorded
    desired = {p["name"]: p["count"] for p in cluster["pools"]}
    assert [p["name"] for p in cluster["desired"]["userPools"]][-20:] == [op["pool"] for op in ran]
    in_arm = {r["id"].rsplit("/", 1)[1]: arm_get(armemu, r["id"])["properties"]["count"] for r in armemu.inventory(
        "Microsoft.ContainerService/managedClusters/agentPools")}
    assert in_arm == desired and all(p["applied"] for p in cluster["pools"])
    assert cluster["currentOperation"] is None and cluster["queuedOperations"] == []
