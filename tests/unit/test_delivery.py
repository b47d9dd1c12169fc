"""A step message's delivery through storage faults, the poison queue, and a begin whose request is in flight."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

from shared.engine import Engine, EngineSettings, deliver, poisoned, submit
from shared.engine.delivery import MAX_DEQUEUE_COUNT, RETRIES, SINCE
from shared.engine.ports import ArmResult, PollResult
from shared.engine.records import OPERATION_ROW, StepRecord
from shared.errors import RetryableError
from shared.services.rejected import RejectedMessages, step_poisoned
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain, state
from tests.requests import valid_request

ROOT = Path(__file__).resolve().parents[2]
RG = "put:resourceGroup"


class FailingStore(FakeStateStore):
    """A state store that answers 503 ServerBusy to every call while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def __getattribute__(self, name: str):
        attr = super().__getattribute__(name)
        if name in ("get", "query_partition", "update_if_match", "upsert", "insert", "insert_batch",
                    "get_many", "upsert_batch", "delete_if_match") and super().__getattribute__("down"):
            async def refused(*_a, **_k):
                raise RetryableError("ServerBusy", "The server is busy", None)
            return refused
        return attr


class FailingQueue(FakeStepQueue):
    down = False

    async def send(self, message, visibility_timeout: float = 0) -> None:
        if self.down:
            raise RetryableError("ConnectionError", "connection refused")
        await super().send(message, visibility_timeout)


@pytest.fixture
def world():
    clock = FakeClock()
    queue = FailingQueue("steps", clock=clock)
    ops = FailingStore()
    engine = Engine(operations=ops, clusters=FakeStateStore(), queue=queue, arm=FakeArm(), clock=clock,
                    secrets=FakeSecrets(), rng=random.Random(1),
                    settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10, step_deadline_seconds=600))
    return engine, queue, ops, clock


async def _started(engine: Engine, queue: FakeStepQueue) -> str:
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    [start] = await queue.receive(1, 30)
    await engine.handle(start.body)
    await queue.delete(start)
    return op_id


async def test_a_storage_fault_sends_the_message_again_later_instead_of_raising(world):
    engine, queue, ops, clock = world
    op_id = await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    ops.down, trouble = True, clock.now()
    await deliver(engine, message.body)  # no raise: the host completes it, its delivery count is not spent
    await queue.delete(message)
    assert await queue.receive(1, 30) == []  # delayed by the backoff
    clock.advance(engine.settings.storage_backoff_cap_seconds)
    [again] = await queue.receive(1, 30)
    assert again.body[RETRIES] == 1 and again.body[SINCE] == trouble.isoformat() and again.dequeue_count == 1
    await deliver(engine, again.body)  # still down: the count grows, the start of the trouble stays
    await queue.delete(again)
    clock.advance(engine.settings.storage_backoff_cap_seconds)
    [third] = await queue.receive(1, 30)
    assert third.body[RETRIES] == 2 and third.body[SINCE] == again.body[SINCE]
    ops.down = False
    await deliver(engine, third.body)
    await queue.delete(third)
    clock.advance(60)
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"


async def test_when_the_queue_is_down_too_the_storage_error_is_raised_and_the_message_comes_back(world):
    engine, queue, ops, _ = world
    await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    ops.down, queue.down = True, True
    with pytest.raises(RetryableError, match="ServerBusy"):
        await deliver(engine, message.body)


async def test_storage_trouble_longer_than_a_step_deadline_is_raised(world):
    engine, queue, ops, clock = world
    await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    ops.down = True
    old = {**message.body, RETRIES: 9, SINCE: clock.now().isoformat()}
    clock.advance(engine.settings.step_deadline_seconds + 1)
    with pytest.raises(RetryableError):
        await deliver(engine, old)


async def _step(engine: Engine, op_id: str, step_id: str = RG) -> StepRecord:
    loaded = await engine.load(op_id)
    assert loaded is not None
    return loaded.steps[step_id]


async def test_a_poisoned_step_that_can_go_on_is_retried_not_failed(world):
    engine, queue, _, clock = world
    op_id = await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    await queue.delete(message)
    assert await poisoned(engine, message.body) is None
    step = await _step(engine, op_id)
    assert await state(engine, op_id) == "running"
    assert step.attempts == 1 and step.last_error["code"] == "PoisonMessage"
    assert f"{MAX_DEQUEUE_COUNT} deliveries" in step.last_error["message"]
    clock.advance(engine.settings.max_backoff_seconds)
    await drain(engine, queue)  # the retry was sent: the step goes on and the operation ends
    assert await state(engine, op_id) == "succeeded"


async def test_a_poisoned_step_past_its_deadline_fails_its_operation_with_the_reason(world):
    engine, queue, _, clock = world
    op_id = await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    clock.advance(engine.settings.step_deadline_seconds + 1)
    await poisoned(engine, message.body)
    op = (await engine.ops.get(op_id, OPERATION_ROW)).entity
    assert op["state"] == "failed" and op["error"]["code"] == "PoisonMessage"
    assert "5 deliveries (host.json maxDequeueCount)" in op["error"]["message"]


async def test_a_poisoned_message_naming_no_operation_is_recorded_as_rejected_with_why(world):
    engine, _, _, clock = world
    rejected = RejectedMessages(FakeStateStore(), clock)
    await step_poisoned(engine, rejected, "m1", b"not json")
    await step_poisoned(engine, rejected, "m2", json.dumps({"op": "nope", "step": RG}).encode())
    rows = {r["RowKey"]: r["reason"] for r in await rejected.list("provisioning-steps")}
    assert rows == {"m1": "poisoned on provisioning-steps: the message is not a JSON object",
                    "m2": "poisoned on provisioning-steps: operation nope does not exist"}


