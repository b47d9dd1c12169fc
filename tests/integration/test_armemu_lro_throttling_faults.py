"""Long-running operation headers, throttling and fault injection of the ARM emulator, seen through azure-core."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

pytestmark = pytest.mark.integration

RG = "rg-lro"
POOLS = "Microsoft.ContainerService/managedClusters/agentPools"
GROUPS = "Microsoft.Resources/resourceGroups"


def small_cluster(count: int = 3) -> dict:
    return {
        "location": "westeurope",
        "properties": {
            "dnsPrefix": "c1",
            "agentPoolProfiles": [{"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": count}],
        },
    }


@pytest.fixture
def group(armemu) -> str:
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": "westeurope"})
    return f"/subscriptions/{armemu.subscription_id}/resourceGroups/{RG}"


def put_raw(armemu, resource_id: str, body: dict, api_version: str):
    request = HttpRequest("PUT", f"{armemu.base_url}{resource_id}?api-version={api_version}", json=body)
    return armemu.pipeline().send_request(request)


def test_lro_put_answers_201_with_azure_async_operation_and_an_integer_retry_after(armemu, group):
    armemu.set(retryAfter="seconds")
    cluster_id = f"{group}/providers/Microsoft.ContainerService/managedClusters/c1"
    response = put_raw(armemu, cluster_id, small_cluster(), "2026-08-01")
    assert response.status_code == 201
    assert (
        "/providers/Microsoft.ContainerService/locations/westeurope/operations/"
        in response.headers["Azure-AsyncOperation"]
    )
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["properties"]["provisioningState"] == "Creating"
    status = armemu.pipeline().send_request(HttpRequest("GET", response.headers["Azure-AsyncOperation"])).json()
    assert status["status"] in ("InProgress", "Succeeded") and status["startTime"]


def test_no_retry_after_mode_is_real_aks_and_clients_use_their_own_interval(armemu, group):
    armemu.set(retryAfter="none")
    response = put_raw(
        armemu, f"{group}/providers/Microsoft.ContainerService/managedClusters/c1", small_cluster(), "2026-08-01"
    )
    assert "Retry-After" not in response.headers and "retry-after-ms" not in response.headers
    client = armemu.client(ContainerServiceClient, polling_interval=0.01)
    poller = client.managed_clusters.begin_create_or_update(RG, "c2", small_cluster())
    assert poller.result().properties.provisioning_state == "Succeeded"


def test_delete_answers_202_with_location_and_async_operation_then_204_when_gone(armemu, group):
    client = armemu.client(ContainerServiceClient)
    client.managed_clusters.begin_create_or_update(RG, "c1", small_cluster()).result()
    cluster_id = f"{group}/providers/Microsoft.ContainerService/managedClusters/c1"
    response = armemu.pipeline().send_request(
        HttpRequest("DELETE", f"{armemu.base_url}{cluster_id}?api-version=2026-08-01")
    )
    assert response.status_code == 202
    assert "/operationresults/" in response.headers["Location"]
    assert "/operations/" in response.headers["Azure-AsyncOperation"]
    armemu.control("POST", "operations/finish")
    again = armemu.pipeline().send_request(
        HttpRequest("DELETE", f"{armemu.base_url}{cluster_id}?api-version=2026-08-01")
    )
    assert again.status_code == 204


def test_a_429_is_retried_by_azure_core_after_retry_after(armemu, group):
    armemu.set(retryAfter="seconds")
    armemu.set_faults(
        {
            "rules": [
                {
                    "method": "GET",
                    "resourceType": GROUPS,
                    "action": "status",
                    "status": 429,
                    "retryAfter": 1,
                    "limit": 1,
                }
            ]
        }
    )
    assert armemu.client(ResourceManagementClient).resource_groups.get(RG).name == RG
    gets = [r for r in armemu.requests() if r["method"] == "GET" and r["resourceType"] == GROUPS]
    assert [r["status"] for r in gets] == [429, 200]
    assert gets[1]["time"] - gets[0]["time"] >= 0.9


def test_the_aks_get_bucket_throttles_and_the_sdk_waits_it_out(armemu, group):
    client = armemu.client(ContainerServiceClient)
    client.managed_clusters.begin_create_or_update(RG, "c1", small_cluster()).result()
    armemu.set(timeFactor=1.0, retryAfter="seconds")
    headers = []
    for _ in range(61):  # GET ManagedCluster: 60 burst, 1 per second
        client.managed_clusters.get(RG, "c1", cls=lambda raw, _body, _h: headers.append(raw.http_response.headers))
    assert len(headers) == 61, "every GET ends 200: azure-core retried each 429 after its Retry-After"
    assert armemu.counters()["byStatus"].get("429", 0) >= 1
    assert int(headers[0]["x-ms-ratelimit-remaining-subscription-reads"]) > 0


def test_throttling_can_be_turned_off(armemu, group):
    armemu.set(timeFactor=1.0, throttling=False)
    client = armemu.client(ResourceManagementClient)
    for _ in range(260):  # more than the ARM read burst of 250
        client.resource_groups.get(RG)
    assert "429" not in armemu.counters()["byStatus"]


def fault_pattern(armemu, seed: int) -> list[int]:
    armemu.control("POST", "reset")
    armemu.set(seed=seed)
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": "westeurope"})
    armemu.set_faults(
        {
            "seed": seed,
            "rules": [{"method": "GET", "resourceType": GROUPS, "action": "status", "status": 500, "rate": 0.5}],
        }
    )
    client = armemu.client(ResourceManagementClient, retry_total=0)
    statuses = []
    for _ in range(24):
        try:
            client.resource_groups.get(RG)
            statuses.append(200)
        except HttpResponseError as error:
            statuses.append(error.status_code)
    return statuses


def test_the_same_seed_gives_the_same_faults(armemu):
    first = fault_pattern(armemu, seed=7)
    assert 500 in first and 200 in first
    assert fault_pattern(armemu, seed=7) == first
    assert fault_pattern(armemu, seed=8) != first


def test_a_failed_long_running_operation_reports_the_given_arm_code(armemu, group):
    client = armemu.client(ContainerServiceClient)
    client.managed_clusters.begin_create_or_update(RG, "c1", small_cluster()).result()
    armemu.set_faults(
        {
            "rules": [
                {
                    "method": "PUT",
                    "resourceType": POOLS,
                    "action": "lro-fail",
                    "code": "ReconcileVMSSAgentPoolFailed",
                    "message": "VMSS reconcile failed",
                }
            ]
        }
    )
    poller = client.agent_pools.begin_create_or_update(
        RG, "c1", "apps", {"properties": {"mode": "User", "vmSize": "Standard_D4s_v5", "count": 1}}
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert "ReconcileVMSSAgentPoolFailed" in str(caught.value)
    assert client.agent_pools.get(RG, "c1", "apps").properties.provisioning_state == "Failed"


def test_connection_resets_are_retried_and_a_reset_after_the_work_leaves_it_done(armemu):
    armemu.set_faults(
        {
            "rules": [
                {
                    "name": "drop-after",
                    "method": "PUT",
                    "resourceType": GROUPS,
                    "action": "reset",
                    "phase": "after",
                    "limit": 1,
                },
                {"name": "drop-before", "method": "GET", "resourceType": GROUPS, "action": "reset", "limit": 1},
            ]
        }
    )
    client = armemu.client(ResourceManagementClient, retry_backoff_factor=0.01)
    client.resource_groups.create_or_update("rg-reset", {"location": "westeurope"})
    assert client.resource_groups.get("rg-reset").name == "rg-reset"
    log = [r for r in armemu.requests() if r["resourceType"] == GROUPS]
    assert [(r["method"], r.get("fault")) for r in log] == [
        ("PUT", "drop-after"),
        ("PUT", None),
        ("GET", "drop-before"),
        ("GET", None),
    ]
    assert log[1]["status"] == 200  # the retried PUT found the group the dropped one had created


def test_a_background_operation_conflict_gets_409_operation_not_allowed(armemu, group):
    client = armemu.client(ContainerServiceClient)
    client.managed_clusters.begin_create_or_update(RG, "c1", small_cluster()).result()
    armemu.set_faults(
        {
            "rules": [
                {
                    "resourceType": POOLS,
                    "method": "PUT",
                    "action": "conflict",
                    "runningOperation": "Upgrading",
                    "limit": 1,
                }
            ]
        }
    )
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_create_or_update(
            RG, "c1", "apps", {"properties": {"mode": "User", "vmSize": "Standard_D4s_v5"}}
        )
    assert caught.value.status_code == 409 and caught.value.error.code == "OperationNotAllowed"
    assert "there's an in progress upgrade managed cluster operation (operation ID: " in caught.value.error.message


def test_quota_is_counted_per_family_and_exceeding_it_is_refused_as_aks_does(armemu, group):
    armemu.control("PUT", "quota", {"westeurope": {"standardDSv5Family": 16}})
    client = armemu.client(ContainerServiceClient)
    client.managed_clusters.begin_create_or_update(RG, "c1", small_cluster(count=3)).result()
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_create_or_update(
            RG, "c1", "apps", {"properties": {"mode": "User", "vmSize": "Standard_D4s_v5", "count": 2}}
        )
    assert caught.value.status_code == 400 and caught.value.error.code == "ErrCode_InsufficientVCPUQuota"
    assert caught.value.error.message == (
        "Insufficient vcpu quota requested 8, remaining 4 for family standardDSv5Family for region westeurope.")
    usage_url = (
        f"{armemu.base_url}/subscriptions/{armemu.subscription_id}/providers/Microsoft.Compute/locations/"
        "westeurope/usages?api-version=2024-07-01"
    )
    usages = armemu.pipeline().send_request(HttpRequest("GET", usage_url)).json()["value"]
    dsv5 = next(u for u in usages if u["name"]["value"] == "standardDSv5Family")
    assert (dsv5["currentValue"], dsv5["limit"]) == (12, 16)
    armemu.set_faults({"rules": [{"resourceType": POOLS, "method": "PUT", "action": "quota", "limit": 1}]})
    with pytest.raises(HttpResponseError) as caught:
        client.agent_pools.begin_create_or_update(
            RG, "c1", "tiny", {"properties": {"mode": "User", "vmSize": "Standard_D2s_v5"}}
        )
    assert caught.value.error.code == "ErrCode_InsufficientVCPUQuota"
    assert caught.value.error.message.startswith("Insufficient regional vcpu quota left for location")
