"""The ticket webhook use case over fakes: signed deliveries become operations, once; invalid tickets hear why."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.domain import lifecycle
from shared.domain.lifecycle import LifecycleEvent
from shared.domain.request import ClusterRequest
from shared.domain.tickets import BasicCredential, TicketRef, WebhookAuth
from shared.domain.tickets.signatures import generic_signature, hub_signature, servicenow_signature
from shared.engine.records import ClusterRecord
from shared.services.outbox import Outbox
from shared.services.ticket_ledger import TicketLedger
from shared.services.tickets import (
    TicketAccepted,
    TicketIgnoredOutcome,
    TicketInvalid,
    TicketMalformed,
    TicketTooLarge,
    TicketUnauthorized,
    TicketUnchanged,
    TicketUnknownSystem,
    handle_ticket,
    load_mappings,
)
from tests.fakes import FakeClock, FakeStateStore
from tests.requests import SUB

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tickets"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
# Obviously fake secrets, defined here only.
JIRA_SECRET = "fake-jira-secret"
GITHUB_SECRET = "fake-github-secret"
SN_KEY = base64.b64encode(b"fake-servicenow-key").decode()
GENERIC_SECRET = "fake-generic-secret"
SECRETS = {
    "jira": WebhookAuth(hmac_secrets=(JIRA_SECRET,)),
    "github": WebhookAuth(hmac_secrets=(GITHUB_SECRET,)),
    "servicenow": WebhookAuth(hmac_secrets=(SN_KEY,), signature_header="X-SN-Signature",
                              basic_credentials=(BasicCredential("sn-webhook", "fake-sn-password"),)),
    "generic": WebhookAuth(hmac_secrets=(GENERIC_SECRET,)),
}
MAPPINGS = load_mappings()


class FakeEngine:
    """The engine's submit: one operation per idempotency key; with the ticket ledger over a fake table and the
    registry's clusters (`clusters`, set by a test)."""

    def __init__(self) -> None:
        self.operations: dict[str, str] = {}
        self.calls: list[tuple[ClusterRequest, str, TicketRef]] = []
        self.clusters: dict[str, ClusterRecord] = {}
        self.ledger = TicketLedger(FakeStateStore(), self.cluster, FakeClock(NOW))

    async def cluster(self, key: str) -> ClusterRecord | None:
        return self.clusters.get(key)

    async def __call__(self, request: ClusterRequest, idempotency_key: str, ticket_ref: TicketRef) -> str:
        self.calls.append((request, idempotency_key, ticket_ref))
        return self.operations.setdefault(idempotency_key, f"op-{len(self.operations) + 1}")


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[LifecycleEvent] = []

    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        self.events.extend(events)


def example_body(name: str, **changes: Any) -> bytes:
    payload = json.loads((EXAMPLES / name).read_text())
    payload.update(changes)
    return json.dumps(payload).encode()


