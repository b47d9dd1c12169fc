"""Ticketing webhooks in and lifecycle events out, in-process: the ASGI app through httpx, over a real engine
(Azurite, the ARM emulator, the SDKs), the outbox in an Azurite table, and the local topic sink as the topic."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions import runtime
from functions.http_api import app
from local.topic_sink import TopicSink
from shared.adapters.publisher import EventGridPublisher
from shared.adapters.store import AzureTableStateStore
from shared.bootstrap import bootstrap
from shared.config import Settings, TicketSettings, TopicSettings
from shared.domain.policy import Policy
from shared.domain.tickets.signatures import generic_signature, hub_signature, servicenow_signature
from shared.engine.records import ACTIVE_PARTITION
from shared.services.outbox import Outbox, sweep_outbox
from tests.fakes import FakeClock, FakeStateStore
from tests.integration.engine_harness import Harness, harness
from tests.principals import pid

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tickets"
# Obviously fake secrets, defined here only. GitHub holds two at once (a rotation): a new one and the docs' vector.
JIRA_SECRET = "fake-jira-webhook-secret"
GITHUB_SECRET = "fake-github-webhook-secret"
GITHUB_VECTOR_SECRET = "It's a Secret to Everybody"
SN_KEY = base64.b64encode(b"fake-servicenow-hmac-key").decode()
SN_USER, SN_PASSWORD = "sn-webhook", "fake-servicenow-password"
GENERIC_SECRET = "fake-generic-webhook-secret"
ENV = {
    "AKSVEND_WEBHOOK_SECRET_JIRA": JIRA_SECRET,
    "AKSVEND_WEBHOOK_SECRET_GITHUB": f"{GITHUB_SECRET},\n{GITHUB_VECTOR_SECRET}",
    "AKSVEND_WEBHOOK_SECRET_SERVICENOW": SN_KEY,
    "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER": "X-SN-Signature",
    "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER": SN_USER,
    "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD": SN_PASSWORD,
    "AKSVEND_WEBHOOK_SECRET_GENERIC": GENERIC_SECRET,
}
ALL_SECRETS = (JIRA_SECRET, GITHUB_SECRET, GITHUB_VECTOR_SECRET, SN_KEY, SN_PASSWORD, GENERIC_SECRET)
# Ticketing systems are callers like any other: they may create clusters in rg-* groups only.
POLICY = {"rules": [{"services": [f"webhook:{s}" for s in ("jira", "github", "servicenow", "generic")],
                     "subscriptions": ["*"], "resourceGroups": ["rg-*"], "actions": ["create", "read"]},
                    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["read"]},
                    # The local caller changes and deletes clusters through the API (tests/integration/
                    # test_ticket_replays.py): what a ticket delivery must not undo.
                    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-*"],
                     "actions": ["change", "delete"]}]}
EXAMPLE_OF = {"jira": "jira-issue-created.json", "github": "github-issues-opened.json",
              "servicenow": "servicenow-ritm.json", "generic": "generic-ticket.json"}


@dataclass
class Stack:
    client: httpx.AsyncClient
    h: Harness
    outbox: Outbox
    outbox_clock: FakeClock
    publisher: EventGridPublisher
    sink: TopicSink

    async def deliver(self, system: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(f"/api/webhooks/{system}", content=body,
                                      headers={"Content-Type": "application/json", **headers})

    async def drain(self) -> Any:
        return await sweep_outbox(self.outbox, self.publisher)  # what the sweeper timer calls

    async def active(self) -> list[str]:
        return [v.entity["RowKey"] for v in await self.h.engine.ops.query_partition(ACTIVE_PARTITION)]

    async def operation(self, location: str) -> dict[str, Any]:
        response = await self.client.get(location)
        assert response.status_code == 200, response.text
        return response.json()

    async def wait_done(self, location: str, timeout: float = 60.0) -> dict[str, Any]:
        op_id = location.rsplit("/", 1)[1]
        done = await self.h.wait_done(op_id, timeout)
        return {**await self.operation(location), "error": done.get("error")}


@contextlib.asynccontextmanager
async def open_stack(armemu: Any, connection_string: str, sink: TopicSink, *, run: bool) -> AsyncIterator[Stack]:
    async with contextlib.AsyncExitStack() as stack:
        clock = FakeClock.real()  # the outbox's: real time, which a test moves past a retry backoff
        table = await stack.enter_async_context(AzureTableStateStore.from_connection_string(
            connection_string, f"outbox{uuid.uuid4().hex[:8]}"))
        outbox = Outbox(table, clock, random=lambda: 0.0)
        h = await stack.enter_async_context(harness(armemu, connection_string, run=run, lifecycle=outbox))
        topic = TopicSettings.from_env({"AKSVEND_EVENTS_TOPIC_ENDPOINT": sink.endpoint,
                                        "AKSVEND_EVENTS_TOPIC_KEY": sink.key})
        assert topic.auth == "key"
        # No SDK retries: the outbox is the retry loop, and a test should see each failure at once.
        publisher = await stack.enter_async_context(EventGridPublisher.with_key(topic.endpoint or "", topic.key or "",
                                                                  retry_total=0))
        settings = Settings(default_subscription_id=armemu.subscription_id, local=True, local_caller=pid("dev"),
                            tickets=TicketSettings.from_env(ENV))
        runtime.use(bootstrap(settings, h.engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                              policy=Policy.model_validate(POLICY), publisher=publisher))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://aksvend.test") as client:
                yield Stack(client, h, outbox, clock, publisher, sink)
        finally:
            runtime.use(None)


@pytest.fixture
async def stack(armemu, azurite_connection_string, topic_sink) -> AsyncIterator[Stack]:
    """Deliveries are accepted and recorded; nothing runs them (operations stay queued)."""
    async with open_stack(armemu, azurite_connection_string, topic_sink, run=False) as s:
        yield s


@pytest.fixture
async def running(armemu, azurite_connection_string, topic_sink) -> AsyncIterator[Stack]:
    """The same, with the queue runner and the sweeper provisioning against the emulator."""
    async with open_stack(armemu, azurite_connection_string, topic_sink, run=True) as s:
        yield s


# --- deliveries, as each system sends them ----------------------------------------------------------------------


def example(system: str, **changes: Any) -> bytes:
    payload = json.loads((EXAMPLES / EXAMPLE_OF[system]).read_text())
    for path, value in changes.items():
        node = payload
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return json.dumps(payload).encode()


def signed(system: str, body: bytes, *, at: float | None = None, delivery: str = "wh-1") -> dict[str, str]:
    if system == "jira":
        return {"X-Hub-Signature": hub_signature(JIRA_SECRET, body), "X-Atlassian-Webhook-Identifier": delivery}
    if system == "github":
        return {"X-Hub-Signature-256": hub_signature(GITHUB_SECRET, body), "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": delivery}
    if system == "servicenow":
        return {"X-SN-Signature": servicenow_signature(SN_KEY, body)}
    timestamp = str(int(time.time() if at is None else at))
    return {"X-Aksvend-Timestamp": timestamp,
            "X-Aksvend-Signature": generic_signature(GENERIC_SECRET, timestamp, body)}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def generic_ticket(request: dict[str, Any], ticket_id: str = "CHG-7", revision: str = "1") -> bytes:
    return json.dumps({"ticket": {"id": ticket_id, "revision": revision,
                                  "url": f"https://tickets.example.com/changes/{ticket_id}"},
                       "request": request}).encode()


def dev_request(name: str = "tickets-dev") -> dict[str, Any]:
    return {"name": name, "resourceGroup": "rg-tickets", "location": "westeurope", "profile": "development"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert not any(secret in response.text for secret in ALL_SECRETS)
    return body


# --- in ------------------------------------------------------------------------------------------------------------


async def test_the_github_test_vector_passes_the_signature_check_over_http(stack: Stack) -> None:
    body = b"Hello, World!"
    vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert hub_signature(GITHUB_VECTOR_SECRET, body) == vector
    # Authenticated (the second of the two configured secrets), then refused because the body is not a ticket.
    passed = await stack.deliver("github", body, {"X-Hub-Signature-256": vector, "X-GitHub-Event": "issues"})
    assert_problem(passed, 400, "MalformedJson")
    wrong = await stack.deliver("github", body, {"X-Hub-Signature-256": vector[:-1] + "0"})
    assert_problem(wrong, 401, "InvalidSignature")


@pytest.mark.parametrize("system", ["jira", "github", "servicenow", "generic"])
async def test_a_valid_delivery_from_each_system_starts_one_operation(stack: Stack, system: str) -> None:
    body = example(system)
    response = await stack.deliver(system, body, signed(system, body))
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == f"/api/operations/{response.json()['operationId']}" and int(response.headers["Retry-After"])
    assert response.json()["ticket"]["system"] == system
    op = await stack.operation(location)
    assert op["kind"] == "create-cluster" and op["source"] == f"ticket:{system}"
    assert op["ticket"]["key"] == response.json()["ticket"]["key"]
    assert await stack.active() == [response.json()["operationId"]]

    report = await stack.drain()
    assert (report.sent, report.pending) == (1, 0)
    [accepted] = stack.sink.events
    assert accepted["type"] == "aksvend.operation.accepted"
    assert accepted["data"]["operationId"] == response.json()["operationId"]
    assert (accepted["ticketsystem"], accepted["ticketkey"]) == (system, response.json()["ticket"]["key"])


async def test_servicenow_with_http_basic_instead_of_a_mac_starts_one_operation(stack: Stack) -> None:
    response = await stack.deliver("servicenow", example("servicenow"), basic(SN_USER, SN_PASSWORD))
    assert response.status_code == 202, response.text
    assert len(await stack.active()) == 1


@pytest.mark.parametrize("system", ["jira", "github", "servicenow", "generic"])
async def test_the_same_delivery_twice_starts_one_operation(stack: Stack, system: str) -> None:
    body = example(system)
    first = await stack.deliver(system, body, signed(system, body))
    retry = await stack.deliver(system, body, {**signed(system, body), "X-Atlassian-Webhook-Retry": "1"})
    assert (first.status_code, retry.status_code) == (202, 200), (first.text, retry.text)
    assert retry.json()["status"] == "unchanged"  # acted on once: the retry is told what is known
    assert first.json()["operationId"] == retry.json()["operationId"]
    assert len(await stack.active()) == 1
    await stack.drain()
    assert [e["type"] for e in stack.sink.events] == ["aksvend.operation.accepted"]


def _wrong_secret(system: str, body: bytes) -> dict[str, str]:
    if system == "servicenow":
        return {"X-SN-Signature": servicenow_signature(base64.b64encode(b"not-the-key").decode(), body)}
    if system == "generic":
        ts = str(int(time.time()))
        return {"X-Aksvend-Timestamp": ts, "X-Aksvend-Signature": generic_signature("not-the-secret", ts, body)}
    header = "X-Hub-Signature" if system == "jira" else "X-Hub-Signature-256"
    return {header: hub_signature("not-the-secret", body), "X-GitHub-Event": "issues"}


@pytest.mark.parametrize(("system", "make_headers"), [
    ("jira", _wrong_secret),
    ("github", _wrong_secret),
    ("servicenow", _wrong_secret),
    ("generic", _wrong_secret),
    ("jira", lambda s, b: {}),
    ("github", lambda s, b: {"X-Hub-Signature": hub_signature(GITHUB_SECRET, b), "X-GitHub-Event": "issues"}),
    ("servicenow", lambda s, b: basic(SN_USER, "not-the-password")),
    ("generic", lambda s, b: signed("generic", b, at=time.time() - 301)),  # stale: outside the 5-minute window
    ("generic", lambda s, b: signed("generic", b, at=time.time() + 301)),  # from the future
    ("jira", lambda s, b: {"X-Hub-Signature": hub_signature(JIRA_SECRET, b + b" ")}),  # over another body
], ids=["jira-wrong", "github-wrong", "servicenow-wrong", "generic-wrong", "jira-missing",
        "github-jira-header", "servicenow-basic-wrong", "generic-stale", "generic-future", "jira-other-body"])
async def test_a_wrong_missing_or_stale_signature_is_401_and_records_nothing(stack: Stack, system: str,
                                                                            make_headers: Any) -> None:
    body = example(system)
    response = await stack.deliver(system, body, make_headers(system, body))
    assert_problem(response, 401, "InvalidSignature")
    assert await stack.active() == []
    assert await stack.h.engine.registry.all() == []
    assert await stack.outbox.entries() == []


async def test_an_invalid_ticket_is_422_and_the_failure_event_reaches_the_topic(stack: Stack) -> None:
    body = generic_ticket({**dev_request(), "location": "mars", "systemPool": {"count": 0}})
    response = await stack.deliver("generic", body, signed("generic", body))
    paths = {e["path"] for e in assert_problem(response, 422, "InvalidRequest")["errors"]}
    assert {"/location", "/systemPool/count"} <= paths
    assert await stack.active() == []
    assert stack.sink.events == []  # recorded, not yet sent: the sweeper sends it

    await stack.drain()
    [failed] = stack.sink.events
    assert failed["type"] == "aksvend.operation.failed"
    assert failed["data"]["error"]["code"] == "InvalidRequest" and failed["data"]["operationId"] is None
    assert {v["path"] for v in failed["data"]["violations"]} == paths
    assert (failed["ticketsystem"], failed["ticketkey"]) == ("generic", "CHG-7")
    assert failed["source"].endswith("/rg-tickets/tickets-dev")


async def test_a_ticket_without_a_request_is_422_and_is_told_where_to_put_one(stack: Stack) -> None:
    body = example("github", issue__body="Please give us a cluster, thanks!")
    response = await stack.deliver("github", body, signed("github", body))
    [error] = assert_problem(response, 422, "InvalidRequest")["errors"]
    assert error["code"] == "TICKET_NO_REQUEST" and error["path"] == "/issue/body"
    await stack.drain()
    assert [e["data"]["error"]["code"] for e in stack.sink.events] == ["InvalidRequest"]


async def test_a_ticket_the_caller_policy_refuses_is_403_and_the_ticket_is_told(stack: Stack) -> None:
    body = generic_ticket({**dev_request(), "resourceGroup": "platform-core"})
    response = await stack.deliver("generic", body, signed("generic", body))
    assert_problem(response, 403, "Forbidden")
    assert await stack.active() == []
    await stack.drain()
    [failed] = stack.sink.events
    assert failed["data"]["error"]["code"] == "Forbidden" and "webhook:generic" in failed["data"]["error"]["message"]


async def test_a_github_ping_is_acknowledged_and_ignored(stack: Stack) -> None:
    body = (EXAMPLES / "github-ping.json").read_bytes()
    response = await stack.deliver("github", body, {**signed("github", body), "X-GitHub-Event": "ping"})
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert await stack.active() == [] and await stack.outbox.entries() == []


async def test_an_unknown_system_is_404_and_an_oversized_body_413(stack: Stack) -> None:
    assert_problem(await stack.deliver("gitlab", b"{}", {}), 404, "UnknownTicketSystem")
    big = b"{" + b" " * (1024 * 1024) + b"}"
    assert_problem(await stack.deliver("jira", big, signed("jira", big)), 413, "PayloadTooLarge")


async def test_the_route_is_in_the_openapi_document(stack: Stack) -> None:
    doc = (await stack.client.get("/api/openapi.json")).json()
    assert "post" in doc["paths"]["/api/webhooks/{system}"]


# --- out -----------------------------------------------------------------------------------------------------------


def types(sink: TopicSink) -> list[str]:
    return [e["type"].removeprefix("aksvend.") for e in sink.events]


async def test_a_provisioning_run_publishes_accepted_then_succeeded_with_the_ticket(running: Stack) -> None:
    body = generic_ticket(dev_request())
    response = await running.deliver("generic", body, signed("generic", body))
    assert response.status_code == 202, response.text
    op = await running.wait_done(response.headers["Location"])
    assert op["state"] == "succeeded", op["error"]

    await running.drain()
    assert types(running.sink) == ["operation.accepted", "cluster.provisioned", "operation.succeeded"]
    assert all(e["ticketkey"] == "CHG-7" and e["data"]["ticket"]["revision"] == "1" for e in running.sink.events)
    assert {e["data"]["operationId"] for e in running.sink.events} == {op["id"]}
    provisioned = running.sink.of_type("aksvend.cluster.provisioned")[0]["data"]
    assert [p["name"] for p in provisioned["pools"]] == ["system", "apps"]
    await running.drain()
    assert len(running.sink.events) == 3  # each once, however often the sweeper comes by


async def test_a_failing_run_publishes_failed_with_the_arm_code(running: Stack, armemu: Any) -> None:
    # AKS refuses the cluster PUT for quota (the race the pre-check cannot see: docs/cost.md, "Quota").
    armemu.set_faults({"rules": [{"resourceType": "Microsoft.ContainerService/managedClusters", "method": "PUT",
                                  "action": "quota"}]})
    body = generic_ticket(dev_request("tickets-quota"))
    response = await running.deliver("generic", body, signed("generic", body))
    op = await running.wait_done(response.headers["Location"])
    assert op["state"] == "failed" and op["error"]["code"] == "ErrCode_InsufficientVCPUQuota"

    await running.drain()
    assert types(running.sink) == ["operation.accepted", "operation.failed"]
    failed = running.sink.of_type("aksvend.operation.failed")[0]
    assert failed["data"]["error"]["code"] == "ErrCode_InsufficientVCPUQuota"
    assert "quota" in failed["data"]["error"]["message"].lower()
    assert failed["data"]["error"]["target"].endswith("/managedClusters/tickets-quota")
    assert failed["ticketkey"] == "CHG-7"


@pytest.mark.parametrize("outage", ["stopped", "503"])
async def test_with_the_topic_down_the_events_arrive_once_it_is_back_each_once(running: Stack, outage: str) -> None:
    if outage == "stopped":
        await running.sink.stop()
    else:
        running.sink.fail_with(503)
    invalid = generic_ticket({**dev_request(), "location": "mars"}, ticket_id="CHG-8")
    assert (await running.deliver("generic", invalid, signed("generic", invalid))).status_code == 422
    body = generic_ticket(dev_request())
    response = await running.deliver("generic", body, signed("generic", body))
    op = await running.wait_done(response.headers["Location"])
    assert op["state"] == "succeeded", op["error"]

    down = await running.drain()
    assert (down.sent, down.pending) == (0, 4)
    again = await running.drain()  # backing off: nothing is tried before its time
    assert (again.sent, again.pending) == (0, 4)
    assert running.sink.events == []

    if outage == "stopped":
        await running.sink.start()
    else:
        running.sink.fail_with(None)
    running.outbox_clock.advance(600)  # past the backoff
    back = await running.drain()
    assert (back.sent, back.pending, back.dead) == (4, 0, 0)
    assert types(running.sink) == ["operation.failed", "operation.accepted", "cluster.provisioned",
                                   "operation.succeeded"]
    ids = [e["id"] for e in running.sink.events]
    assert len(set(ids)) == 4
    await running.drain()
    assert [e["id"] for e in running.sink.events] == ids  # each once
