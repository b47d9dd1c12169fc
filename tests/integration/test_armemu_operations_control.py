"""The emulator's control over long-running operations: holding them open, and ending all or one of them now."""

from __future__ import annotations

import pytest
import requests
from azure.core.rest import HttpRequest

pytestmark = pytest.mark.integration

RG = "rg-hold"
CLUSTERS = "Microsoft.ContainerService/managedClusters"


def cluster_body() -> dict:
    return {"location": "westeurope", "properties": {"dnsPrefix": "c", "agentPoolProfiles": [
        {"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 3}]}}


@pytest.fixture
def group(armemu) -> str:
    rg = f"/subscriptions/{armemu.subscription_id}/resourceGroups/{RG}"
    armemu.pipeline().send_request(
        HttpRequest("PUT", f"{armemu.base_url}{rg}?api-version=2025-04-01", json={"location": "westeurope"}))
    armemu.control("PUT", "latency", {f"{CLUSTERS}:create": 0.0})  # due the moment it starts
    return rg


def create(armemu, group: str, name: str) -> tuple[str, str]:
    """PUT a cluster; returns its id and its operation's status URL."""
    cluster_id = f"{group}/providers/{CLUSTERS}/{name}"
    response = armemu.pipeline().send_request(
        HttpRequest("PUT", f"{armemu.base_url}{cluster_id}?api-version=2026-08-01", json=cluster_body()))
    assert response.status_code == 201, response.text()
    return cluster_id, response.headers["Azure-AsyncOperation"]


def status(armemu, url: str) -> str:
    return armemu.pipeline().send_request(HttpRequest("GET", url)).json()["status"]


def test_a_held_operation_stays_in_progress_past_its_due_time_until_it_is_finished(armemu, group):
    assert armemu.control("PUT", "operations/hold", {"hold": True}) == {"held": True, "running": 0}
    cluster_id, url = create(armemu, group, "c1")
    response = armemu.pipeline().send_request(HttpRequest("GET", url))
    assert response.json()["status"] == "InProgress"
    assert response.headers["retry-after-ms"] == "10"  # the full scaled poll interval, not "due now"
    running = armemu.control("GET", "operations")
    assert running["held"] is True and [op["resourceId"] for op in running["value"]] == [cluster_id]
    assert armemu.control("POST", "operations/finish") == {"finished": 1}
    assert status(armemu, url) == "Succeeded"


def test_finishing_one_resource_ends_only_its_operation(armemu, group):
    armemu.control("PUT", "operations/hold", {"hold": True})
    first, first_url = create(armemu, group, "c1")
    _, second_url = create(armemu, group, "c2")
    assert armemu.control("POST", "operations/finish", {"resourceId": first.upper()}) == {"finished": 1}
    assert (status(armemu, first_url), status(armemu, second_url)) == ("Succeeded", "InProgress")
    assert armemu.control("POST", "operations/finish", {"resourceId": first}) == {"finished": 0}


def test_lifting_the_hold_lets_due_operations_end_and_reset_lifts_it_too(armemu, group):
    armemu.control("PUT", "operations/hold", {"hold": True})
    _, url = create(armemu, group, "c1")
    assert status(armemu, url) == "InProgress"
    armemu.control("PUT", "operations/hold", {"hold": False})
    assert status(armemu, url) == "Succeeded"
    armemu.control("PUT", "operations/hold", {"hold": True})
    armemu.control("POST", "reset")
    assert armemu.control("GET", "operations") == {"held": False, "value": []}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("operations/hold", {"hold": "yes"}, "hold"),
    ("operations/hold", [True], "JSON object"),
    ("operations/finish", {"resourceId": 5}, "resourceId"),
])
def test_bad_control_input_is_a_400_that_names_the_field(armemu, path, body, field):
    method = "PUT" if path.endswith("hold") else "POST"
    response = requests.request(method, f"{armemu.base_url}/_emulator/{path}", json=body, verify=armemu.ca_cert,
                                timeout=10)
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]
