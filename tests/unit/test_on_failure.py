"""`onFailure` (shared/engine/cleanup.py; docs/cost.md, "Quota"): a create that fails anyway keeps what it made for a
retry (`keep`, the default) or deletes it (`cleanup`); either way its operation view says what was made."""

from __future__ import annotations

import random

import pytest

from shared.domain import arm as arm_ids
from shared.domain.policy import allow_all
from shared.engine import Engine, EngineSettings, submit
from shared.engine.cleanup import CLEANUP_SOURCE, cleanup_operation_id, wire_cleanup
from shared.errors import FatalError
from shared.refusals import InConflict
from shared.services.clusters import Clusters
from shared.services.views import operation_view
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain, state
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION, valid_request
from tests.unit.test_engine import world  # noqa: F401 (the fixture)

CALLER = principal("dev")
SUB = "00000000-0000-0000-0000-000000000000"


def _failing_create(arm, on_failure: str | None):
    raw = {**MINIMAL_PRODUCTION, **({"onFailure": on_failure} if on_failure else {})}
    request = valid_request(raw)
    arm.errors[arm_ids.ids(request)["cluster"]] = [FatalError("OperationNotAllowed", "another team's race")]
    return request


async def test_keep_leaves_what_the_create_made_and_the_view_lists_it(world):  # noqa: F811
    engine, queue, arm, _ = world
    wire_cleanup(engine)
    op_id = (await submit(engine, "create-cluster", _failing_create(arm, None))).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "failed"
    loaded = await engine.load(op_id)
    view = operation_view(loaded.op, loaded.steps, loaded.specs)["leftBehind"]
    assert view["onFailure"] == "keep" and view["cleanupOperation"] is None
    assert {i.lower() for i in view["made"]} == set(arm.resources)  # the resource group, identity, VNet, role
    assert len(view["made"]) == 4


async def test_cleanup_deletes_what_the_create_made_except_the_resource_group(world):  # noqa: F811
    engine, queue, arm, _ = world
    wire_cleanup(engine)
    request = _failing_create(arm, "cleanup")
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "failed"
    cleanup = cleanup_operation_id(op_id)
    assert await state(engine, cleanup) == "succeeded"
    assert set(arm.resources) == {arm_ids.ids(request)["resourceGroup"].lower()}  # the group stays, as in a delete
    cleaned = await engine.load(cleanup)
    assert cleaned.op.kind == "delete-cluster" and cleaned.op.source == CLEANUP_SOURCE
    loaded = await engine.load(op_id)
    view = operation_view(loaded.op, loaded.steps, loaded.specs)["leftBehind"]
    assert view["onFailure"] == "cleanup" and view["cleanupOperation"] == cleanup and len(view["made"]) == 4


async def test_a_create_that_succeeds_or_an_engine_without_the_wiring_cleans_nothing(world):  # noqa: F811
    engine, queue, arm, _ = world
    op_id = (await submit(engine, "create-cluster", _failing_create(arm, "cleanup"))).operation_id
    await drain(engine, queue)  # not wired: the engine alone never deletes
    assert await state(engine, op_id) == "failed" and len(arm.resources) == 4
    assert await engine.load(cleanup_operation_id(op_id)) is None



async def test_a_create_cleaned_up_frees_its_name_for_any_request_and_one_kept_names_the_failed_operation(
        world):  # noqa: F811
    """issue 17, "Names": after a failed create was cleaned up its name is free again (a new create for it, even a
    different request, is accepted); one kept (`keep`) stays bound, and the 409 says which operation failed and how to
    go on (retry it or delete the cluster)."""
    engine, queue, arm, _ = world
    wire_cleanup(engine)
    clusters = Clusters(engine, allow_all(), SUB)
    cleaned = _failing_create(arm, "cleanup")
    first = (await clusters.create(cleaned.model_dump(mode="json", by_alias=True), CALLER)).operation_id
    await drain(engine, queue)
    assert await state(engine, cleanup_operation_id(first)) == "succeeded"
    other = {**MINIMAL_PRODUCTION, "onFailure": "cleanup", "tags": {"team": "again"}}
    again = await clusters.create(other, CALLER)
    assert again.created and again.operation_id != first
    await drain(engine, queue)
    assert await state(engine, again.operation_id) == "succeeded"

    kept_world = Clusters(_fresh_engine(), allow_all(), SUB)
    kept_arm = kept_world.engine.arm
    kept = _failing_create(kept_arm, None)
    failed = (await kept_world.create(kept.model_dump(mode="json", by_alias=True), CALLER)).operation_id
    await drain(kept_world.engine, kept_world.engine.queue)
    assert await state(kept_world.engine, failed) == "failed"
    with pytest.raises(InConflict) as taken:
        await kept_world.create({**MINIMAL_PRODUCTION, "tags": {"team": "again"}}, CALLER)
    assert taken.value.code == "ClusterNameTaken"
    assert failed in taken.value.detail and f"/api/operations/{failed}/retry" in taken.value.detail
    assert "DELETE" in taken.value.detail


def _fresh_engine():
    clock = FakeClock()
    return wire_cleanup(Engine(operations=FakeStateStore(), clusters=FakeStateStore(),
                               queue=FakeStepQueue("steps", clock=clock), arm=FakeArm(), clock=clock,
                               secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1),
                               rng=random.Random(1)))


async def test_cleanup_never_deletes_a_cluster_the_failed_create_did_not_make(world):  # noqa: F811
    """A race: another team's cluster of the same name appears in ARM after the create was accepted, and ARM refuses
    aksvend's cluster PUT. The cleanup deletes the identity, VNet and role the create made, never that cluster: its
    delete step is skipped, since ARM never accepted a PUT of it from this create."""
    engine, queue, arm, _ = world
    wire_cleanup(engine)
    request = _failing_create(arm, "cleanup")
    cluster_id = arm_ids.ids(request)["cluster"]
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    arm.resources[cluster_id.lower()] = {"id": cluster_id, "properties": {"provisioningState": "Creating"}}
    await drain(engine, queue)
    assert await state(engine, cleanup_operation_id(op_id)) == "succeeded"
    assert set(arm.resources) == {arm_ids.ids(request)["resourceGroup"].lower(), cluster_id.lower()}
    cleaned = await engine.load(cleanup_operation_id(op_id))
    assert cleaned.steps["delete:cluster"].outputs == {"skipped": "the failed create did not make it"}


async def test_a_create_refused_before_its_first_write_has_nothing_to_clean_up(world):  # noqa: F811
    """The quota pre-check fails a create before any step began: nothing was made, so no cleanup runs (a delete of
    every name the plan holds would remove what others made under those names)."""
    engine, queue, arm, _ = world
    wire_cleanup(engine)
    arm.quota = {"standardDSv5Family": (0, 0), "cores": (0, 0)}
    request = valid_request({**MINIMAL_PRODUCTION, "onFailure": "cleanup"})
    vnet_id = arm_ids.ids(request)["vnet"]
    arm.resources[vnet_id.lower()] = {"id": vnet_id, "properties": {}}  # someone else's, under the plan's name
    op_id = (await submit(engine, "create-cluster", request)).operation_id
    await drain(engine, queue)
    loaded = await engine.load(op_id)
    assert loaded.op.state == "failed" and loaded.op.error["code"] == "QuotaExceeded"
    assert await engine.load(cleanup_operation_id(op_id)) is None
    assert vnet_id.lower() in arm.resources
