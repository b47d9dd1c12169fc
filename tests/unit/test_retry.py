"""Retrying a failed operation over the fakes: a new operation linked to the failed one, which adopts what ARM has
(a GET, no PUT, for what the failed attempt completed) and is refused when the cluster moved on."""

from __future__ import annotations

import random

import pytest

import shared.engine.retrying as retrying
from shared.domain.operations import steps_for
from shared.domain.policy import Policy
from shared.engine import Engine, EngineSettings, RetryRefused, retry, retry_id, submit, sweep
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW, OperationRecord, cluster_key
from shared.errors import FatalError
from shared.refusals import InConflict, NotFound, NotPermitted
from shared.services.clusters import Clusters
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain, state
from tests.principals import pid, principal
from tests.requests import SUB, valid_request

KEY = cluster_key(SUB, "rg-shop", "shop-prod")


class CountingArm(FakeArm):
    """FakeArm that also counts GETs by resource id."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.gets: list[str] = []

    async def get(self, resource_type, resource_id, api_version):
        self.gets.append(resource_id)
        return await super().get(resource_type, resource_id, api_version)


@pytest.fixture
def world():
    clock = FakeClock()
    queue = FakeStepQueue("steps", clock=clock)
    arm = CountingArm(clock)
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=arm, clock=clock,
                    secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10),
                    rng=random.Random(1))
    return engine, queue, arm, clock


def cluster_id(request) -> str:
    return next(s for s in steps_for("create-cluster", request) if s.mutates_cluster).resource_id


async def op_of(engine, op_id) -> OperationRecord:
    found = await engine.ops.get(op_id, OPERATION_ROW)
    return OperationRecord.from_entity(found.entity, found.etag)


async def failed_create(engine, queue, arm) -> tuple[str, str]:
    """A create whose cluster PUT failed for quota: its other steps succeeded (or were cancelled)."""
    request = valid_request()
    cluster = cluster_id(request)
    arm.errors[cluster] = [FatalError("QuotaExceeded", "not enough vCPU")]
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "failed"
    return op_id, cluster


def windows(cluster: str) -> list[str]:
    """The production profile's maintenance configurations: steps after the cluster, never made when it failed."""
    return [f"{cluster}/maintenanceConfigurations/{name}"
            for name in ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")]


async def test_a_retry_runs_again_as_a_new_operation_and_adopts_what_arm_has(world):
    engine, queue, arm, _ = world
    failed_id, cluster = await failed_create(engine, queue, arm)
    puts_before = list(arm.puts)
    done = await retry(engine, await op_of(engine, failed_id))
    assert done.created and done.operation_id == retry_id(failed_id) != failed_id
    await drain(engine, queue)
    new = await op_of(engine, done.operation_id)
    assert new.state == "succeeded" and new.retry_of == failed_id and new.kind == "create-cluster"
    assert (await op_of(engine, failed_id)).state == "failed"  # the failed one stays as it ended
    again = arm.puts[len(puts_before):]
    # only the step that failed is sent again, and the steps after it; the others were adopted after a GET
    assert again == [cluster, *windows(cluster)]
    assert set(puts_before) - {cluster} <= set(arm.gets)
    adopted = [r.entity for r in await engine.ops.query_partition(done.operation_id)
               if r.entity["RowKey"].startswith("step:") and r.entity["RowKey"] != "step:put:cluster"
               and not r.entity["RowKey"].startswith("step:put:maintenance:")]
    assert adopted and all(s["state"] == "succeeded" and s["attempts"] == 0 for s in adopted)
    history = await engine.history.read(done.operation_id, newest=100)
    assert sum(t.kind == "adopted" for t in history) == len(adopted)
    assert "retried as" in next(t for t in await engine.history.read(failed_id, newest=100)
                            if t.kind == "retried").message
    registry = await engine.registry.get(KEY)
    assert registry.state == "ready" and registry.last_operation == done.operation_id and registry.queue == ()
    assert await engine.ops.query_partition(ACTIVE_PARTITION) == []


async def test_a_resource_gone_or_never_made_since_the_failure_is_put_again(world):
    engine, queue, arm, _ = world
    failed_id, cluster = await failed_create(engine, queue, arm)
    gone = next(r for r in arm.resources.values() if "virtualnetworks" in r["id"].lower())["id"]
    del arm.resources[gone.lower()]  # deleted outside aksvend after the failure
    puts_before = len(arm.puts)
    await retry(engine, await op_of(engine, failed_id))
    await drain(engine, queue)
    assert sorted(arm.puts[puts_before:]) == sorted([gone, cluster, *windows(cluster)])


async def test_a_resource_someone_changed_since_the_failure_is_put_again_not_adopted_by_name(world):
    """The attack: someone replaced the VNet under the same name after the failure; the retry adopted it (a GET
    saw it Succeeded) and the cluster was built against a network without its subnet."""
    engine, queue, arm, clock = world
    failed_id, cluster = await failed_create(engine, queue, arm)
    clock.advance(60)
    vnet = next(r for r in arm.resources.values() if "virtualnetworks" in r["id"].lower())
    vnet["properties"] = {"addressSpace": {"addressPrefixes": ["192.168.99.0/24"]}, "provisioningState": "Succeeded"}
    vnet["systemData"] = {"lastModifiedAt": clock.now().isoformat()}  # as ARM records the other writer's PUT
    puts_before = len(arm.puts)
    await retry(engine, await op_of(engine, failed_id))
    await drain(engine, queue)
    assert sorted(arm.puts[puts_before:]) == sorted([vnet["id"], cluster, *windows(cluster)])
    assert arm.resources[vnet["id"].lower()]["properties"]["subnets"]  # our body again


async def test_asking_for_the_same_retry_twice_is_one_retry(world):
    engine, queue, arm, _ = world
    failed_id, _ = await failed_create(engine, queue, arm)
    failed = await op_of(engine, failed_id)
    first = await retry(engine, failed)
    second = await retry(engine, failed)
    assert second.operation_id == first.operation_id and not second.created
    await drain(engine, queue)
    third = await retry(engine, failed)  # after it succeeded: still the same answer, nothing new
    assert third.operation_id == first.operation_id and not third.created
    assert await state(engine, first.operation_id) == "succeeded"


async def test_a_retry_that_fails_is_retried_in_its_turn_and_adopts_through_the_chain(world):
    engine, queue, arm, _ = world
    failed_id, cluster = await failed_create(engine, queue, arm)
    arm.errors[cluster] = [FatalError("QuotaExceeded", "still not enough")]
    second = (await retry(engine, await op_of(engine, failed_id))).operation_id
    await drain(engine, queue)
    assert await state(engine, second) == "failed"
    asked_again = await retry(engine, await op_of(engine, failed_id))  # the first one's retry is the second
    assert asked_again.operation_id == second and not asked_again.created
    puts_before = len(arm.puts)
    third = await retry(engine, await op_of(engine, second))
    await drain(engine, queue)
    assert await state(engine, third.operation_id) == "succeeded"
    assert arm.puts[puts_before:] == [cluster, *windows(cluster)]


async def test_only_a_failed_operation_can_be_retried(world):
    engine, queue, _, _ = world
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    with pytest.raises(RetryRefused) as queued:
        await retry(engine, await op_of(engine, op_id))
    await drain(engine, queue)
    with pytest.raises(RetryRefused) as succeeded:
        await retry(engine, await op_of(engine, op_id))
    assert queued.value.code == succeeded.value.code == "OperationNotFailed"
    assert await engine.ops.get(retry_id(op_id), OPERATION_ROW) is None


async def test_a_newer_operation_on_the_cluster_refuses_the_retry(world):
    engine, queue, arm, _ = world
    failed_id, _ = await failed_create(engine, queue, arm)
    newer = (await submit(engine, "put-pool", valid_request(), pool="apps")).operation_id
    with pytest.raises(RetryRefused) as queued:
        await retry(engine, await op_of(engine, failed_id))
    assert queued.value.code == "ClusterMovedOn" and newer in queued.value.detail
    assert await engine.ops.get(retry_id(failed_id), OPERATION_ROW) is None
    await drain(engine, queue)  # the pool change on a cluster never created fails unsent and leaves no trace
    assert (await op_of(engine, newer)).error["code"] == "ClusterNotCreated"
    assert (await retry(engine, await op_of(engine, failed_id))).created  # so the create may be retried again


async def test_a_changed_desired_request_or_a_deleted_cluster_refuses_the_retry(world):
    engine, queue, arm, _ = world
    failed_id, _ = await failed_create(engine, queue, arm)
    failed = await op_of(engine, failed_id)
    original = (await engine.registry.get(KEY)).request_hash
    await engine.registry.change(KEY, lambda c: c.with_(request_hash="another"))  # a change accepted, not committed
    with pytest.raises(RetryRefused) as changed:
        await retry(engine, failed)
    assert changed.value.code == "DesiredRequestChanged"
    await engine.registry.change(KEY, lambda c: c.with_(request_hash=original, state="deleted"))
    with pytest.raises(RetryRefused) as deleted:
        await retry(engine, failed)
    assert deleted.value.code == "ClusterDeleted"


async def test_a_change_accepted_after_the_retry_queues_behind_it(world):
    engine, queue, arm, _ = world
    failed_id, _ = await failed_create(engine, queue, arm)
    done = await retry(engine, await op_of(engine, failed_id))
    change = (await submit(engine, "put-pool", valid_request(), pool="apps")).operation_id
    assert (await engine.registry.get(KEY)).queue == (done.operation_id, change)
    await drain(engine, queue)
    assert await state(engine, done.operation_id) == await state(engine, change) == "succeeded"


async def crash_after_the_claim(engine, failed, monkeypatch) -> None:
    """Ask for the retry and die between its claim on the cluster's queue and its operation row."""
    async def crash(*_args, **_kwargs):
        raise RuntimeError("killed between the claim and the commit")

    with monkeypatch.context() as patched:
        patched.setattr(retrying, "write_operation", crash)
        with pytest.raises(RuntimeError):
            await retry(engine, failed)


async def test_a_claim_whose_operation_never_came_is_dropped_by_the_sweeper(world, monkeypatch):
    engine, queue, arm, clock = world
    failed_id, _ = await failed_create(engine, queue, arm)
    failed = await op_of(engine, failed_id)
    await crash_after_the_claim(engine, failed, monkeypatch)
    claimed = retry_id(failed_id)
    assert (await engine.registry.get(KEY)).queue == (claimed,)
    change = (await submit(engine, "put-pool", valid_request(), pool="apps")).operation_id  # waits behind it
    await sweep(engine)
    assert (await engine.registry.get(KEY)).queue == (claimed, change)  # within the lease: the retry may come back
    clock.advance(11)
    await sweep(engine)
    cluster = await engine.registry.get(KEY)
    assert cluster.queue == (change,) and cluster.last_operation == failed_id  # the claim leaves no trace
    await drain(engine, queue)  # the cluster was never created: the change fails unsent (start_checks.py)
    assert (await op_of(engine, change)).error["code"] == "ClusterNotCreated"


async def test_asking_again_after_a_crash_finishes_the_retry(world, monkeypatch):
    engine, queue, arm, _ = world
    failed_id, _ = await failed_create(engine, queue, arm)
    failed = await op_of(engine, failed_id)
    await crash_after_the_claim(engine, failed, monkeypatch)
    done = await retry(engine, failed)
    assert done.created
    await drain(engine, queue)
    assert await state(engine, done.operation_id) == "succeeded"


# ---- the use case: who may retry ----------------------------------------------------------------------------
async def test_the_use_case_needs_the_operations_own_action_and_hides_what_the_caller_may_not_read(world):
    engine, queue, arm, _ = world
    failed_id, _ = await failed_create(engine, queue, arm)
    policy = Policy.model_validate({"rules": [
        {"principals": [pid("reader")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["read"]},
        {"principals": [pid("changer")], "subscriptions": ["*"], "resourceGroups": ["*"],
         "actions": ["change", "read"]},
        {"principals": [pid("creator")], "subscriptions": ["*"], "resourceGroups": ["*"],
         "actions": ["create", "read"]}]})
    service = Clusters(engine, policy, SUB)
    with pytest.raises(NotFound):
        await service.retry(failed_id, principal("stranger"))
    with pytest.raises(NotFound):
        await service.retry("not-an-id!", principal("creator"))
    for name in ("reader", "changer"):  # a create's retry needs `create`
        with pytest.raises(NotPermitted):
            await service.retry(failed_id, principal(name))
    accepted = await service.retry(failed_id, principal("creator"))
    assert accepted.created and accepted.operation_id == retry_id(failed_id)
    await drain(engine, queue)
    with pytest.raises(InConflict) as refused:
        await service.retry(accepted.operation_id, principal("creator"))
    assert refused.value.code == "OperationNotFailed"


async def test_a_retried_delete_marks_the_cluster_deleting_as_the_delete_did(world):
    """The attack: a retried delete left the cluster `failed` while it ran, so its agent key could be rotated
    (and stayed valid after the deletion)."""
    engine, queue, arm, _ = world
    request = valid_request()
    await submit(engine, "create-cluster", request)
    await drain(engine, queue)
    arm.errors[cluster_id(request)] = [FatalError("Conflict", "a lock on the cluster")]
    deleting = (await submit(engine, "delete-cluster", request)).operation_id
    await drain(engine, queue)
    assert await state(engine, deleting) == "failed"
    key = cluster_key(request.subscription_id, request.resource_group, request.name)
    assert (await engine.registry.get(key)).state != "deleting"
    await retry(engine, await op_of(engine, deleting))
    assert (await engine.registry.get(key)).state == "deleting"
    await drain(engine, queue)
    assert (await engine.registry.get(key)).state == "deleted"


async def test_an_upgrade_of_a_cluster_deleted_outside_aksvend_fails_instead_of_creating_it(world):
    """The attack: an upgrade queued before the cluster was deleted in ARM PUT the whole managed cluster, and the
    cluster existed again."""
    engine, queue, arm, _ = world
    request = valid_request()
    await submit(engine, "create-cluster", request)
    await drain(engine, queue)
    cluster = cluster_id(request)
    del arm.resources[cluster.lower()]  # deleted outside aksvend
    upgraded = request.model_copy(update={"kubernetes_version": "1.34"})
    op_id = (await submit(engine, "upgrade", upgraded)).operation_id
    puts = len(arm.puts)
    await drain(engine, queue)
    assert await state(engine, op_id) == "failed"
    assert (await op_of(engine, op_id)).error["code"] == "ResourceGone"
    assert cluster.lower() not in arm.resources and len(arm.puts) == puts
