"""The quota pre-check (shared/domain/quota.py, shared/engine/quota.py; docs/cost.md "Quota"): a create or a pool
change whose new nodes do not fit the region's vCPU quotas fails before its first write, naming the family, the
limit, the use and the need; what fits, or cannot be checked, goes on."""

from __future__ import annotations

from shared.domain.quota import REGIONAL, SPOT, Usage, needs, parse_usages, shortfalls
from shared.engine import submit
from tests.fakes import drain, state
from tests.requests import valid_request
from tests.unit.test_engine import world  # noqa: F401 (the fixture)

GENEROUS = {"standardDSv5Family": (1000, 0), "StandardNCADSA100v4Family": (1000, 0), REGIONAL: (5000, 0),
            SPOT: (1000, 0)}


def test_the_production_request_needs_its_initial_nodes_plus_surge_per_family():
    """system 3 x D4s_v5 + 1 surge = 16 vCPUs, apps 5 x D8s_v5 + 1 surge = 48, gpu 2 x NC24ads_A100_v4 + 1 surge
    = 72; the spot pool starts at 0 nodes and needs nothing."""
    assert needs((p, 0) for p in valid_request().pools) == {
        "standardDSv5Family": 64, "StandardNCADSA100v4Family": 72, REGIONAL: 136}


def test_a_spot_pool_counts_against_the_low_priority_quota_and_a_scale_only_what_it_adds():
    request = valid_request()
    batch = next(p for p in request.pools if p.name == "batch").model_copy(update={"count": 4})
    assert needs([(batch, 0)]) == {SPOT: 32}  # spot pools do not surge
    apps = next(p for p in request.pools if p.name == "apps")
    assert needs([(apps, 5)]) == {"standardDSv5Family": 8, REGIONAL: 8}  # 5 now, 5 + 1 surge asked: 1 x 8


def test_shortfalls_name_the_family_first_and_the_regional_total_last():
    usages = parse_usages({"value": [
        {"name": {"value": "standardDSv5Family"}, "limit": 16, "currentValue": 4},
        {"name": {"value": REGIONAL}, "limit": 100, "currentValue": 90},
        {"name": {"value": "unrelated"}, "limit": "x"}]})
    assert usages == {"standardDSv5Family": Usage(16, 4), REGIONAL: Usage(100, 90)}
    found = shortfalls({"standardDSv5Family": 64, REGIONAL: 64, "notListed": 1000}, usages)
    assert [(s.family, s.limit, s.used, s.needed) for s in found] == [
        ("standardDSv5Family", 16, 4, 64), (REGIONAL, 100, 90, 64)]


async def test_a_create_that_does_not_fit_fails_before_any_write(world):  # noqa: F811
    engine, queue, arm, _ = world
    arm.quota = {**GENEROUS, "standardDSv5Family": (16, 0)}
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "failed"
    assert arm.puts == []
    error = (await engine.load(op_id)).op.error
    assert error["code"] == "QuotaExceeded" and "nothing was made" in error["message"]
    assert error["quota"] == {"standardDSv5Family": {"limit": 16, "used": 0, "needed": 64}}


async def test_a_create_that_fits_or_cannot_be_checked_goes_on(world):  # noqa: F811
    engine, queue, arm, _ = world
    arm.quota = GENEROUS
    op_id = (await submit(engine, "create-cluster", valid_request())).operation_id
    await drain(engine, queue)
    assert await state(engine, op_id) == "succeeded"
    arm.quota = None  # no answer: AKS's own check stands
    other = valid_request({"name": "other", "resourceGroup": "rg-shop", "location": "westeurope",
                           "profile": "production"})
    second = (await submit(engine, "create-cluster", other)).operation_id
    await drain(engine, queue)
    assert await state(engine, second) == "succeeded"


async def test_a_scale_that_does_not_fit_fails_before_its_pool_put(world):  # noqa: F811
    engine, queue, arm, _ = world
    arm.quota = GENEROUS
    request = valid_request()
    await submit(engine, "create-cluster", request)
    await drain(engine, queue)
    puts = len(arm.puts)
    arm.quota = {**GENEROUS, "standardDSv5Family": (70, 64)}  # 6 vCPUs left
    pools = [p.model_copy(update={"count": 6}) if p.name == "apps" else p for p in request.user_pools]
    bigger = request.model_copy(update={"user_pools": pools})
    scale = (await submit(engine, "put-pool", bigger, pool="apps")).operation_id
    await drain(engine, queue)
    assert await state(engine, scale) == "failed" and len(arm.puts) == puts
    assert (await engine.load(scale)).op.error["quota"] == {
        "standardDSv5Family": {"limit": 70, "used": 64, "needed": 16}}  # 5 nodes now -> 6 + 1 surge: 2 x 8


async def test_a_patch_or_a_swap_of_the_system_pool_that_does_not_fit_fails_before_its_first_write(world):  # noqa: F811
    """A PATCH of the system pool's count is a scale like a pool PUT, and a VM size swap adds a whole new System pool:
    both are checked before their first write. The system pool has 3 x D4s_v5 in ARM; 4 (+1 surge) needs 2 more
    nodes, 8 vCPUs; a swap to D8s_v5 then needs a new pool of 4 (the desired count since that patch) + 1 surge, 40
    vCPUs; 6 are left."""
    from shared.domain.policy import allow_all
    from shared.services.clusters import Clusters
    from shared.services.lifecycle import Lifecycle
    from tests.principals import principal
    from tests.requests import MINIMAL_PRODUCTION

    engine, queue, arm, _ = world
    arm.quota = GENEROUS
    clusters = Clusters(engine, allow_all(), "00000000-0000-0000-0000-000000000000")
    await clusters.create(MINIMAL_PRODUCTION, principal("dev"))
    await drain(engine, queue)
    arm.quota = {**GENEROUS, "standardDSv5Family": (70, 64)}
    puts, uc = len(arm.puts), Lifecycle(clusters)
    for patch, needed in (({"systemPool": {"count": 4}}, 8), ({"systemPool": {"vmSize": "Standard_D8s_v5"}}, 40)):
        done = await uc.patch("00000000-0000-0000-0000-000000000000", "rg-shop", "shop-prod", patch, principal("dev"),
                              None)
        await drain(engine, queue)
        assert await state(engine, done.operation_id) == "failed" and len(arm.puts) == puts, patch
        assert (await engine.load(done.operation_id)).op.error["quota"] == {
            "standardDSv5Family": {"limit": 70, "used": 64, "needed": needed}}
