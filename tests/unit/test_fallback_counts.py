"""The sweeper reads a spot fallback's node count from ARM before it scales it back (fallback.py `to_read`, `sweep`):
it decides on ARM's count, not on what the request or the history say; a failed read skips the pool this round."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from shared.domain.events import ClusterView, PastReaction, PoolState, ScalePool, sweep
from shared.domain.rules import check
from shared.errors import RetryableError
from tests.fakes import T0
from tests.requests import PAYMENTS, SUB
from tests.unit.test_events_service import CLUSTER_ID, KEY, World, make_world, preempted

FALLBACK_ID = f"{CLUSTER_ID}/agentPools/batchod".lower()


@pytest.fixture
async def world() -> World:
    return await make_world()


async def evicted_long_ago(world: World) -> None:
    """Two evictions made the fallback `batchod` (2 nodes asked for); its cooldown is over."""
    await world.deliver([preempted(0), preempted(1)])
    world.clock.advance(600)


async def nothing_queued(world: World) -> None:
    """The operations on the cluster ran (this world's engine never runs them): its queue is empty."""
    await world.engine.registry.change(KEY, lambda c: c.with_(queue=()))


async def test_the_scale_down_is_read_from_arm_once_per_fallback_and_rests_on_arms_count(world):
    await evicted_long_ago(world)
    world.arm.resources[FALLBACK_ID] = {"properties": {"count": 3}}  # one more than the request says
    reads: list[str] = []
    real_get = world.arm.get

    async def counted(resource_type, resource_id, api_version):
        reads.append(resource_id)
        return await real_get(resource_type, resource_id, api_version)

    world.arm.get = counted  # type: ignore[method-assign]
    assert len((await world.service.sweep(world.clock.now())).scaled_down) == 1
    assert reads == [f"{CLUSTER_ID}/agentPools/batchod"] and (await world.pool("batchod"))["count"] == 0


def test_the_decision_rests_on_arms_count_and_holds_while_a_scale_down_may_be_in_flight():
    request, _ = check(PAYMENTS, default_subscription_id=SUB)
    assert request is not None
    view = ClusterView.from_request(request, observed=[PoolState("batchod", 0)])
    history = [PastReaction(T0, ("s", "1"), "spot-fallback", "batchod", 2, "n1", base=0)]
    later = T0 + timedelta(hours=1)
    (action,) = sweep(view, history, later, {"batchod": 3}).actions
    assert isinstance(action, ScalePool) and action.count == 0 and "from 3 in ARM to 0" in action.reason
    down = [*history, PastReaction(later, None, "fallback-scale-down", "batchod", 0, base=0)]
    busy = dataclasses.replace(view, operation_running=True)
    assert not sweep(busy, down, later, {"batchod": 3}).acts  # the scale-down asked for may still be queued
    assert sweep(view, down, later, {"batchod": 3}).acts  # it ended and ARM still has nodes: again
    assert not sweep(view, history, later, {"batchod": None}).acts  # not read: skipped this round
    assert sweep(view, history, later).acts  # without counts, the history is trusted (2 nodes asked)


async def test_a_pool_arm_shows_empty_is_not_scaled_while_an_operation_may_still_bring_its_nodes(world):
    await evicted_long_ago(world)  # the fallback's create is queued (this world never runs it): ARM has no pool yet
    assert (await world.service.sweep(world.clock.now())).scaled_down == ()
    assert (await world.pool("batchod"))["count"] == 2
    await nothing_queued(world)  # nothing queued, ARM still empty: the request is set to 0, as ARM is
    assert len((await world.service.sweep(world.clock.now())).scaled_down) == 1
    assert (await world.pool("batchod"))["count"] == 0


async def test_a_failed_read_skips_the_pool_this_round_and_the_next_round_decides(world):
    await evicted_long_ago(world)
    await nothing_queued(world)
    world.arm.resources[FALLBACK_ID] = {"properties": {"count": 2}}
    real_get = world.arm.get
    reads: list[str] = []

    async def failing(resource_type, resource_id, api_version):
        reads.append(resource_id)
        raise RetryableError("ServerBusy", "ARM is busy")

    world.arm.get = failing  # type: ignore[method-assign]
    assert (await world.service.sweep(world.clock.now())).scaled_down == ()
    assert reads == [f"{CLUSTER_ID}/agentPools/batchod"] and (await world.pool("batchod"))["count"] == 2
    world.arm.get = real_get  # type: ignore[method-assign]
    world.clock.advance(60)
    assert len((await world.service.sweep(world.clock.now())).scaled_down) == 1
