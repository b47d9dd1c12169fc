"""`onFailure` (shared/engine/cleanup.py; docs/cost.md, "Quota"): a create that fails anyway keeps what it made for a
retry (`keep`, the default) or deletes it (`cleanup`); either way its operation view says what was made."""

from __future__ import annotations

from shared.domain import arm as arm_ids
from shared.engine import submit
from shared.engine.cleanup import CLEANUP_SOURCE, cleanup_operation_id, wire_cleanup
from shared.errors import FatalError
from shared.services.views import operation_view
from tests.fakes import drain, state
from tests.requests import MINIMAL_PRODUCTION, valid_request
from tests.unit.test_engine import world  # noqa: F401 (the fixture)


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

