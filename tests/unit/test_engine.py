"""The engine over in-memory fakes: each crash window between two writes is healed by the sweeper or a retry.

The fakes share a contract test with the real adapters (tests/integration/test_storage_contract.py)."""

from __future__ import annotations

import pytest

from shared.domain.operations import steps_for
from shared.engine import (
    ClusterConflict,
    ClusterNotFound,
    IdempotencyConflict,
    poisoned,
    submit,
    sweep,
)
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW
from shared.errors import FatalError, RetryableError
from tests.fakes import drain, engine_over_fakes, state
from tests.requests import MINIMAL_PRODUCTION, SUB, valid_request


@pytest.fixture
def world():
    engine, queue, arm, clock = engine_over_fakes()
    return engine, queue, arm, clock


async def test_an_operation_runs_to_success_and_leaves_the_active_index(world):
    engine, queue, arm, _ = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"
    assert await engine.ops.query_partition(ACTIVE_PARTITION) == []
    assert len(arm.puts) == len(set(arm.puts)) == 7  # one PUT per planned resource (2: maintenance windows)


async def test_the_role_assignment_gets_the_identitys_principal_id(world):
    engine, queue, arm, _ = world
    await submit(engine, "create-cluster", valid_request())
    await drain(engine, queue)
    role = next(r for k, r in arm.resources.items() if "roleassignments" in k)
    assert role["properties"]["principalId"] == "p-1"


async def test_the_same_request_twice_is_the_same_operation(world):
    engine, *_ = world
    first = await submit(engine, "create-cluster", valid_request())
    second = await submit(engine, "create-cluster", valid_request())
    assert first.operation_id == second.operation_id and second.created is False


async def test_an_idempotency_key_reused_with_another_request_is_refused(world):
    engine, *_ = world
    await submit(engine, "create-cluster", valid_request(), idempotency_key="k1")
    other = valid_request({**MINIMAL_PRODUCTION, "name": "other"})
    with pytest.raises(IdempotencyConflict):
        await submit(engine, "create-cluster", other, idempotency_key="k1")


async def test_a_different_request_for_a_taken_cluster_name_is_refused(world):
    engine, *_ = world
    await submit(engine, "create-cluster", valid_request())
    with pytest.raises(ClusterConflict):
        await submit(engine, "create-cluster", valid_request({**MINIMAL_PRODUCTION, "tags": {"x": "y"}}))


async def test_after_the_deletion_a_create_may_ask_for_another_request(world):
    engine, queue, *_ = world
    await submit(engine, "create-cluster", valid_request())
    await drain(engine, queue)
    await submit(engine, "delete-cluster", valid_request())
    await drain(engine, queue)
    other = valid_request({**MINIMAL_PRODUCTION, "tags": {"x": "y"}})
    again = await submit(engine, "create-cluster", other)
    [cluster] = await engine.registry.all()  # the deleted cluster's row, now asking for the new request
    assert cluster.state == "provisioning" and cluster.request["tags"] == {"x": "y"}
    await drain(engine, queue)
    assert await state(engine, again.operation_id) == "succeeded"
    assert [c.state for c in await engine.registry.all()] == ["ready"]


async def test_a_pool_operation_on_an_unknown_cluster_is_refused(world):
    engine, *_ = world
    with pytest.raises(ClusterNotFound):
        await submit(engine, "put-pool", valid_request(), pool="apps")


async def test_a_retryable_error_waits_and_then_succeeds(world):
    engine, queue, arm, clock = world
    request = valid_request()
    vnet = next(s for s in steps_for("create-cluster", request)
                if s.resource_key == "vnet").resource_id
    arm.errors[vnet] = [RetryableError("Throttled", "slow down", delay_seconds=5)]
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "running"  # the retry waits 5 s on the queue, not in the invocation
    clock.advance(6)  # the delayed message becomes visible
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"


