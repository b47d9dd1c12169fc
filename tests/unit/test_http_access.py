"""What a caller may see and do, through function_app's HTTP function over fakes (tests/worker.py):

* an operation is read only by a caller who may read its cluster's subscription and resource group, and one that
  does not exist looks the same as one that is not yours (404): ids are computable (uuid5 of caller and key);
* `/api/plan` needs a caller, as every other route;
* deleting a cluster needs `?confirm=<name>`: `DELETE .../pools/..`, resolved by the client to the cluster's URL,
  or a followed redirect, no longer deletes the cluster.

Before: any caller read any operation, the plan answered anyone, and `DELETE .../pools/..` deleted the cluster.
"""

from __future__ import annotations

import json

import pytest

from tests.worker import SUB, Worker, as_caller, fake_runtime, problem_of

B_CLUSTER = f"/api/clusters/{SUB}/rg-b/shop"
B_REQUEST = {"name": "shop", "resourceGroup": "rg-b", "location": "westeurope", "profile": "development"}
A_REQUEST = {"name": "c1", "resourceGroup": "rg-a", "location": "westeurope", "profile": "development"}


@pytest.fixture
async def worker():
    w = Worker(fake_runtime())
    yield w
    await w.close()


async def submitted(worker: Worker, request: dict, headers: dict[str, str]) -> str:
    response = await worker.request("POST", "/api/clusters", json_body=request, headers=headers)
    assert response.status_code == 202, response.get_body()
    return str(json.loads(response.get_body())["operationId"])


async def test_an_operation_is_read_by_those_who_may_read_its_cluster_and_404_for_everyone_else(worker):
    alices = await submitted(worker, B_REQUEST, as_caller("alice"))  # rg-b
    own = await worker.request("GET", f"/api/operations/{alices}", headers=as_caller("alice"))
    reader = await worker.request("GET", f"/api/operations/{alices}", headers=as_caller("bob"))  # reads rg-b
    assert own.status_code == reader.status_code == 200
    assert json.loads(own.get_body())["id"] == alices
    stranger = await worker.request("GET", f"/api/operations/{alices}")  # dev: rg-a only
    mallory = await worker.request("GET", f"/api/operations/{alices}", headers=as_caller("mallory"))  # no rule
    absent_id = alices[:-4] + ("0000" if not alices.endswith("0000") else "1111")
    absent = await worker.request("GET", f"/api/operations/{absent_id}", headers=as_caller("alice"))
    shapes = []
    for response, op_id in ((stranger, alices), (mallory, alices), (absent, absent_id)):
        problem = problem_of(response)
        assert (response.status_code, problem["code"]) == (404, "OperationNotFound")
        shapes.append({**problem, "detail": problem["detail"].replace(op_id, "<id>"),
                       "instance": problem["instance"].replace(op_id, "<id>")})
    assert shapes[0] == shapes[1] == shapes[2]  # "not yours" says no more than "absent"


async def test_the_plan_needs_a_caller():
    worker = Worker(fake_runtime(), caller=None)  # a request must prove who it is
    try:
        anonymous = await worker.request("POST", "/api/plan", json_body=A_REQUEST)
        forged = await worker.request("POST", "/api/plan", json_body=A_REQUEST, headers={"X-MS-CLIENT-PRINCIPAL": "%"})
        signed_in = await worker.request("POST", "/api/plan", json_body=B_REQUEST, headers=as_caller("alice"))
    finally:
        await worker.close()
    assert (anonymous.status_code, problem_of(anonymous)["code"]) == (401, "Unauthorized")
    assert forged.status_code == 401
    assert signed_in.status_code == 200 and json.loads(signed_in.get_body())["valid"] is True


async def test_the_plan_is_403_where_the_create_would_be(worker):
    """The plan answered 200 valid:true for a resource group the caller may not create in (docs/api.md: the
    policy decides for /api/plan too); now it answers as the create does."""
    for caller, request in (("alice", A_REQUEST), ("bob", B_REQUEST)):  # no rule for rg-a; only `read` on rg-b
        planned = await worker.request("POST", "/api/plan", json_body=request, headers=as_caller(caller))
        created = await worker.request("POST", "/api/clusters", json_body=request, headers=as_caller(caller))
        assert (planned.status_code, problem_of(planned)["code"]) == (403, "Forbidden"), planned.get_body()
        assert problem_of(planned)["detail"] == problem_of(created)["detail"]


async def test_deleting_a_cluster_needs_its_name_in_confirm(worker):
    await submitted(worker, B_REQUEST, as_caller("alice"))
    alice = as_caller("alice")
    for query in ("", "confirm=", "confirm=other", "confirm=SHOP", "confirm=shop%00", "confirm=shop&confirm=x"):
        refused = await worker.request("DELETE", B_CLUSTER, headers=alice, query=query)
        problem = problem_of(refused)
        assert (refused.status_code, problem["code"]) == (400, "ConfirmationRequired"), query
        assert "confirm=shop" in problem["detail"]
    cluster = json.loads((await worker.request("GET", B_CLUSTER, headers=alice)).get_body())
    assert cluster["state"] == "provisioning" and cluster["queuedOperations"] == []  # nothing was queued
    deleted = await worker.request("DELETE", B_CLUSTER, headers=alice, query="confirm=shop")
    assert deleted.status_code == 202, deleted.get_body()
    assert json.loads(deleted.get_body())["operationId"] in json.loads(
        (await worker.request("GET", B_CLUSTER, headers=alice)).get_body())["queuedOperations"]


async def test_delete_pool_dot_dot_never_deletes_the_cluster(worker):
    await submitted(worker, B_REQUEST, as_caller("alice"))
    alice = as_caller("alice")
    for path in (f"{B_CLUSTER}/pools/..", f"{B_CLUSTER}/pools/%2e%2e", f"{B_CLUSTER}/pools/../",
                 f"{B_CLUSTER}/pools/apps/..", f"{B_CLUSTER}/"):
        refused = await worker.request("DELETE", path, headers=alice)
        assert (refused.status_code, problem_of(refused)["code"]) == (400, "InvalidPath"), path
    resolved = await worker.request("DELETE", B_CLUSTER, headers=alice)  # what a client makes of /pools/..
    assert (resolved.status_code, problem_of(resolved)["code"]) == (400, "ConfirmationRequired")
    cluster = json.loads((await worker.request("GET", B_CLUSTER, headers=alice)).get_body())
    assert cluster["queuedOperations"] == [] and cluster["state"] == "provisioning"


async def test_a_caller_without_the_delete_right_is_403_even_when_confirmed(worker):
    await submitted(worker, B_REQUEST, as_caller("alice"))
    refused = await worker.request("DELETE", B_CLUSTER, headers=as_caller("bob"), query="confirm=shop")
    assert (refused.status_code, problem_of(refused)["code"]) == (403, "Forbidden")
