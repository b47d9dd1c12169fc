"""Concurrent changes to one cluster queue instead of failing (issue 15): each is applied to the desired request as
it is when accepted, takes the next place in the cluster's queue in the same write, and runs in that order.

Over the in-memory fakes, with a store that yields to the event loop before every call and a registry whose pause
between lost rounds is a bare yield: the interleaving is the event loop's, the same on every run."""

from __future__ import annotations

import asyncio

import pytest

from shared.domain.policy import allow_all
from shared.engine import MAX_QUEUED, sweep
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW, cluster_key
from shared.refusals import InConflict, NotFound
from shared.services.clusters import Clusters
from tests.fakes import FakeArm, drain, engine_over_fakes, state
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION, SUB

KEY = cluster_key(SUB, "rg-shop", "shop-prod")
CALLER = principal("dev")


class Interleaving:
    """The store, yielding to the event loop before every call, so that concurrent changes interleave at each
    read and write."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        async def call(*args, **kwargs):
            await asyncio.sleep(0)
            return await method(*args, **kwargs)

        return call


async def bare_yield(attempt: int) -> None:
    await asyncio.sleep(0)


@pytest.fixture
async def world():
    engine, queue, arm, clock = engine_over_fakes()
    engine.registry.table = Interleaving(engine.registry.table)
    engine.ops = Interleaving(engine.ops)
    engine.registry.pause = bare_yield
    service = Clusters(engine, allow_all(), SUB)
    await service.create(MINIMAL_PRODUCTION, CALLER)
    await drain(engine, queue)
    return engine, queue, arm, clock, service


def arm_pools(arm: FakeArm) -> set[str]:
    """The pools the fake ARM holds: those of the cluster's body (the create) and each agent pool PUT since."""
    cluster = next(r for rid, r in arm.resources.items() if rid.endswith("/managedclusters/shop-prod"))
    inline = {p["name"] for p in cluster["properties"]["agentPoolProfiles"]}
    return inline | {rid.rsplit("/", 1)[1] for rid in arm.resources if "/agentpools/" in rid}


async def test_twenty_concurrent_pool_additions_are_all_accepted_and_applied_in_order(world):
    engine, queue, arm, _, service = world
    vnet = next(r for rid, r in arm.resources.items() if rid.endswith("/virtualnetworks/vnet-shop-prod"))
    nodes = next(s for s in vnet["properties"]["subnets"] if s["name"] == "snet-nodes")
    nodes["properties"]["addressPrefix"] = "10.40.0.0/24"  # room for 20 more pools (the check reads ARM's subnet)
    names = [f"p{i:02d}" for i in range(20)]
    accepted = await asyncio.gather(*(service.put_pool(SUB, "rg-shop", "shop-prod", n, {"count": 1}, CALLER, None)
                                      for n in names))
    assert all(a.created for a in accepted) and len({a.operation_id for a in accepted}) == 20
    cluster = await engine.registry.get(KEY)
    assert sorted(cluster.queue) == sorted(a.operation_id for a in accepted)
    ops = {q: (await engine.ops.get(q, OPERATION_ROW)).entity for q in cluster.queue}
    in_line = [ops[q]["pool"] for q in cluster.queue]
    desired = [p["name"] for p in cluster.request["userPools"]]
    assert sorted(in_line) == names and desired[-20:] == in_line  # the queue's order is the order of acceptance
    for i, q in enumerate(cluster.queue):  # each operation's request holds its change and every one before it
        assert [p["name"] for p in ops[q]["request"]["userPools"]][-(i + 1):] == in_line[:i + 1]
    arm.puts.clear()
    await drain(engine, queue)
    assert [await state(engine, q) for q in cluster.queue] == ["succeeded"] * 20
    assert [rid.rsplit("/", 1)[1] for rid in arm.puts] == in_line  # ARM saw them in the order accepted
    done = await engine.registry.get(KEY)
    assert done.queue == () and done.applied == done.request == cluster.request
    assert arm_pools(arm) == {"system", *desired}


