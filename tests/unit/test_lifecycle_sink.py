"""Lifecycle events from the engine's transitions (over fakes): recorded at accept and at the end, in order, with
the ticket, and never lost when recording fails at the wrong moment."""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence

import pytest

from shared.domain.lifecycle import LifecycleEvent
from shared.domain.operation_source import OperationSource
from shared.domain.tickets import TicketRef
from shared.engine import Engine, EngineSettings, submit, sweep
from shared.engine.lifecycle import encode_ticket
from shared.errors import FatalError
from shared.services.outbox import Outbox
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain, state
from tests.requests import valid_request

TICKET = TicketRef("jira", "OPS-42", "2026-03-01T11:58:02.113+0000", "https://jira.example/OPS-42")


class FlakySink:
    """The outbox, but the first recording that contains `fail_on` raises (a storage outage at that moment)."""

    def __init__(self, outbox: Outbox, fail_on: str | None = None) -> None:
        self.outbox, self.fail_on = outbox, fail_on

    async def record(self, events: Sequence[LifecycleEvent]) -> None:
        if self.fail_on and any(e.type == self.fail_on for e in events):
            self.fail_on = None
            raise ConnectionError("table storage unreachable")
        await self.outbox.record(events)


@pytest.fixture
def world():
    clock = FakeClock()
    queue = FakeStepQueue("steps", clock=FakeClock())  # its own time: moving the outbox's clock delivers nothing
    outbox = Outbox(FakeStateStore(), clock)
    sink = FlakySink(outbox)
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=FakeArm(), clock=clock,
                    secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10),
                    rng=random.Random(1), lifecycle=sink)
    return engine, queue, outbox, sink, clock


def kinds(events: Sequence[LifecycleEvent]) -> list[str]:
    return [e.type.removeprefix("aksvend.") for e in events]


async def test_a_ticket_operation_records_accepted_then_provisioned_then_succeeded_with_the_ticket(world):
    engine, queue, outbox, _, _ = world
    op_id = (await submit(engine, "create-cluster", valid_request(), source="ticket:jira",
                          ticket=encode_ticket(TICKET))).operation_id
    assert kinds(await outbox.pending()) == ["operation.accepted"]
    await drain(engine, queue)
    await sweep(engine)
    events = await outbox.pending()
    assert kinds(events) == ["operation.accepted", "cluster.provisioned", "operation.succeeded"]
    assert {e.ticket for e in events} == {TICKET}
    assert {e.data["operationId"] for e in events} == {op_id}
    assert all(e.extensions == {"ticketsystem": "jira", "ticketkey": "OPS-42"} for e in events)


async def test_a_retried_submit_records_accepted_once(world):
    engine, _, outbox, _, _ = world
    await submit(engine, "create-cluster", valid_request())
    await submit(engine, "create-cluster", valid_request())
    assert kinds(await outbox.pending()) == ["operation.accepted"]


async def test_without_a_ticket_events_carry_no_ticket_reference(world):
    engine, queue, outbox, _, _ = world
    await submit(engine, "create-cluster", valid_request())
    await drain(engine, queue)
    assert all(e.ticket is None and not e.extensions for e in await outbox.pending())


async def test_a_failed_operation_records_failed_with_the_arm_code_and_the_target(world):
    engine, queue, outbox, _, _ = world
    request = valid_request()
    cluster_id = (f"/subscriptions/{request.subscription_id}/resourceGroups/rg-shop/providers/"
                  f"Microsoft.ContainerService/managedClusters/shop-prod")
    engine.arm.errors[cluster_id] = [FatalError("QuotaExceeded", "Operation results in exceeding quota")]
    await submit(engine, "create-cluster", request)
    await drain(engine, queue)
    events = await outbox.pending()
    assert kinds(events) == ["operation.accepted", "operation.failed"]
    error = events[-1].data["error"]
    assert error["code"] == "QuotaExceeded" and "quota" in error["message"] and error["target"] == cluster_id


async def test_scaling_a_pool_records_pool_scaled_from_the_applied_count(world):
    engine, queue, outbox, _, _ = world
    request = valid_request()
    await submit(engine, "create-cluster", request)
    await drain(engine, queue)
    raw = request.model_dump(mode="json", by_alias=True)
    before = next(p["count"] for p in raw["userPools"] if p["name"] == "apps")
    scaled = copy.deepcopy(raw)
    next(p for p in scaled["userPools"] if p["name"] == "apps")["count"] = before + 2
    op_id = (await submit(engine, "put-pool", valid_request(scaled), pool="apps")).operation_id
    await drain(engine, queue)
    [event] = [e for e in await outbox.pending() if e.type == "aksvend.pool.scaled"]
    assert event.data == {**event.data, "operationId": op_id, "pool": "apps", "fromCount": before,
                          "toCount": before + 2, "reason": "request"}


async def test_a_spot_fallback_operation_records_pool_scaled_and_spot_replaced(world):
    engine, queue, outbox, _, clock = world
    request = valid_request()
    await submit(engine, "create-cluster", request)
    await drain(engine, queue)
    raw = request.model_dump(mode="json", by_alias=True)
    with_fallback = {**raw, "userPools": [*raw["userPools"], {"name": "batchod", "vmSize": "Standard_D8s_v5",
                                                               "count": 2}]}
    clock.advance(1)  # the outbox orders by recording time: the fake clock must move like a real one
    await submit(engine, "put-pool", valid_request(with_fallback), pool="batchod",
                 source=OperationSource.reaction("spot-fallback", "batch").encode())
    clock.advance(1)
    await drain(engine, queue)
    events = await outbox.pending()
    assert kinds(events)[-4:] == ["operation.accepted", "pool.scaled", "spot.replaced", "operation.succeeded"]
    scaled, replaced = events[-3], events[-2]
    assert (scaled.data["fromCount"], scaled.data["toCount"], scaled.data["reason"]) == (0, 2, "spotEviction")
    assert (replaced.data["spotPool"], replaced.data["fallbackPool"], replaced.data["fallbackCount"]) == (
        "batch", "batchod", 2)


async def test_events_that_could_not_be_recorded_when_the_operation_ended_are_recorded_by_the_sweeper(world):
    engine, queue, outbox, sink, _ = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    sink.fail_on = "aksvend.operation.succeeded"
    with pytest.raises(ConnectionError):
        await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"
    assert kinds(await outbox.pending()) == ["operation.accepted"]
    await sweep(engine)
    assert kinds(await outbox.pending()) == ["operation.accepted", "cluster.provisioned", "operation.succeeded"]
    await sweep(engine)  # released: nothing is recorded again
    assert len(await outbox.entries()) == 3


async def test_an_accepted_event_lost_at_submit_is_recorded_before_the_outcome(world):
    engine, queue, outbox, sink, _ = world
    sink.fail_on = "aksvend.operation.accepted"
    with pytest.raises(ConnectionError):
        await submit(engine, "create-cluster", valid_request())
    await sweep(engine)  # the operation row exists: the sweeper puts it in line and starts it
    await drain(engine, queue)
    assert kinds(await outbox.pending()) == ["operation.accepted", "cluster.provisioned", "operation.succeeded"]