def signed(system: str, body: bytes, at: datetime = NOW) -> dict[str, str]:
    if system == "jira":
        return {"X-Hub-Signature": hub_signature(JIRA_SECRET, body), "X-Atlassian-Webhook-Identifier": "wh-1"}
    if system == "github":
        return {"X-Hub-Signature-256": hub_signature(GITHUB_SECRET, body), "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    if system == "servicenow":
        return {"X-SN-Signature": servicenow_signature(SN_KEY, body)}
    timestamp = str(int(at.timestamp()))
    return {"X-Aksvend-Timestamp": timestamp, "X-Aksvend-Signature": generic_signature(GENERIC_SECRET, timestamp, body)}


EXAMPLE_OF = {"jira": "jira-issue-created.json", "github": "github-issues-opened.json",
              "servicenow": "servicenow-ritm.json", "generic": "generic-ticket.json"}


async def deliver(system: str, body: bytes, headers: dict[str, str], engine: FakeEngine, publisher: Any,
                  now: datetime = NOW, **kwargs: Any) -> Any:
    return await handle_ticket(system, headers, body, now, secrets=SECRETS, mappings=MAPPINGS, submit=engine,
                               publish=publisher, ledger=engine.ledger, default_subscription_id=SUB, **kwargs)


# --- accepted ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["jira", "github", "servicenow", "generic"])
async def test_a_valid_signed_delivery_starts_one_operation(system: str) -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = example_body(EXAMPLE_OF[system])
    outcome = await deliver(system, body, signed(system, body), engine, publisher)
    assert isinstance(outcome, TicketAccepted)
    assert outcome.status == 202
    assert outcome.operation_id == "op-1"
    assert len(engine.calls) == 1
    request, key, ref = engine.calls[0]
    assert isinstance(request, ClusterRequest)
    assert ref == outcome.ticket_ref and ref.system == system
    assert key == outcome.idempotency_key
    assert publisher.events == []  # the engine publishes `accepted` from its own transition


async def test_the_same_delivery_twice_starts_one_operation() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = example_body(EXAMPLE_OF["jira"])
    first = await deliver("jira", body, signed("jira", body), engine, publisher)
    retry = await deliver("jira", body, {**signed("jira", body), "X-Atlassian-Webhook-Retry": "1"}, engine, publisher)
    assert isinstance(first, TicketAccepted) and isinstance(retry, TicketUnchanged)
    assert first.operation_id == retry.operation_id and retry.status == 200
    assert len(engine.calls) == 1


async def test_servicenow_basic_auth_delivery_is_accepted() -> None:
    engine = FakeEngine()
    body = example_body(EXAMPLE_OF["servicenow"])
    headers = {"Authorization": "Basic " + base64.b64encode(b"sn-webhook:fake-sn-password").decode()}
    assert isinstance(await deliver("servicenow", body, headers, engine, RecordingPublisher()), TicketAccepted)


async def test_warnings_travel_with_an_accepted_ticket() -> None:
    body = example_body(EXAMPLE_OF["servicenow"])
    outcome = await deliver("servicenow", body, signed("servicenow", body), FakeEngine(), RecordingPublisher())
    assert isinstance(outcome, TicketAccepted)
    assert {v.code for v in outcome.warnings} == {"SYSTEM_POOL_MIN_VCPU", "SYSTEM_POOL_SINGLE_NODE"}


# --- refused ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "make_headers"),
    [
        ("jira", lambda body: {"X-Hub-Signature": hub_signature("fake-wrong-secret", body)}),
        ("jira", lambda body: {}),
        ("github", lambda body: {"X-Hub-Signature-256": hub_signature(GITHUB_SECRET, body + b"x")}),
        ("servicenow", lambda body: {"X-SN-Signature": "bm90IGEgbWFj"}),
        ("servicenow", lambda body: {"Authorization": "Basic " + base64.b64encode(b"sn-webhook:guess").decode()}),
        ("generic", lambda body: signed("generic", body, at=NOW - timedelta(minutes=6))),
        ("generic", lambda body: {"X-Aksvend-Signature": generic_signature(GENERIC_SECRET, "0", body)}),
    ],
)
async def test_a_wrong_missing_or_stale_signature_is_401_and_records_nothing(system: str, make_headers: Any) -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = example_body(EXAMPLE_OF[system])
    outcome = await deliver(system, body, make_headers(body), engine, publisher)
    assert isinstance(outcome, TicketUnauthorized)
    assert outcome.status == 401
    assert engine.calls == [] and publisher.events == []
    for secret in (JIRA_SECRET, GITHUB_SECRET, SN_KEY, GENERIC_SECRET, "fake-sn-password"):
        assert secret not in repr(outcome)


async def test_an_invalid_ticket_with_a_bad_signature_is_still_401() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = json.dumps({"ticket": {"id": "C-1", "revision": "1"}, "request": {"name": "Not Valid!"}}).encode()
    outcome = await deliver("generic", body, {"X-Aksvend-Timestamp": "1", "X-Aksvend-Signature": "00"}, engine,
                            publisher)
    assert isinstance(outcome, TicketUnauthorized)
    assert publisher.events == []


async def test_a_system_without_configured_secrets_is_401() -> None:
    body = example_body(EXAMPLE_OF["jira"])
    engine = FakeEngine()
    outcome = await handle_ticket("jira", signed("jira", body), body, NOW, secrets={}, mappings=MAPPINGS,
                                  submit=engine, publish=RecordingPublisher(), ledger=engine.ledger,
                                  default_subscription_id=SUB)
    assert isinstance(outcome, TicketUnauthorized)


async def test_an_unknown_system_is_404() -> None:
    outcome = await deliver("bugzilla", b"{}", {}, FakeEngine(), RecordingPublisher())
    assert isinstance(outcome, TicketUnknownSystem) and outcome.status == 404


async def test_an_oversized_body_is_413_before_anything_else() -> None:
    engine = FakeEngine()
    outcome = await deliver("jira", b"{" + b" " * 2000 + b"}", {}, engine, RecordingPublisher(), max_body_bytes=1000)
    assert outcome == TicketTooLarge(1000)
    assert outcome.status == 413


# --- invalid tickets ----------------------------------------------------------------------------------------------


def invalid_generic_body() -> bytes:
    payload = json.loads((EXAMPLES / EXAMPLE_OF["generic"]).read_text())
    payload["request"]["userPools"][0]["count"] = -1
    payload["request"]["resourceGroup"] = "rg analytics"
    return json.dumps(payload).encode()