async def test_a_change_accepted_first_runs_first_though_its_submit_finishes_last(world):
    """The worst order: `web` is accepted, then its submit stalls before its operation row while `mem` is accepted
    and fully submitted. `web` holds the place it took when accepted, so it runs first, and the cluster as the last
    operation leaves it is the desired request (with the queue joined separately, `mem` would run first and `web`
    last, leaving `applied` without `mem`)."""
    engine, queue, arm, _, service = world
    stalled, real_batch = asyncio.Event(), engine.ops.inner.insert_batch

    async def stall_web(rows):
        if any(r.get("pool") == "web" for r in rows):
            await stalled.wait()
        return await real_batch(rows)

    engine.ops.inner.insert_batch = stall_web
    web = asyncio.create_task(service.put_pool(SUB, "rg-shop", "shop-prod", "web", {"count": 1}, CALLER, None))
    for _ in range(1000):  # each read yields to the event loop: web's submit runs until it is accepted
        if any(p["name"] == "web" for p in (await engine.registry.get(KEY)).request["userPools"]):
            break
    else:
        raise AssertionError("web was never accepted")
    mem = await service.put_pool(SUB, "rg-shop", "shop-prod", "mem", {"workload": "memory"}, CALLER, None)
    stalled.set()
    first = await web
    assert (await engine.registry.get(KEY)).queue == (first.operation_id, mem.operation_id)
    arm.puts.clear()
    await drain(engine, queue)
    assert [rid.rsplit("/", 1)[1] for rid in arm.puts] == ["web", "mem"]
    done = await engine.registry.get(KEY)
    assert done.applied == done.request and {"web", "mem"} <= arm_pools(arm)


async def test_a_change_that_no_longer_fits_when_accepted_is_refused_with_its_rule_and_leaves_nothing(world):
    engine, _, _, _, service = world
    first, second = await asyncio.gather(
        service.delete_pool(SUB, "rg-shop", "shop-prod", "batch", CALLER, None),
        service.delete_pool(SUB, "rg-shop", "shop-prod", "batch", CALLER, None), return_exceptions=True)
    refusals = [r for r in (first, second) if isinstance(r, Exception)]
    assert len(refusals) == 1 and isinstance(refusals[0], NotFound) and refusals[0].code == "PoolNotFound"
    winner = next(r for r in (first, second) if not isinstance(r, Exception))
    cluster = await engine.registry.get(KEY)
    assert cluster.queue == (winner.operation_id,)
    assert [r.entity["RowKey"] for r in await engine.ops.query_partition(ACTIVE_PARTITION)] == [winner.operation_id]


async def test_a_retry_with_the_same_key_after_other_changes_landed_is_the_same_operation(world):
    engine, _, _, _, service = world
    first = await service.put_pool(SUB, "rg-shop", "shop-prod", "web", {"count": 2}, CALLER, "k-web")
    await service.put_pool(SUB, "rg-shop", "shop-prod", "mem", {"workload": "memory"}, CALLER, None)
    again = await service.put_pool(SUB, "rg-shop", "shop-prod", "web", {"count": 2}, CALLER, "k-web")
    assert again.operation_id == first.operation_id and again.created is False
    assert len((await engine.registry.get(KEY)).queue) == 2


async def test_the_sweeper_frees_the_place_of_a_change_whose_submit_died_before_its_operation_row(world):
    engine, queue, arm, clock, service = world
    real_batch = engine.ops.inner.insert_batch

    async def die(rows):
        raise RuntimeError("the process died here")

    engine.ops.inner.insert_batch = die
    with pytest.raises(RuntimeError):
        await service.put_pool(SUB, "rg-shop", "shop-prod", "ghost", {"count": 1}, CALLER, None)
    engine.ops.inner.insert_batch = real_batch
    behind = await service.put_pool(SUB, "rg-shop", "shop-prod", "web", {"count": 1}, CALLER, None)
    assert len((await engine.registry.get(KEY)).queue) == 2  # held up behind the place of the dead submit
    await drain(engine, queue)
    assert await state(engine, behind.operation_id) == "queued"
    clock.advance(11)
    await sweep(engine)
    await drain(engine, queue)
    assert await state(engine, behind.operation_id) == "succeeded" and "web" in arm_pools(arm)
    assert (await engine.registry.get(KEY)).queue == ()


async def test_a_cluster_takes_at_most_max_queued_operations_and_a_delete_still_fits(world):
    """The attack: 845 pool changes were accepted until the queue no longer fit in its row; from then on every
    change, and the cluster's deletion, was 503."""
    engine, _, _, _, service = world
    record = await engine.registry.get(KEY)
    assert record is not None
    filler = tuple(f"op-{i}" for i in range(MAX_QUEUED - len(record.queue)))
    await engine.registry.change(KEY, lambda c: c.with_(queue=(*c.queue, *filler), request={  # unprotected
        **c.request, "deletionProtection": False}))
    with pytest.raises(InConflict) as busy:
        await service.put_pool(SUB, "rg-shop", "shop-prod", "extra", {"count": 1}, CALLER, None)
    assert busy.value.code == "ClusterBusy"
    deleted = await service.delete_cluster(SUB, "rg-shop", "shop-prod", CALLER, None)
    assert deleted.created and (await engine.registry.get(KEY)).queue[-1] == deleted.operation_id
