"""Stopping and starting a user pool (shared/services/pool_power.py, the `stop-pool`/`start-pool` steps in
shared/domain/operations.py): the PUT keeps the pool as ARM has it and sets only its power state; the system pool,
a pool the request lacks and one ARM lacks are refused before anything is sent; a pool already so is a no-op answer;
and a stopped pool's zero nodes are not drift."""

from __future__ import annotations

import asyncio

import pytest

from shared.domain import arm
from shared.domain.drift import compare
from shared.domain.operations import steps_for
from shared.engine import Engine
from shared.engine.adopt import current_body
from shared.errors import RetryableError
from shared.refusals import InConflict, NotFound, Unavailable
from shared.services.clusters import Accepted
from shared.services.pool_power import AlreadyThere, set_power
from tests.fakes import created_over_fakes, drain
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION, PAYMENTS, valid_request
from tests.unit.test_drift import as_aks_returns, pool_of, request_of

CALLER = principal("dev")
SUB = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(("kind", "code"), [("stop-pool", "Stopped"), ("start-pool", "Running")])
def test_a_stop_or_start_is_one_pool_put_that_keeps_arms_count_and_sets_the_power_state(kind, code):
    request = valid_request(MINIMAL_PRODUCTION)
    (step,) = steps_for(kind, request, "apps")
    assert step.id == "put:pool:apps" and step.must_exist and step.current  # never creates a deleted pool
    assert step.body is not None and step.body["properties"]["powerState"] == {"code": code}

    class Arm:
        async def get(self, *_):
            return {"properties": {"count": 4, "powerState": {"code": "Stopped" if code == "Running" else "Running"}}}

    sent = asyncio.run(current_body(Arm(), step, step.body))  # type: ignore[arg-type]
    assert sent["properties"]["count"] == 4 and sent["properties"]["powerState"] == {"code": code}


def test_a_stopped_pools_zero_nodes_are_not_drift_but_a_running_pools_are():
    request = request_of(PAYMENTS)
    observed = as_aks_returns(request)
    pool_of(observed, "gpu").update(count=0, powerState={"code": "Stopped"})
    assert compare(request, observed) == ()
    pool_of(observed, "gpu")["powerState"] = {"code": "Running"}
    assert [d.field for d in compare(request, observed)] == ["count"]


async def test_stop_then_start_a_user_pool_queues_operations_and_refuses_the_system_pool_before_sending():
    engine, queue, fake, clusters = await created_over_fakes(MINIMAL_PRODUCTION, SUB, CALLER)
    cluster_id = arm.ids(valid_request(MINIMAL_PRODUCTION))["cluster"]
    before = await engine.registry.get(next(iter(await _keys(engine))))
    fake.puts.clear()

    def power(pool: str, verb: str):
        return set_power(clusters, SUB, "rg-shop", "shop-prod", pool, verb, CALLER, None)  # type: ignore[arg-type]

    with pytest.raises(InConflict) as system:
        await power("system", "stop")
    assert system.value.code == "SystemPoolCannotStop" and "User pools" in system.value.detail
    with pytest.raises(NotFound) as unknown:
        await power("nope", "stop")
    assert unknown.value.code == "PoolNotFound"
    with pytest.raises(InConflict) as absent:  # ARM has no such pool (the fake's create PUTs only the cluster)
        await power("apps", "stop")
    assert absent.value.code == "PoolNotInArm" and fake.puts == []

    pool_id = f"{cluster_id}/agentPools/apps"
    await fake.put(arm.AGENT_POOL.name, pool_id, arm.AGENT_POOL.api_version,
                   {"properties": {"count": 7, "powerState": {"code": "Running"}}})  # the autoscaler moved it
    stopped = await power("apps", "stop")
    assert isinstance(stopped, Accepted)
    await drain(engine, queue)
    loaded = await engine.load(stopped.operation_id)
    assert loaded is not None and loaded.op.kind == "stop-pool" and loaded.op.state == "succeeded"
    now = fake.resources[pool_id.lower()]["properties"]
    assert now["powerState"] == {"code": "Stopped"} and now["count"] == 7  # nothing resized
    again = await power("apps", "stop")
    assert isinstance(again, AlreadyThere) and again.view() == {"operationId": None, "pool": "apps",
                                                                "powerState": "Stopped", "count": 7}
    started = await power("apps", "start")
    assert isinstance(started, Accepted)
    await drain(engine, queue)
    assert fake.resources[pool_id.lower()]["properties"]["powerState"] == {"code": "Running"}
    after = await engine.registry.get(before.key)
    assert after is not None and after.request_hash == before.request_hash and after.state == "ready"


async def _keys(engine: Engine) -> list[str]:
    return [c.key for c in await engine.registry.all()]


async def test_arm_not_answering_the_pool_read_is_a_503_that_says_so_and_queues_nothing():
    engine, _queue, fake, clusters = await created_over_fakes(MINIMAL_PRODUCTION, SUB, CALLER)

    async def down(*_):
        raise RetryableError("ServiceUnavailable", "ARM is down; token=secret-value")

    fake.get = down  # type: ignore[method-assign]
    with pytest.raises(Unavailable) as refused:
        await set_power(clusters, SUB, "rg-shop", "shop-prod", "apps", "stop", CALLER, None)
    assert refused.value.code == "ArmUnavailable" and "secret-value" not in str(refused.value)
    assert refused.value.__cause__ is None and await engine.active_operations() == []
