"""A step's `attempts` in the operation view is the number of times its request went out (or a delivery round was
spent on it): a request that ARM refused for good is one, and an accepted request whose ARM operation failed is not
counted twice when it is sent again."""

from __future__ import annotations

import pytest

from shared.domain.operations import steps_for
from shared.engine import Engine, poisoned, submit
from shared.engine.ports import ArmResult, PollResult
from shared.engine.records import StepRecord
from shared.errors import FatalError
from shared.services.views import operation_view
from tests.fakes import FakeArm, FakeClock, FakeStepQueue, drain, engine_over_fakes, state
from tests.requests import valid_request


class LroArm(FakeArm):
    """ARM whose cluster PUT is accepted with an operation URL; each poll answers what `outcomes` says next."""

    def __init__(self, cluster_id: str, outcomes: list[PollResult]) -> None:
        super().__init__()
        self.cluster_id, self.outcomes = cluster_id, outcomes

    async def put(self, resource_type, resource_id, api_version, body, only_new=False):  # type: ignore[no-untyped-def]
        result = await super().put(resource_type, resource_id, api_version, body, only_new)
        if resource_id == self.cluster_id:
            return ArmResult(201, result.resource, "https://poll/" + str(len(self.puts)), None)
        return result

    async def poll(self, resource_type: str, poll_url: str) -> PollResult:
        return self.outcomes.pop(0) if self.outcomes else PollResult("Succeeded")


def _engine(arm: FakeArm) -> tuple[Engine, FakeStepQueue, FakeClock]:
    engine, queue, arm, clock = engine_over_fakes(arm)
    return engine, queue, clock


def _cluster_step_id(request) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    spec = next(s for s in steps_for("create-cluster", request) if s.mutates_cluster)
    return spec.id, spec.resource_id


async def _view(engine: Engine, op_id: str) -> dict:
    loaded = await engine.load(op_id)
    assert loaded is not None
    return {s["id"]: s for s in operation_view(loaded.op, loaded.steps, loaded.specs)["steps"]}


async def test_a_step_whose_request_arm_refuses_for_good_shows_one_attempt():
    request = valid_request()
    step_id, cluster_id = _cluster_step_id(request)
    arm = FakeArm()
    arm.errors[cluster_id] = [FatalError("InvalidParameter", "bad field")]
    engine, queue, _ = _engine(arm)
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    step = (await _view(engine, op_id))[step_id]
    assert await state(engine, op_id) == "failed"
    assert (step["state"], step["attempts"], step["error"]["code"]) == ("failed", 1, "InvalidParameter")


async def test_a_request_sent_twice_after_its_arm_operation_failed_counts_two_attempts_not_three():
    request = valid_request()
    step_id, cluster_id = _cluster_step_id(request)
    arm = LroArm(cluster_id, [PollResult("Failed", None, "InternalServerError", "try again")])
    engine, queue, clock = _engine(arm)
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    deadline = 60
    while await state(engine, op_id) not in ("succeeded", "failed") and deadline:
        await drain(engine, queue)
        clock.advance(engine.settings.max_backoff_seconds)
        deadline -= 1
    assert await state(engine, op_id) == "succeeded"
    assert arm.puts.count(cluster_id) == 2
    assert (await _view(engine, op_id))[step_id]["attempts"] == 2


async def test_a_step_failed_by_a_poisoned_message_past_its_deadline_counts_that_round():
    engine, queue, _ = _engine(FakeArm())
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    [start] = await queue.receive(1, 30)
    await engine.handle(start.body)
    loaded = await engine.load(op_id)
    assert loaded is not None
    ready = next(s for s in loaded.steps.values() if s.state == "ready")
    past = StepRecord.with_(ready, deadline=engine.clock.now())
    await engine.save_step(past)
    assert await poisoned(engine, {"op": op_id, "step": ready.id}) is None
    step = (await _view(engine, op_id))[ready.id]
    assert (step["state"], step["attempts"], step["error"]["code"]) == ("failed", 1, "PoisonMessage")


@pytest.mark.parametrize("counted, expected", [(False, 2), (True, 1)])
def test_a_retried_step_counts_the_failed_try_unless_it_was_counted_when_arm_accepted_it(counted, expected):
    from shared.errors import RetryableError

    step = StepRecord("op-1", "put:vnet", state="running", attempts=1)
    assert step.retried(RetryableError("Throttled"), counted).attempts == expected
    assert step.tried().attempts == 2
