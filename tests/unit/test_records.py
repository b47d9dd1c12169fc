"""How a step record moves on: each transition returns the next frozen record and leaves the one it came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.engine.records import StepRecord
from shared.errors import FatalError, RetryableError

NOW = datetime(2026, 11, 27, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def test_a_transition_returns_a_new_record_and_keeps_the_old_one_and_its_etag():
    step = StepRecord("op-1", "put:vnet", etag='W/"1"')
    ready = step.ready(LATER, NOW + timedelta(hours=3))
    assert step.state == "waiting" and ready.state == "ready"
    assert ready.lease_until == LATER and ready.etag == 'W/"1"'


def test_a_step_that_began_is_monitored_and_counts_one_attempt_and_forgets_its_last_error():
    step = StepRecord("op-1", "put:vnet", state="ready", last_error={"code": "Throttled", "message": "x"})
    running = step.began("https://poll", "/subscriptions/s/vnet", NOW)
    assert (running.state, running.phase, running.attempts) == ("running", "monitor", 1)
    assert running.poll_url == "https://poll" and running.started_at == NOW and running.last_error is None


def test_a_step_that_began_again_keeps_the_time_it_first_started():
    first = StepRecord("op-1", "put:vnet", state="ready").began(None, "/vnet", NOW)
    again = first.restarted().began(None, "/vnet", LATER)
    assert again.started_at == NOW and again.attempts == 2


def test_a_retried_step_counts_an_attempt_and_keeps_the_error_while_a_failed_poll_does_not():
    step = StepRecord("op-1", "put:vnet", state="running", attempts=1, polls=2)
    retried = step.retried(RetryableError("Throttled", "slow down"))
    polled = step.polled(RetryableError("ConnectionError"))
    assert retried.attempts == 2 and retried.last_error == {"code": "Throttled", "message": "slow down"}
    assert polled.attempts == 1 and polled.polls == 3 and polled.last_error == {"code": "ConnectionError",
                                                                                "message": "ConnectionError"}


def test_a_restarted_step_sends_its_request_again():
    step = StepRecord("op-1", "put:cluster", state="running", phase="monitor", poll_url="https://poll")
    restarted = step.restarted()
    assert restarted.phase == "begin" and restarted.poll_url is None and restarted.state == "running"


def test_every_ending_clears_the_lease_so_the_sweeper_leaves_the_step_alone():
    step = StepRecord("op-1", "put:vnet", state="running", poll_url="https://poll", lease_until=LATER)
    succeeded = step.succeeded(NOW, {"principalId": "p-1"})
    failed = step.failed(NOW, FatalError("QuotaExceeded", "not enough vCPU"))
    cancelled = step.cancelled(NOW)
    assert all(s.lease_until is None and s.ended_at == NOW and s.terminal for s in (succeeded, failed, cancelled))
    assert succeeded.outputs == {"principalId": "p-1"} and succeeded.poll_url is None
    assert failed.last_error == {"code": "QuotaExceeded", "message": "not enough vCPU"}


def test_an_error_kept_in_a_record_is_capped_for_table_storage():
    failed = StepRecord("op-1", "put:vnet").failed(NOW, FatalError("InvalidParameter", "x" * 5000))
    assert failed.last_error is not None and len(failed.last_error["message"]) == 2000
