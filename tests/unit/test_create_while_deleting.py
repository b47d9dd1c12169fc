"""A create for a cluster whose deletion is queued or running is refused 409 ClusterDeleting, naming the delete
operation to wait for: answering with the finished create of that name (same body, same operation) told the caller
the cluster was accepted while it was going away."""

from __future__ import annotations

import random

import pytest

from shared.domain.policy import allow_all
from shared.engine import Engine, EngineSettings
from shared.engine.records import cluster_key
from shared.refusals import InConflict
from shared.services.clusters import Clusters
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain, state
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION, SUB

KEY = cluster_key(SUB, "rg-shop", "shop-prod")
CALLER = principal("dev")
UNPROTECTED = {**MINIMAL_PRODUCTION, "deletionProtection": False}


@pytest.fixture
async def world():
    clock = FakeClock()
    queue = FakeStepQueue("steps", clock=clock)
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=FakeArm(), clock=clock,
                    secrets=FakeSecrets(), settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10),
                    rng=random.Random(1))
    service = Clusters(engine, allow_all(), SUB)
    first = await service.create(UNPROTECTED, CALLER)
    await drain(engine, queue)
    return engine, queue, service, first


async def test_a_create_while_the_delete_is_queued_is_refused_naming_the_delete(world):
    engine, queue, service, first = world
    deleting = await service.delete_cluster(SUB, "rg-shop", "shop-prod", CALLER, None)
    with pytest.raises(InConflict) as refused:
        await service.create(UNPROTECTED, CALLER)
    assert refused.value.code == "ClusterDeleting"
    assert deleting.operation_id in refused.value.detail and "wait" in refused.value.detail
    await drain(engine, queue)
    assert await state(engine, deleting.operation_id) == "succeeded"
    again = await service.create(UNPROTECTED, CALLER)  # once it is gone, the same body makes a new cluster
    assert again.created and again.operation_id != first.operation_id
