"""aksvend acts only on what it made or an admin adopted, decided when an operation starts (start_checks.py).

Attack review (second pass, finding 1): a DELETE, pool PUT or PATCH accepted while a create ran waited in the
cluster's queue; the create then failed before it made its cluster (a policy denied its identity), a cluster of that
name appeared in ARM from elsewhere, and the queued operation deleted it, added a pool to it, or PUT aksvend's body
over it. Over the fakes, as tests/unit/test_foreign_cluster.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain import arm as arm_ids
from shared.domain.policy import Policy
from shared.engine import Engine, cluster_key
from shared.errors import FatalError
from shared.services.clusters import Clusters
from shared.services.lifecycle import Lifecycle
from tests.fakes import FakeArm, FakeStepQueue, drain, engine_over_fakes, state
from tests.principals import pid, principal
from tests.requests import valid_request

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-team-a"],
     "actions": ["create", "change", "delete", "read"]}]})
RAW: dict[str, Any] = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope"}
IDS = arm_ids.ids(valid_request(RAW))
KEY = cluster_key(SUB, "rg-team-a", "c1")


def _world() -> tuple[Engine, FakeStepQueue, FakeArm, Clusters]:
    engine, queue, arm, _clock = engine_over_fakes(timed_arm=True)
    return engine, queue, arm, Clusters(engine, POLICY, SUB)


async def _queued(clusters: Clusters, mode: str) -> str:
    """The operation of `mode` accepted while the create runs (it waits behind it)."""
    dev = principal("dev")
    if mode == "delete":
        return (await clusters.delete_cluster(SUB, "rg-team-a", "c1", dev, None)).operation_id
    if mode == "pool":
        return (await clusters.put_pool(SUB, "rg-team-a", "c1", "gpu", {"vmSize": "Standard_D4s_v5", "count": 1},
                                        dev, None)).operation_id
    return (await Lifecycle(clusters).patch(SUB, "rg-team-a", "c1", {"tags": {"x": "y"}}, dev, None)).operation_id


def _foreign(arm: FakeArm) -> dict[str, Any]:
    arm.resources[IDS["cluster"].lower()] = foreign = {
        "id": IDS["cluster"], "tags": {"owner": "portal-team"},
        "properties": {"provisioningState": "Succeeded", "agentPoolProfiles": [{"name": "system", "count": 3}]}}
    return foreign


@pytest.mark.parametrize("mode", ["delete", "pool", "patch"])
async def test_an_operation_queued_behind_a_create_that_failed_never_reaches_a_cluster_it_did_not_make(mode):
    engine, queue, arm, clusters = _world()
    create = (await clusters.create(RAW, principal("dev"))).operation_id
    queued = await _queued(clusters, mode)
    arm.errors[IDS["identity"]] = [FatalError("RequestDisallowedByPolicy", "denied")]  # fails before its cluster PUT
    foreign = _foreign(arm)  # someone else makes a cluster of that name meanwhile
    await drain(engine, queue)
    assert await state(engine, create) == "failed"
    assert arm.resources[IDS["cluster"].lower()] is foreign and foreign["tags"] == {"owner": "portal-team"}
    assert IDS["cluster"] not in arm.puts and not [p for p in arm.puts if "/agentPools/" in p]
    loaded = await engine.load(queued)
    assert loaded is not None
    record = await engine.registry.get(KEY)
    assert record is not None and record.applied is None
    if mode == "delete":  # a failed create may still be cleaned up: only what it made (nothing of the cluster)
        assert loaded.op.state == "succeeded" and loaded.steps["delete:cluster"].outputs.get("skipped")
        assert loaded.steps["delete:identity"].outputs.get("skipped") and record.state == "deleted"
        return
    assert loaded.op.state == "failed" and loaded.op.error is not None
    assert loaded.op.error["code"] == "ClusterNotCreated" and f"/api/operations/{create}/retry" in \
        loaded.op.error["message"]
    created = await engine.load(create)
    assert created is not None and record.request == created.op.request and record.last_operation == create


@pytest.mark.parametrize("mode", ["pool", "patch"])
async def test_after_a_change_refused_so_the_failed_create_can_be_retried_and_the_change_asked_again(mode):
    engine, queue, arm, clusters = _world()
    create = (await clusters.create(RAW, principal("dev"))).operation_id
    queued = await _queued(clusters, mode)
    arm.errors[IDS["identity"]] = [FatalError("RequestDisallowedByPolicy", "denied")]
    await drain(engine, queue)
    assert await state(engine, queued) == "failed"
    again = await clusters.retry(create, principal("dev"))
    await drain(engine, queue)
    assert await state(engine, again.operation_id) == "succeeded" and IDS["cluster"] in arm.puts
    asked = await _queued(clusters, mode)
    await drain(engine, queue)
    assert await state(engine, asked) == "succeeded"


@pytest.mark.parametrize("mode", ["pool", "patch"])
async def test_a_change_queued_behind_a_create_that_succeeds_runs(mode):
    engine, queue, arm, clusters = _world()
    create = (await clusters.create(RAW, principal("dev"))).operation_id
    queued = await _queued(clusters, mode)
    await drain(engine, queue)
    assert await state(engine, create) == "succeeded" and await state(engine, queued) == "succeeded"
    record = await engine.registry.get(KEY)
    assert record is not None and record.applied == record.request and record.last_operation == queued
    if mode == "pool":
        assert [p for p in arm.puts if p.endswith("/agentPools/gpu")]
