"""The cluster-requests queue through the local host: a message provisions like the POST does; a refused one is
reported in the `rejected` table at once, with the refusal as the reason, and not retried."""

from __future__ import annotations

import json
import uuid

import pytest

from local.host.client import SUBSCRIPTION
from tests.e2e.conftest import eventually, put_message, queue_contents, rejected_rows, wait_op
from tests.requests import MINIMAL_PRODUCTION

pytestmark = pytest.mark.e2e


def test_a_message_on_cluster_requests_provisions_like_the_post(api, arm, storage):
    request = {**MINIMAL_PRODUCTION, "name": "queued-e2e", "resourceGroup": "rg-queued"}
    put_message(storage, "cluster-requests", json.dumps(request))
    path = f"/api/clusters/{SUBSCRIPTION}/rg-queued/queued-e2e"
    # The registry row is written before the operation joins it: wait until it names its operation.
    cluster = eventually(lambda: (r := api.get(path)).status_code == 200 and (
        r.json()["currentOperation"] or r.json()["lastOperation"]) and r.json(), timeout=30)
    operation = cluster["currentOperation"] or cluster["lastOperation"]
    op = wait_op(api, f"/api/operations/{operation}")
    assert op["state"] == "succeeded", op["error"]
    assert op["source"] == "queue" and op["kind"] == "create-cluster"
    assert api.get(path).json()["state"] == "ready"
    assert any(r["id"].lower().endswith("/managedclusters/queued-e2e") for r in arm.inventory())


@pytest.mark.parametrize(("body", "reason"), [
    (json.dumps({"name": "-x", "resourceGroup": "rg-q", "location": "mars"}), "InvalidInput"),
    ("this is not JSON", "MalformedJson")], ids=["invalid-request", "not-json"])
def test_a_refused_message_is_reported_with_its_reason_and_not_retried(storage, body, reason):
    body = f"{body} {uuid.uuid4().hex}" if not body.startswith("{") else json.dumps(
        {**json.loads(body), "name": f"-x{uuid.uuid4().hex[:6]}"})
    put_message(storage, "cluster-requests", body)
    row = eventually(lambda: next((r for r in rejected_rows(storage) if r["body"] == body), None), timeout=30)
    assert reason in row["reason"]  # the refusal, recorded at once: not "failed maxDequeueCount deliveries"
    assert not queue_contents(storage, "cluster-requests")  # nothing left behind to retry forever
