"""Cost and quota through the HTTP API (docs/cost.md): `/api/plan` shows the estimate and, for a caller who may read
the subscription, the quota the request needs against the emulator's usages; over-budget requests are 422 naming
the pool, whether the budget is the request's or the caller policy's; the operation view shows the estimate."""

from __future__ import annotations

import pytest

from tests.integration.http_harness import api_client, principal_header, wait_op
from tests.integration.test_http_retry import use_easy_auth
from tests.principals import pid

pytestmark = pytest.mark.integration
POLICY = {"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-cost*"],
     "actions": ["create", "change", "delete", "read"]},
    {"principals": [pid("planner")], "subscriptions": ["*"], "resourceGroups": ["rg-cost*"], "actions": ["create"]},
    {"principals": [pid("frugal")], "subscriptions": ["*"], "resourceGroups": ["rg-cost*"],
     "actions": ["create", "read"], "monthlyBudget": 5000}]}
PRODUCTION = {"name": "cost-prod", "resourceGroup": "rg-cost", "location": "westeurope", "profile": "production"}
DEV = {"name": "cost-dev", "resourceGroup": "rg-cost", "location": "westeurope"}


@pytest.fixture
async def client(armemu, azurite_connection_string):
    async with api_client(armemu, azurite_connection_string, POLICY) as (http, _):
        use_easy_auth()  # the caller is each request's principal header
        yield http


def as_(name: str) -> dict:
    return {"X-MS-CLIENT-PRINCIPAL": principal_header(name)}


async def test_the_plan_shows_the_estimate_and_the_quota_to_a_caller_who_may_read(client, armemu):
    armemu.control("PUT", "quota", {"westeurope": {"standardDSv5Family": 16}})
    shown = await client.post("/api/plan", json=PRODUCTION, headers=as_("dev"))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["plan"]["estimate"]["currency"] == "USD" and body["plan"]["estimate"]["monthly"] > 0
    assert body["quota"]["standardDSv5Family"] == {"limit": 16, "used": 0, "needed": 64}
    assert body["quota"]["cores"]["needed"] == 136
    blind = await client.post("/api/plan", json=PRODUCTION, headers=as_("planner"))  # may create, not read
    assert blind.status_code == 200 and "quota" not in blind.json()


async def test_over_budget_is_422_naming_the_pool_for_the_request_and_the_policy_budget(client, armemu):
    own = await client.post("/api/clusters", json={**PRODUCTION, "budget": {"monthlyMax": 10_000}},
                            headers=as_("dev"))
    assert own.status_code == 422, own.text
    [error] = own.json()["errors"]
    assert error["code"] == "BUDGET_EXCEEDED" and error["path"] == "/userPools/1" and "'gpu'" in error["message"]
    policy = await client.post("/api/clusters", json=PRODUCTION, headers=as_("frugal"))
    assert policy.status_code == 422 and "monthlyBudget 5,000.00" in policy.json()["errors"][0]["message"]
    planned = await client.post("/api/plan", json=PRODUCTION, headers=as_("frugal"))
    assert planned.status_code == 422 and planned.json()["errors"][0]["code"] == "BUDGET_EXCEEDED"
    assert armemu.inventory() == []


async def test_the_operation_view_shows_the_estimate(client):
    created = await client.post("/api/clusters", json=DEV, headers=as_("dev"))
    assert created.status_code == 202, created.text
    op = await wait_op(client, created.headers["Location"], headers=as_("dev"))
    assert op["estimate"]["pools"][0]["pool"] == "system" and op["estimate"]["cluster"]["tier"] == "Free"
    assert op["leftBehind"] is None
