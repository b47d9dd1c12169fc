"""Issue 14, tickets: a ticket delivery is acted on once per (system, ticket, requested fields), never by a delivery
older than what was acted on, and never re-creates a cluster deleted after it. Each attack through the HTTP API,
over the webhook stack of test_webhooks.py (Azurite, the ARM emulator, the topic sink)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.integration.test_webhooks import Stack, example, generic_ticket, signed
from tests.integration.test_webhooks import running as running  # the fixtures, re-exported
from tests.integration.test_webhooks import stack as stack

pytestmark = pytest.mark.integration

SYSTEMS = ["jira", "github", "servicenow", "generic"]
LATER = {"jira": "2026-03-01T12:30:00.000+0000", "github": "2026-03-01T12:30:00Z",
         "servicenow": "2026-03-01 12:30:00", "generic": "4"}
EVEN_LATER = {"jira": "2026-03-01T13:00:00.000+0000", "github": "2026-03-01T13:00:00Z",
              "servicenow": "2026-03-01 13:00:00", "generic": "5"}


def delivery(system: str, armemu: Any, *, updated: str | None = None, transition: bool = False,
             **changes: Any) -> bytes:
    """The example delivery of `system`, in the emulator's subscription; `updated`: the ticket's revision (its
    `updated` time); `transition`: a status change as the system sends it, with the requested fields as they were."""
    if system == "generic":
        request = {"name": "tickets-generic", "resourceGroup": "rg-tickets", "location": "westeurope",
                   "profile": "development", **changes}
        body = json.loads(generic_ticket(request, ticket_id="CHG-9", revision=updated or "3"))
        if transition:
            body["ticket"]["status"] = "implementing"
        return json.dumps(body).encode()
    fields: dict[str, Any] = dict(changes)
    if system == "servicenow":
        fields["variables__subscription_id"] = armemu.subscription_id
    if updated is not None:
        fields[{"jira": "issue__fields__updated", "github": "issue__updated_at",
                "servicenow": "sys_updated_on"}[system]] = updated
    if transition and system == "jira":
        fields |= {"webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_generic",
                   "issue__fields__status": {"id": "3", "name": "In Progress",
                                             "statusCategory": {"id": 4, "key": "indeterminate"}}}
    elif transition and system == "github":
        fields |= {"action": "edited", "issue__labels": [{"id": 1, "name": "approved"}]}
    elif transition:
        fields |= {"state": "2", "stage": "fulfillment"}
    return example(system, **fields)


def cluster_url(op: dict[str, Any]) -> str:
    parts = op["cluster"]["id"].split("/")
    return f"/api/clusters/{parts[2]}/{parts[4]}/{parts[-1]}"


async def create(s: Stack, system: str, body: bytes) -> dict[str, Any]:
    response = await s.deliver(system, body, signed(system, body))
    assert response.status_code == 202, response.text
    op = await s.wait_done(response.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    return op


async def api_done(s: Stack, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    op = await s.wait_done(response.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    return op


async def deleted(s: Stack, url: str) -> dict[str, Any]:
    """The cluster deleted through the API: its deletion protection (on for the production profile) turned off by a
    PATCH first."""
    await api_done(s, await s.client.patch(url, json={"deletionProtection": False}))
    return await api_done(s, await s.client.delete(f"{url}?confirm={url.rsplit('/', 1)[1]}"))


def assert_unchanged(response: httpx.Response, operation_id: str | None) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "unchanged" and body["operationId"] == operation_id
    return body


@pytest.mark.parametrize("system", SYSTEMS)
async def test_a_delivery_replayed_after_the_cluster_was_deleted_does_not_recreate_it(running: Stack, armemu: Any,
                                                                                      system: str) -> None:
    body = delivery(system, armemu)
    created = await create(running, system, body)
    url = cluster_url(created)
    deletion = await deleted(running, url)

    replay = await running.deliver(system, body, signed(system, body))  # the captured delivery, as it was
    fresh_id = await running.deliver(system, body, signed(system, body, delivery="a-new-unsigned-id"))
    for response in (replay, fresh_id):
        known = assert_unchanged(response, created["id"])
        assert known["cluster"]["state"] == "deleted"
    # no operation but the deletion (whose row in the active index the worker removes just after it succeeded)
    assert set(await running.active()) <= {deletion["id"]}
    assert (await running.client.get(url)).status_code == 404
    await running.drain()
    assert not running.sink.of_type("aksvend.operation.failed")


@pytest.mark.parametrize("system", ["jira", "github"])
async def test_a_new_unsigned_delivery_id_is_not_a_new_operation(stack: Stack, armemu: Any, system: str) -> None:
    body = delivery(system, armemu)
    first = await stack.deliver(system, body, signed(system, body, delivery="d-1"))
    assert first.status_code == 202, first.text
    for delivery_id in ("d-2", "d-3", "d-4"):
        assert_unchanged(await stack.deliver(system, body, signed(system, body, delivery=delivery_id)),
                         first.json()["operationId"])
    assert await stack.active() == [first.json()["operationId"]]


@pytest.mark.parametrize("system", SYSTEMS)
async def test_a_status_transition_does_not_run_the_create_again(stack: Stack, armemu: Any, system: str) -> None:
    body = delivery(system, armemu)
    first = await stack.deliver(system, body, signed(system, body))
    assert first.status_code == 202, first.text
    moved = delivery(system, armemu, updated=LATER[system], transition=True)
    known = assert_unchanged(await stack.deliver(system, moved, signed(system, moved, delivery="wh-2")),
                             first.json()["operationId"])
    assert known["ticket"]["revision"] == LATER[system]
    assert await stack.active() == [first.json()["operationId"]]
    await stack.drain()
    assert [e["type"] for e in stack.sink.events] == ["aksvend.operation.accepted"]


async def test_after_an_api_change_a_transition_is_a_no_op_not_cluster_name_taken(running: Stack,
                                                                                     armemu: Any) -> None:
    body = delivery("generic", armemu)
    created = await create(running, "generic", body)
    url = cluster_url(created)
    await api_done(running, await running.client.put(f"{url}/pools/apps", json={"count": 3}))

    moved = delivery("generic", armemu, updated=LATER["generic"], transition=True)
    assert_unchanged(await running.deliver("generic", moved, signed("generic", moved)), created["id"])
    assert (await running.client.get(url)).json()["state"] == "ready"
    await running.drain()
    assert not running.sink.of_type("aksvend.operation.failed")


async def test_after_an_api_change_a_jira_status_transition_tells_the_ticket_nothing(stack: Stack,
                                                                                  armemu: Any) -> None:
    body = delivery("jira", armemu)
    first = await stack.deliver("jira", body, signed("jira", body))
    assert first.status_code == 202, first.text
    op = await stack.operation(first.headers["Location"])
    url = cluster_url(op)
    changed = await stack.client.put(f"{url}/pools/apps", json={"count": 6})
    assert changed.status_code == 202, changed.text  # queued behind the create: the desired request changed

    moved = delivery("jira", armemu, updated=LATER["jira"], transition=True)
    assert_unchanged(await stack.deliver("jira", moved, signed("jira", moved, delivery="wh-2")), op["id"])
    assert len(await stack.active()) == 2
    await stack.drain()
    assert not stack.sink.of_type("aksvend.operation.failed")


@pytest.mark.parametrize("system", ["jira", "servicenow", "generic"])
async def test_a_delivery_older_than_the_one_acted_on_is_ignored(stack: Stack, armemu: Any, system: str) -> None:
    newer = delivery(system, armemu, updated=EVEN_LATER[system])
    first = await stack.deliver(system, newer, signed(system, newer))
    assert first.status_code == 202, first.text
    # An earlier edit that asked for something else, delivered late (or replayed): not newer, so not acted on.
    older = delivery(system, armemu, updated=LATER[system], **{"tags": {"owner": "someone-else"}}
                     if system == "generic" else {"issue__fields__customfield_10055": "9999"} if system == "jira"
                     else {"variables__cost_center": "9999"})
    assert_unchanged(await stack.deliver(system, older, signed(system, older, delivery="wh-0")),
                     first.json()["operationId"])
    assert await stack.active() == [first.json()["operationId"]]
    await stack.drain()
    assert not stack.sink.of_type("aksvend.operation.failed")


async def test_a_ticket_edited_after_the_deletion_creates_the_cluster_again(running: Stack, armemu: Any) -> None:
    body = delivery("jira", armemu)
    created = await create(running, "jira", body)
    url = cluster_url(created)
    deletion = await deleted(running, url)
    # An edit written before the deletion (delivered late, or captured and replayed) does not create it again ...
    late = delivery("jira", armemu, updated=LATER["jira"], issue__fields__customfield_10055="4321")
    known = assert_unchanged(await running.deliver("jira", late, signed("jira", late, delivery="wh-2")), created["id"])
    assert known["cluster"]["state"] == "deleted" and "deleted after" in known["reason"]
    assert set(await running.active()) <= {deletion["id"]}  # no new operation
    # ... an edit of what the ticket asks for, written after the deletion, is a new request.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    edited = delivery("jira", armemu, updated=now, issue__fields__customfield_10055="4321")
    again = await running.deliver("jira", edited, signed("jira", edited, delivery="wh-3"))
    assert again.status_code == 202, again.text
    assert again.json()["operationId"] != created["id"]
    op = await running.wait_done(again.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    assert (await running.client.get(url)).json()["state"] == "ready"


async def test_a_refused_edit_replayed_after_the_deletion_does_not_create_the_cluster(running: Stack,
                                                                                      armemu: Any) -> None:
    """The attack: a generic ticket (sequence revisions, which cannot be compared with the deletion's time) edited
    while the cluster existed was refused 409 and not remembered; replayed after the deletion, it created the
    cluster again."""
    created = await create(running, "generic", delivery("generic", armemu, updated="3"))
    url = cluster_url(created)
    v4 = delivery("generic", armemu, updated="4", tags={"owner": "someone-else"})
    assert (await running.deliver("generic", v4, signed("generic", v4))).status_code == 409
    await deleted(running, url)
    replay = await running.deliver("generic", v4, signed("generic", v4, delivery="later"))
    assert_unchanged(replay, None)