async def test_a_poisoned_message_met_by_a_storage_fault_goes_back_to_the_steps_queue(world):
    engine, queue, ops, clock = world
    op_id = await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    await queue.delete(message)
    ops.down = True
    await step_poisoned(engine, RejectedMessages(FakeStateStore(), clock), "m", json.dumps(message.body).encode())
    clock.advance(engine.settings.lease_seconds)
    [back] = await queue.receive(1, 30)
    assert back.body == message.body
    ops.down = False
    await queue.delete(back)
    await engine.handle(back.body)
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"


def test_the_poison_text_counts_the_deliveries_host_json_allows():
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["queues"]["maxDequeueCount"] == MAX_DEQUEUE_COUNT


async def test_a_begin_whose_request_is_in_flight_is_not_sent_again_before_its_lease_ends(world):
    engine, queue, _, clock = world
    op_id = await _started(engine, queue)
    [first] = await queue.receive(1, 30)
    loaded = await engine.load(op_id)
    step = loaded.steps[RG]
    claimed = await engine.save_step(step.sending(clock.now() + timedelta(seconds=10)))
    assert claimed is not None  # as a delivery whose PUT is still on its way to ARM leaves it
    await engine.handle(first.body)  # a second delivery of the same step
    await queue.delete(first)
    assert engine.arm.puts == []  # not sent again
    assert await queue.receive(1, 30) == []  # it comes back when the lease ends
    clock.advance(10)
    [later] = await queue.receive(1, 30)
    await queue.delete(later)
    await engine.handle(later.body)  # the lease has passed (the first delivery died): sent now, once
    assert [p for p in engine.arm.puts if "resourceGroups" in p] and len(engine.arm.puts) == 1
    assert (await _step(engine, op_id)).sending_until is None


async def test_a_poison_message_leaves_a_step_whose_request_is_in_flight_alone(world):
    """The attack: a poison-queue message for a step whose PUT was on its way cleared its in-flight lease, and a
    second PUT went out while the first one's answer was still to come."""
    engine, queue, _, clock = world
    op_id = await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    await queue.delete(message)
    step = await engine.save_step((await _step(engine, op_id)).sending(clock.now() + timedelta(seconds=10)))
    assert step is not None
    await poisoned(engine, message.body)
    after = await _step(engine, op_id)
    assert after.sending_until == step.sending_until and after.attempts == 0 and engine.arm.puts == []
    assert await queue.receive(1, 30) == []  # it comes back when the lease ends, not before
    clock.advance(10)
    assert [m.body["step"] for m in await queue.receive(1, 30)] == [RG]


async def test_a_trouble_start_in_the_future_cannot_defer_the_deadline(world):
    engine, queue, ops, clock = world
    await _started(engine, queue)
    [message] = await queue.receive(1, 30)
    await queue.delete(message)
    ops.down = True
    forged = {**message.body, RETRIES: 3, SINCE: "9999-01-01T00:00:00+00:00"}
    sent = clock.now()
    await deliver(engine, forged)  # sent again, counted from now
    clock.advance(engine.settings.storage_backoff_cap_seconds)
    [again] = await queue.receive(1, 30)
    assert again.body[SINCE] == sent.isoformat()
    clock.advance(engine.settings.step_deadline_seconds)
    with pytest.raises(RetryableError):
        await deliver(engine, again.body)


class PollingArm(FakeArm):
    """ARM whose resource-group PUT runs on for `polls` polls (a long-running operation), counting the polls."""

    def __init__(self, polls: int) -> None:
        super().__init__()
        self.left, self.polls = polls, 0

    async def put(self, resource_type, resource_id, api_version, body, only_new=False):
        done = await super().put(resource_type, resource_id, api_version, body, only_new)
        return ArmResult(201, done.resource, "https://arm.test/poll", None) if "resourceGroups" in resource_id \
            and "/providers/" not in resource_id else done

    async def poll(self, resource_type, poll_url):
        self.polls += 1
        self.left -= 1
        return PollResult("InProgress" if self.left > 0 else "Succeeded")


async def test_copies_of_a_poll_message_merge_instead_of_multiplying_the_polls(world):
    """The attack: duplicate step messages of a monitored step (a redelivery after a crash, a resend) never merged:
    with 20 copies, ARM was polled about 20 times as often until the step ended."""
    engine, queue, _, clock = world
    engine.arm = PollingArm(polls=10)
    op_id = await _started(engine, queue)
    [begin] = await queue.receive(1, 30)
    await queue.delete(begin)
    await engine.handle(begin.body)  # the PUT; the step now polls
    [poll] = await queue.receive(1, 30) or [None]
    if poll is None:
        clock.advance(engine.settings.poll_interval_seconds)
        [poll] = await queue.receive(1, 30)
    assert "lease" in poll.body
    for _ in range(20):  # 20 copies of the same poll message
        await queue.send(poll.body)
    await queue.delete(poll)
    await engine.handle(poll.body)
    for _ in range(100):  # each round: what is visible, then the poll interval passes
        await drain(engine, queue)
        if await state(engine, op_id) == "succeeded":
            break
        clock.advance(engine.settings.poll_interval_seconds)
    assert await state(engine, op_id) == "succeeded"
    assert engine.arm.polls == 10  # the copies were dropped once the step moved on
