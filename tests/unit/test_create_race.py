"""The create race (issue 17): a cluster of the create's name that ARM gets after the create was accepted (another
aksvend instance's create, one made in the portal) is never overwritten. The create's first cluster PUT goes with
`If-None-Match: *` (shared/engine/adopt.py `put_once`); ARM's 412 fails the create with `ClusterNameTaken`, and no
cleanup deletes anything. Over the fakes; tests/integration/test_create_race.py runs it on the emulator."""

from __future__ import annotations

import random
from typing import Any

from shared.domain import arm as arm_ids
from shared.domain.policy import allow_all
from shared.engine import Engine, EngineSettings, retry, submit
from shared.engine.cleanup import cleanup_operation_id, wire_cleanup
from shared.errors import FatalError, RetryableError
from shared.services.clusters import Clusters
from shared.services.views import operation_view
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain, state
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION, valid_request

SUB = "00000000-0000-0000-0000-000000000000"


class RecordingArm(FakeArm):
    """The fake ARM, keeping each PUT's `only_new`."""

    def __init__(self) -> None:
        super().__init__()
        self.conditions: list[tuple[str, bool]] = []

    async def put(self, resource_type, resource_id, api_version, body, only_new=False):  # type: ignore[no-untyped-def]
        self.conditions.append((resource_id.rsplit("/", 1)[-1], only_new))
        return await super().put(resource_type, resource_id, api_version, body, only_new)


def _engine() -> tuple[Engine, FakeStepQueue, RecordingArm, FakeClock]:
    clock = FakeClock()
    queue, arm = FakeStepQueue("steps", clock=clock), RecordingArm()
    engine = wire_cleanup(Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=arm,
                                 clock=clock, secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1),
                                 rng=random.Random(1)))
    return engine, queue, arm, clock


FOREIGN: dict[str, Any] = {"location": "westeurope", "tags": {"team": "other"},
                           "properties": {"provisioningState": "Succeeded", "kubernetesVersion": "1.33.2"}}


async def test_a_cluster_that_appears_after_the_check_is_never_overwritten_and_nothing_is_cleaned_up():
    engine, queue, arm, _ = _engine()
    clusters = Clusters(engine, allow_all(), SUB)
    raw = {**MINIMAL_PRODUCTION, "onFailure": "cleanup"}
    accepted = await clusters.create(raw, principal("dev"))  # the check finds no cluster in ARM
    cluster_id = arm_ids.ids(valid_request(raw))["cluster"]
    arm.resources[cluster_id.lower()] = foreign = {**FOREIGN, "id": cluster_id}  # then another instance makes it
    await drain(engine, queue)
    loaded = await engine.load(accepted.operation_id)
    assert loaded is not None and loaded.op.state == "failed"
    assert loaded.op.error is not None and loaded.op.error["code"] == "ClusterNameTaken"
    assert "never overwrites" in loaded.op.error["message"] and loaded.op.error["step"] == "put:cluster"
    assert arm.conditional_refused == [cluster_id] and arm.resources[cluster_id.lower()] is foreign
    assert await engine.load(cleanup_operation_id(accepted.operation_id)) is None  # onFailure cleanup: not run
    ids = arm_ids.ids(valid_request(raw))
    assert {ids["identity"].lower(), ids["vnet"].lower()} <= set(arm.resources)  # kept: likely the other's
    view = operation_view(loaded.op, loaded.steps, loaded.specs)
    assert view["leftBehind"]["onFailure"] == "keep" and view["leftBehind"]["cleanupOperation"] is None
    assert next(s for s in view["steps"] if s["id"] == "put:cluster")["attempts"] == 1


async def test_only_the_creates_first_cluster_put_is_conditional():
    engine, queue, arm, _ = _engine()
    request = valid_request()
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"
    assert [name for name, only_new in arm.conditions if only_new] == [request.name]
    arm.conditions.clear()
    await submit(engine, "put-pool", request, pool=request.user_pools[0].name if request.user_pools else "system")
    await drain(engine, queue)
    assert arm.conditions and not any(only_new for _, only_new in arm.conditions)


async def test_a_cluster_put_sent_again_after_an_attempt_that_may_have_reached_arm_is_not_conditional():
    """A timeout: ARM may have made the cluster from that PUT, which is then this create's own."""
    engine, queue, arm, clock = _engine()
    request = valid_request()
    cluster_id = arm_ids.ids(request)["cluster"]
    arm.errors[cluster_id] = [RetryableError("ArmTimeout", "no answer")]
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    for _ in range(10):
        await drain(engine, queue)
        clock.advance(engine.settings.max_backoff_seconds)
    assert await state(engine, op_id) == "succeeded"
    assert [c for c in arm.conditions if c[0] == request.name] == [(request.name, True), (request.name, False)]


async def test_a_retry_sends_the_cluster_put_unconditionally_only_when_the_failed_create_sent_it():
    for failing, expected in (("vnet", True), ("cluster", False)):
        engine, queue, arm, _ = _engine()
        request = valid_request()
        arm.errors[arm_ids.ids(request)[failing]] = [FatalError("InternalError", "no")]
        failed = (await submit(engine, "create-cluster", request)).operation_id
        await drain(engine, queue)
        assert await state(engine, failed) == "failed"
        arm.conditions.clear()
        again = (await retry(engine, (await engine.load(failed)).op)).operation_id  # type: ignore[union-attr]
        await drain(engine, queue)
        assert await state(engine, again) == "succeeded"
        assert (request.name, expected) in arm.conditions, (failing, arm.conditions)