async def test_a_fatal_error_fails_the_operation_with_the_code_and_cancels_the_rest(world):
    engine, queue, arm, _ = world
    request = valid_request()
    cluster = next(s for s in steps_for("create-cluster", request) if s.mutates_cluster).resource_id
    arm.errors[cluster] = [FatalError("QuotaExceeded", "not enough vCPU")]
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    op = (await engine.ops.get(op_id, OPERATION_ROW)).entity
    assert op["state"] == "failed" and op["error"]["code"] == "QuotaExceeded"
    assert op["error"]["message"] == "not enough vCPU"
    steps = [r.entity for r in await engine.ops.query_partition(op_id) if r.entity["RowKey"].startswith("step:")]
    assert {s["state"] for s in steps} <= {"succeeded", "failed", "cancelled"}


async def test_a_lost_start_message_is_recovered_by_the_sweeper(world):
    engine, queue, _, _clock = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    for m in await queue.receive(32, 30):  # the start message is lost
        await queue.delete(m)
    report = await sweep(engine)
    assert report.started == 1
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"


async def test_a_crash_after_a_step_succeeded_but_before_its_dependents_were_started_is_healed(world):
    engine, queue, _, _clock = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    advance = engine.advance
    calls = {"n": 0}

    async def crash_once(op):
        calls["n"] += 1
        if calls["n"] == 2:  # the advance after the first step succeeded: the worker dies here
            raise RuntimeError("killed")
        await advance(op)

    engine.advance = crash_once
    with pytest.raises(RuntimeError):
        await drain(engine, queue)
    engine.advance = advance
    await drain(engine, queue)  # whatever messages are left
    await sweep(engine)
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"


async def test_an_operation_that_ended_but_still_heads_its_cluster_queue_is_released_by_the_sweeper(world):
    engine, queue, _, _ = world
    request = valid_request()
    create = (await submit(engine, "create-cluster", request)).operation_id
    scale = (await submit(engine, "put-pool", request, pool="apps")).operation_id
    from shared.engine import finish

    release = finish.release

    async def crash(*_a, **_k):
        raise RuntimeError("killed before release")

    finish.release = crash
    try:
        with pytest.raises(RuntimeError):
            await drain(engine, queue)
    finally:
        finish.release = release
    assert await state(engine, create) == "succeeded" and await state(engine, scale) == "queued"
    await sweep(engine)
    await drain(engine, queue)
    assert await state(engine, scale) == "succeeded"


async def test_a_poisoned_message_past_its_step_deadline_fails_its_operation_with_the_reason(world):
    engine, queue, _, clock = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    await engine.handle((await queue.receive(1, 30))[0].body)  # started: root step ready
    clock.advance(engine.settings.step_deadline_seconds)
    await poisoned(engine, {"op": op_id, "step": "put:resourceGroup"})
    op = (await engine.ops.get(op_id, OPERATION_ROW)).entity
    assert op["state"] == "failed" and op["error"]["code"] == "PoisonMessage"
    assert "5 deliveries" in op["error"]["message"]


async def test_a_message_without_an_operation_id_is_dropped_without_error(world):
    engine, *_ = world
    await engine.handle({"nonsense": True})
    await engine.handle({"op": "does-not-exist", "step": "put:x"})


async def test_a_change_computed_on_a_stale_desired_request_is_refused_and_writes_nothing(world):
    from shared.engine import DesiredStateChanged
    from shared.engine.records import cluster_key
    from shared.services.pool_change import with_pool

    engine, *_ = world
    await submit(engine, "create-cluster", valid_request())
    key = cluster_key(SUB, "rg-shop", "shop-prod")
    base = await engine.registry.get(key)
    today = engine.clock.now().date()
    web = with_pool(dict(base.request), "web", {"count": 1}, default_subscription_id=SUB, today=today)
    mem = with_pool(dict(base.request), "mem", {"workload": "memory"}, default_subscription_id=SUB, today=today)
    await submit(engine, "put-pool", web, pool="web", based_on=base.request_hash)
    with pytest.raises(DesiredStateChanged):
        await submit(engine, "put-pool", mem, pool="mem", based_on=base.request_hash)
    pools = [p["name"] for p in (await engine.registry.get(key)).request["userPools"]]
    assert "web" in pools and "mem" not in pools