async def test_a_ticket_that_maps_to_an_invalid_request_is_422_and_publishes_the_failure() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = invalid_generic_body()
    outcome = await deliver("generic", body, signed("generic", body), engine, publisher)
    assert isinstance(outcome, TicketInvalid)
    assert outcome.status == 422
    assert engine.calls == []
    assert outcome.violations and all(v.path.startswith("/") for v in outcome.violations)
    [event] = publisher.events
    assert event.type == lifecycle.OPERATION_FAILED
    assert event.data["error"]["code"] == "InvalidRequest"
    assert event.data["ticket"] == {"system": "generic", "key": "CHG-2031", "revision": "3",
                                    "url": "https://tickets.example.com/changes/CHG-2031"}
    assert event.extensions == {"ticketsystem": "generic", "ticketkey": "CHG-2031"}
    assert [v["code"] for v in event.data["violations"]] == [v.code for v in outcome.violations]
    assert outcome.published == (event.id,)


async def test_a_ticket_without_a_request_is_422_and_the_ticket_is_told() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    payload = json.loads((EXAMPLES / EXAMPLE_OF["github"]).read_text())
    payload["issue"]["body"] = "Can we get a cluster please?"
    body = json.dumps(payload).encode()
    outcome = await deliver("github", body, signed("github", body), engine, publisher)
    assert isinstance(outcome, TicketInvalid)
    [violation] = outcome.violations
    assert (violation.code, violation.path) == ("TICKET_NO_REQUEST", "/issue/body")
    assert outcome.ticket_ref is not None and outcome.ticket_ref.key == "contoso/platform-requests#17"
    [event] = publisher.events
    assert event.source == "/aksvend/tickets/github"
    assert event.data["violations"][0]["code"] == "TICKET_NO_REQUEST"


async def test_a_retried_invalid_delivery_is_recorded_in_the_outbox_once() -> None:
    outbox = Outbox(FakeStateStore(), clock=FakeClock(NOW))
    body = invalid_generic_body()
    for _ in range(3):
        assert isinstance(await deliver("generic", body, signed("generic", body), FakeEngine(), outbox), TicketInvalid)
    pending = await outbox.pending()
    assert len(pending) == 1
    assert pending[0].source == "/aksvend/tickets/generic"  # "rg analytics" is no name to put in a URI


async def test_the_failure_event_names_the_cluster_when_the_request_does_plainly() -> None:
    publisher = RecordingPublisher()
    payload = json.loads((EXAMPLES / EXAMPLE_OF["generic"]).read_text())
    payload["request"]["userPools"][0]["count"] = -1
    body = json.dumps(payload).encode()
    assert isinstance(await deliver("generic", body, signed("generic", body), FakeEngine(), publisher), TicketInvalid)
    [event] = publisher.events
    assert event.source == f"/aksvend/clusters/{SUB}/rg-analytics-prod/analytics-prod"
    assert event.data["cluster"]["name"] == "analytics-prod"


async def test_a_ticket_without_identity_is_422_without_an_event() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = json.dumps({"request": {"name": "x"}}).encode()
    outcome = await deliver("generic", body, signed("generic", body), engine, publisher)
    assert isinstance(outcome, TicketInvalid)
    assert outcome.ticket_ref is None and publisher.events == []


@pytest.mark.parametrize(("body", "code"), [
    (b"not json", "MalformedJson"), (b"\xff\xfe", "NotUtf8"), (b'{"x": NaN}', "NotFinite"), (b"[" * 50_000, "TooDeep"),
    (b"[" * 1000 + b"]" * 1000, "TooDeep"), (b'{"x": 1e400}', "NotFinite"), (b'{"a": 1, "a": 2}', "DuplicateKey"),
    ('{"a": 1}'.encode("utf-16"), "NotUtf8"), (b'\xef\xbb\xbf{"a": 1}', "NotUtf8"),
    (b'{"a": "\\ud800"}', "MalformedJson")])
async def test_a_body_that_is_not_json_aksvend_reads_is_400_with_the_readers_code(body: bytes, code: str) -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    outcome = await deliver("generic", body, signed("generic", body), engine, publisher)
    assert isinstance(outcome, TicketMalformed) and outcome.status == 400
    assert outcome.code == code
    assert publisher.events == [] and engine.calls == []


async def test_a_github_ping_is_acknowledged_and_ignored() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = example_body("github-ping.json")
    headers = {**signed("github", body), "X-GitHub-Event": "ping"}
    outcome = await deliver("github", body, headers, engine, publisher)
    assert isinstance(outcome, TicketIgnoredOutcome) and outcome.status == 200
    assert engine.calls == [] and publisher.events == []


async def test_a_failing_publisher_propagates_so_the_sender_retries() -> None:
    class DownPublisher:
        async def publish(self, events: Sequence[LifecycleEvent]) -> None:
            raise RuntimeError("storage down")

    body = invalid_generic_body()
    with pytest.raises(RuntimeError):
        await deliver("generic", body, signed("generic", body), FakeEngine(), DownPublisher())
