"""The local host itself, with a small app of every trigger type (tests/e2e/sample_app.py): functions are
discovered from the app object; the Event Grid webhook's handshake and notifications, timers on their NCRONTAB
schedule, queue triggers with real QueueMessages and the poison queue, plain HTTP functions; and a clean stop."""

from __future__ import annotations

import base64
import itertools
import json
import signal
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from azure.storage.queue import QueueClient

from local.host.client import RunningHost, local_host
from local.host.timers import PAST_DUE_SECONDS, Schedule
from local.polling import wait_for
from tests.e2e.conftest import _env, put_message

pytestmark = pytest.mark.e2e
WEBHOOK = "/runtime/webhooks/EventGrid"


@pytest.fixture(scope="module")
def sample(host: RunningHost, storage: str, tmp_path_factory) -> tuple[RunningHost, Path]:
    record = tmp_path_factory.mktemp("sample") / "calls.jsonl"
    record.touch()
    with local_host("--app", "tests.e2e.sample_app:app", "--storage", storage, "--arm-url", host.ready["armUrl"],
                    "--arm-ca", host.ready["armCaCert"], env=_env(AKSVEND_E2E_RECORD=str(record))) as running:
        yield running, record


def calls(record: Path, kind: str) -> list[dict]:
    return [c for c in map(json.loads, record.read_text().splitlines()) if c["kind"] == kind]


def test_functions_are_discovered_from_the_app(sample):
    running, _ = sample
    assert running.ready["functions"] == {"on_event": "eventGridTrigger", "tick": "timerTrigger",
                                          "item": "queueTrigger", "hello": "httpTrigger"}


def test_event_grid_handshake_and_notifications(sample):
    running, record = sample
    with httpx.Client(base_url=running.base_url, timeout=30) as client:
        validation = [{"id": "1", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "subject": "",
                       "data": {"validationCode": "abc-123"}, "dataVersion": "1", "eventTime": "2026-01-01T00:00:00Z"}]
        shake = client.post(f"{WEBHOOK}?functionName=on_event", json=validation,
                            headers={"aeg-event-type": "SubscriptionValidation"})
        assert shake.status_code == 200 and shake.json() == {"validationResponse": "abc-123"}
        events = [{"id": f"e{i}", "eventType": "Demo.Happened", "subject": f"/things/{i}", "data": {"n": i},
                   "dataVersion": "1", "eventTime": "2026-01-01T00:00:00Z", "topic": "/t"} for i in range(3)]
        sent = client.post(f"{WEBHOOK}?functionName=on_event", json=events, headers={"aeg-event-type": "Notification"})
        assert sent.status_code == 202
        got = calls(record, "eventgrid")
        assert [c["id"] for c in got] == ["e0", "e1", "e2"] and got[1]["data"] == {"n": 1}
        assert got[0]["type"] == "Demo.Happened" and got[0]["cls"] == "EventGridEvent"
        cloud = {"specversion": "1.0", "id": "c1", "source": "/s", "type": "Demo.Cloud", "data": {"n": 9}}
        assert client.post(f"{WEBHOOK}?functionName=on_event", json=[cloud],
                           headers={"aeg-event-type": "Notification"}).status_code == 202
        assert calls(record, "eventgrid")[-1]["cls"] == "CloudEvent"
        options = client.options(f"{WEBHOOK}?functionName=on_event", headers={"WebHook-Request-Origin": "eg.test"})
        assert options.headers["WebHook-Allowed-Origin"] == "eg.test"
        failing = [{**events[0], "id": "f", "data": {"fail": True}}]
        assert client.post(f"{WEBHOOK}?functionName=on_event", json=failing,
                           headers={"aeg-event-type": "Notification"}).status_code == 500
        assert client.post(f"{WEBHOOK}?functionName=nope", json=events,
                           headers={"aeg-event-type": "Notification"}).status_code == 404


def test_timers_run_on_their_schedule(sample):
    _, record = sample
    wait_for(lambda: len(calls(record, "timer")) >= 3, timeout=60)
    ticks = calls(record, "timer")
    for before, after in itertools.pairwise(ticks):
        assert after["status"]["Last"] == before["status"]["LastUpdated"]
        # Past due exactly when a run started more than 5 s after its time, which only a stalled machine makes
        # happen: asserting "never past due" would be asserting the machine's load.
        late = datetime.fromisoformat(after["status"]["LastUpdated"]) - datetime.fromisoformat(before["status"]["Next"])
        assert after["past_due"] is (late.total_seconds() > PAST_DUE_SECONDS)


def test_queue_trigger_gets_a_queue_message_and_failures_end_in_poison(sample, storage):
    _, record = sample
    message_id = put_message(storage, "sample-items", "hello")
    got = wait_for(lambda: [c for c in calls(record, "queue") if c["id"] == message_id], timeout=60)
    assert got[0]["body"] == "hello" and got[0]["dequeue_count"] == 1 and got[0]["function"] == "item"
    assert got[0]["inserted"] is True
    failing = put_message(storage, "sample-items", "fail")
    wait_for(lambda: len([c for c in calls(record, "queue") if c["id"] == failing]) == 5, timeout=60)
    with QueueClient.from_connection_string(storage, "sample-items-poison") as poison:
        moved = wait_for(lambda: poison.peek_messages(max_messages=32), timeout=60)
    assert [base64.b64decode(m.content) for m in moved] == [b"fail"]
    assert [c["dequeue_count"] for c in calls(record, "queue") if c["id"] == failing] == [1, 2, 3, 4, 5]


def test_plain_http_functions_are_routed_under_the_prefix(sample):
    running, _ = sample
    response = httpx.get(f"{running.base_url}/api/hello/world?q=1", timeout=10)
    assert response.status_code == 200 and response.json() == {"hello": "world", "q": "1"}
    assert httpx.get(f"{running.base_url}/api/nothing", timeout=10).status_code == 404


def test_sigterm_stops_the_host_and_what_it_started_and_exits_0(host):
    with local_host("--arm-url", host.ready["armUrl"], "--arm-ca", host.ready["armCaCert"], env=_env()) as running:
        azurite_port = int(running.ready["storage"]["queueEndpoint"].rsplit(":", 1)[1].split("/")[0])
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(timeout=20) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{azurite_port}/", timeout=2)


@pytest.mark.parametrize(("expression", "after", "expected"), [
    ("0 */1 * * * *", "2026-01-01T10:00:30", "2026-01-01T10:01:00"),
    ("*/15 * * * * *", "2026-01-01T10:00:14", "2026-01-01T10:00:15"),
    ("0 30 9 * * 1-5", "2026-01-02T10:00:00", "2026-01-05T09:30:00"),  # Friday after 9:30 -> Monday
    ("0 0 0 1 1 *", "2026-06-01T00:00:00", "2027-01-01T00:00:00"),
    ("00:05:00", "2026-01-01T10:00:00", "2026-01-01T10:05:00"),
])
def test_ncrontab_schedules(expression, after, expected):
    from datetime import UTC, datetime

    start = datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert Schedule(expression).next_after(start) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


@pytest.mark.parametrize("expression", ["* * * * *", "0 0 25 * * *", "0 0 * * * MON", "*/0 * * * * *"])
def test_unsupported_schedules_are_refused_with_the_expression(expression):
    with pytest.raises(ValueError, match="timer schedule"):
        Schedule(expression)