async def test_two_concurrent_pool_changes_both_land_in_the_desired_request(world):
    import asyncio

    from shared.domain.policy import allow_all
    from shared.services.clusters import Clusters
    from tests.principals import principal

    class Interleaving:
        """The store, yielding to the event loop before every call, so that two changes interleave."""

        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            method = getattr(self.inner, name)

            async def call(*args, **kwargs):
                await asyncio.sleep(0)
                return await method(*args, **kwargs)

            return call

    engine, *_ = world
    engine.registry.table = Interleaving(engine.registry.table)
    engine.ops = Interleaving(engine.ops)
    service = Clusters(engine, allow_all(), SUB)
    caller = principal("dev")
    await service.create(MINIMAL_PRODUCTION, caller)
    await asyncio.gather(service.put_pool(SUB, "rg-shop", "shop-prod", "web", {"count": 1}, caller, None),
                         service.put_pool(SUB, "rg-shop", "shop-prod", "mem", {"workload": "memory"}, caller, None))
    cluster = await service.cluster(SUB, "rg-shop", "shop-prod", caller)
    assert {"web", "mem"} <= {p["name"] for p in cluster["pools"]}


async def test_one_idempotency_key_with_two_bodies_at_once_changes_the_desired_request_only_with_its_operation(world):
    """Two clients send the same Idempotency-Key with different pool counts at the same moment, in the worst order:
    both pass the "is there an operation?" check, the second body becomes desired, the first operation is written.
    The key is bound to the first body, so the second is refused and the desired request stays the applied one."""
    import asyncio

    from shared.engine import IdempotencyConflict
    from shared.engine.records import cluster_key

    engine, *_ = world
    await submit(engine, "create-cluster", valid_request())
    base = (await engine.registry.get(cluster_key(SUB, "rg-shop", "shop-prod"))).request
    bodies = [valid_request({**base, "userPools": [*base["userPools"], {"name": "web", "vmSize": "Standard_D8s_v5",
                                                                         "count": n}]}) for n in (93, 100)]
    gates, arrived, real_upsert = [asyncio.Event(), asyncio.Event()], [], engine.ops.upsert

    async def gated_upsert(entity):  # the active index, a commit's first write: hold each submit there until told
        if entity["PartitionKey"] == ACTIVE_PARTITION:
            arrived.append(entity)
            await gates[len(arrived) - 1].wait()
        return await real_upsert(entity)

    engine.ops.upsert = gated_upsert
    first = asyncio.create_task(submit(engine, "put-pool", bodies[0], pool="web", idempotency_key="same-key"))
    await _until(lambda: len(arrived) == 1)
    second = asyncio.create_task(submit(engine, "put-pool", bodies[1], pool="web", idempotency_key="same-key"))
    await _until(lambda: len(arrived) == 2 or second.done())
    gates[0].set()
    accepted = await first
    gates[1].set()
    with pytest.raises(IdempotencyConflict):
        await second
    op = (await engine.ops.get(accepted.operation_id, OPERATION_ROW)).entity
    desired = (await engine.registry.get(op["cluster"])).request
    assert desired == op["request"]


async def _until(condition) -> None:
    """Let the other tasks run until the condition holds (they only wait on each other, never on time)."""
    import asyncio

    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the tasks never reached the expected point")


async def test_a_failing_operation_cancels_a_step_another_delivery_moved_on_after_the_load(world):
    """The operation's view must not show steps `ready` for ever after it failed (a new user saw that on the local
    stack): a step made ready by another delivery between the load and the cancel has a new etag; it is read again
    and cancelled."""
    from shared.engine.finish import finish_operation
    from shared.engine.records import STEP_PREFIX, StepRecord

    engine, _, _, clock = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    loaded = await engine.load(op_id)
    waiting = next(s for s in loaded.steps.values() if s.state == "waiting")
    moved = waiting.ready(clock.now(), clock.now())
    await engine.ops.update_if_match(moved.to_entity(), waiting.etag or "*")  # the other delivery's move
    await finish_operation(engine, loaded, {"code": "Boom", "message": "a step failed"})
    row = await engine.ops.get(op_id, STEP_PREFIX + waiting.id)
    assert StepRecord.from_entity(row.entity, row.etag).state == "cancelled"
    rows = [r.entity for r in await engine.ops.query_partition(op_id) if r.entity["RowKey"].startswith(STEP_PREFIX)]
    assert {r["state"] for r in rows} <= {"succeeded", "failed", "cancelled"}
