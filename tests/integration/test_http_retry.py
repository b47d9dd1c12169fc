"""`POST /api/operations/{id}/retry` through the HTTP API over a real engine (Azurite, the emulator, the SDKs): a
create that failed at the cluster PUT (quota) is retried once the quota is raised, and ends with the exact inventory
without sending the resource group, the VNet or anything else the failed attempt made again."""

from __future__ import annotations

import dataclasses

import pytest

from functions import runtime
from shared.bootstrap import authentication
from shared.config import AuthSettings, Settings
from shared.domain import arm
from shared.domain.rules import check
from tests.integration.engine_harness import (
    creates_per_resource,
    expected_inventory,
    made_by_aksvend,
    make_storage_target,
    production,
)
from tests.integration.http_harness import api_client, principal_header, wait_op
from tests.principals import TENANT, pid

pytestmark = pytest.mark.integration
POLICY = {"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-shop*"],
     "actions": ["create", "change", "delete", "read"]},
    {"principals": [pid("viewer")], "subscriptions": ["*"], "resourceGroups": ["rg-shop*"], "actions": ["read"]}]}
QUOTA_FAMILY = "standardDSv5Family"  # the production profile's VM sizes


def easy_auth(name: str) -> dict[str, str]:
    """Easy Auth's principal header of `name` (see `use_easy_auth`)."""
    return {"X-MS-CLIENT-PRINCIPAL": principal_header(name)}


def use_easy_auth() -> None:
    """From now on the caller is Easy Auth's principal header, not local mode's caller."""
    rt = runtime._runtime
    assert rt is not None
    settings = Settings(default_subscription_id=rt.settings.default_subscription_id, auth=AuthSettings(
        easy_auth=True, tenant_id=TENANT, audiences=("api://aksvend",)))
    runtime.use(dataclasses.replace(rt, settings=settings, authentication=authentication(settings)))


@pytest.fixture
async def api(armemu, azurite_connection_string):
    async with api_client(armemu, azurite_connection_string, POLICY) as (client, _):
        yield client


def writes(log: list[dict], method: str) -> dict[str, int]:
    """How many requests of `method` the emulator answered, by resource path (lower case, no query)."""
    counts: dict[str, int] = {}
    for r in log:
        if r["method"] == method:
            key = r["path"].split("?")[0].lower()
            counts[key] = counts.get(key, 0) + 1
    return counts


async def test_a_create_that_failed_for_quota_is_retried_and_adopts_what_arm_has(api, armemu):
    client = api
    account = make_storage_target(armemu)
    raw = production(account)
    # Another team takes the quota between aksvend's pre-check and the cluster PUT: AKS refuses the PUT, once.
    armemu.set_faults({"rules": [{"resourceType": "Microsoft.ContainerService/managedClusters", "method": "PUT",
                                  "action": "quota", "limit": 1}]})
    created = await client.post("/api/clusters", json=raw)
    failed = await wait_op(client, created.headers["Location"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "ErrCode_InsufficientVCPUQuota", failed
    assert failed["error"]["step"] == "put:cluster"
    # Re-POSTing the same request is the same (failed) operation: idempotency is the same answer.
    same = await client.post("/api/clusters", json=raw)
    assert same.status_code == 202 and same.json()["operationId"] == failed["id"] and same.json()["created"] is False

    armemu.control("PUT", "quota", {"*": {QUOTA_FAMILY: 1000}})  # the cause is fixed
    before = len(armemu.requests())
    retried = await client.post(f"/api/operations/{failed['id']}/retry")
    assert retried.status_code == 202, retried.text
    body = retried.json()
    assert body["retryOf"] == failed["id"] and body["created"] is True and body["operationId"] != failed["id"]
    assert retried.headers["Location"] == f"/api/operations/{body['operationId']}"
    again = await client.post(f"/api/operations/{failed['id']}/retry")
    assert again.status_code == 202 and again.json()["operationId"] == body["operationId"]
    assert again.json()["created"] is False
    op = await wait_op(client, retried.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    assert op["retryOf"] == failed["id"] and op["kind"] == "create-cluster"

    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)
    log = armemu.requests()[before:]
    request, _ = check(raw, default_subscription_id=armemu.subscription_id)
    assert request is not None
    cluster = arm.ids(request)["cluster"].lower()
    succeeded = {s["armId"].lower() for s in failed["steps"] if s["state"] == "succeeded"}
    assert any("/virtualnetworks/" in i for i in succeeded) and any(i.endswith("/resourcegroups/rg-shop")
                                                                     for i in succeeded)
    others = {s["armId"].lower() for s in failed["steps"] if s["state"] != "succeeded"}  # failed, cancelled
    assert cluster in others
    puts, gets = writes(log, "PUT"), writes(log, "GET")
    assert set(puts) == others, puts  # sent again: what had not succeeded (an idempotent PUT); nothing else
    assert all(n == 1 for n in creates_per_resource(armemu).values())  # nothing was created twice
    assert all(gets.get(i, 0) >= 1 for i in succeeded)  # each adopted one after a GET
    adopted = [s for s in op["steps"] if s["armId"].lower() in succeeded]
    assert adopted and all(s["state"] == "succeeded" and s["attempts"] == 0 for s in adopted)
    assert sum(h["kind"] == "adopted" for h in op["history"]) == len(adopted)
    sub = armemu.subscription_id
    assert (await client.get(f"/api/clusters/{sub}/rg-shop/shop-prod")).json()["state"] == "ready"
    not_failed = await client.post(f"/api/operations/{op['id']}/retry")
    assert not_failed.status_code == 409 and not_failed.json()["code"] == "OperationNotFailed"


async def test_retry_refusals_are_problems(api, armemu):
    client = api
    account = make_storage_target(armemu)
    armemu.control("PUT", "quota", {"*": {QUOTA_FAMILY: 8}})
    created = await client.post("/api/clusters", json=production(account))
    failed = await wait_op(client, created.headers["Location"])
    assert failed["state"] == "failed"
    retry = f"/api/operations/{failed['id']}/retry"

    use_easy_auth()
    dev = easy_auth("dev")
    assert (await client.post(retry)).status_code == 401
    forbidden = await client.post(retry, headers=easy_auth("viewer"))  # may read it, may not create
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "Forbidden"
    unknown = await client.post("/api/operations/00000000-0000-4000-8000-000000000000/retry", headers=dev)
    assert unknown.status_code == 404 and unknown.json()["code"] == "OperationNotFound"
    malformed = await client.post("/api/operations/not-a-guid/retry", headers=dev)
    assert malformed.status_code == 400 and malformed.json()["code"] == "InvalidPath"

    sub = armemu.subscription_id
    change = await client.put(f"/api/clusters/{sub}/rg-shop/shop-prod/pools/apps", json={"count": 4}, headers=dev)
    assert change.status_code == 202, change.text
    moved_on = await client.post(retry, headers=dev)  # a change came after the failed create
    assert moved_on.status_code == 409 and moved_on.json()["code"] == "ClusterMovedOn"
    assert moved_on.headers["content-type"] == "application/problem+json"
    ended = await wait_op(client, change.headers["Location"], headers=dev)  # the cluster was never created
    assert ended["state"] == "failed" and ended["error"]["code"] == "ClusterNotCreated"  # unsent, and dropped:
    again = await client.post(retry, headers=dev)  # so the failed create may be retried again
    assert again.status_code == 202, again.text
    assert (await wait_op(client, again.headers["Location"], headers=dev))["state"] == "failed"  # the quota again
