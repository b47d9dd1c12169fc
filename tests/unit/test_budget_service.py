"""The caller policy's `monthlyBudget` in the cluster use cases (shared/services/clusters.py; docs/policy.md): a
create or a pool change over it is refused with BUDGET_EXCEEDED naming the pool, before anything is submitted."""

from __future__ import annotations

import pytest

from shared.domain.policy import Policy
from shared.engine.records import cluster_key
from shared.refusals import InvalidInput
from shared.services.clusters import Clusters
from tests.fakes import drain
from tests.principals import pid, principal
from tests.unit.test_engine import world  # noqa: F401 (the fixture)


async def test_the_policy_budget_refuses_a_create_and_a_pool_change_naming_the_pool(world):  # noqa: F811
    """A D2s_v5 node in westeurope costs 0.1152 /h x 730 + 23.65 (P10) = 107.75 a month. The development request at
    its maximum (1 system + 3 apps nodes, Free tier, the load balancer's 18.25) is 449.25: a policy budget of 500
    holds it; with apps autoscaled to 10 it is 1,203.50, and the apps pool is the one that breaks it. The pool change
    asks for 8 at most (988.00 with the system node), which the development cluster's /28 node subnet still holds, so
    it is the budget that refuses it, not the subnet's capacity."""
    engine, queue, _, _ = world
    policy = Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                               "resourceGroups": ["*"], "actions": ["create", "change", "read"],
                                               "monthlyBudget": 500}]})
    service = Clusters(engine, policy, "00000000-0000-0000-0000-000000000000")
    dev = {"name": "budget-dev", "resourceGroup": "rg-budget", "location": "westeurope"}
    with pytest.raises(InvalidInput) as over:
        await service.create({**dev, "userPools": [{"name": "apps", "count": 1, "autoscale": {"min": 1, "max": 10}}]},
                             principal("dev"))
    assert [(v.code, v.path) for v in over.value.violations] == [("BUDGET_EXCEEDED", "/userPools/0")]
    await service.create(dev, principal("dev"))
    await drain(engine, queue)
    sub = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(InvalidInput) as change:
        await service.put_pool(sub, "rg-budget", "budget-dev", "apps",
                               {"count": 1, "autoscale": {"min": 1, "max": 8}}, principal("dev"), None)
    assert change.value.violations[0].code == "BUDGET_EXCEEDED" and "'apps'" in change.value.violations[0].message


async def test_a_patch_of_the_system_pool_cannot_outgrow_the_policy_budget(world):  # noqa: F811
    """A PATCH is a change like a pool's: the system pool autoscaled to 20 nodes (20 x 107.75 = 2,155 a month), or
    swapped to a bigger VM size, is over the policy's 500 and refused before anything is submitted, naming the system
    pool; a patch within the budget (tags) is still accepted."""
    from shared.services.lifecycle import Lifecycle

    engine, queue, _, _ = world
    policy = Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                               "resourceGroups": ["*"], "actions": ["create", "change", "read"],
                                               "monthlyBudget": 500}]})
    service = Clusters(engine, policy, "00000000-0000-0000-0000-000000000000")
    await service.create({"name": "budget-patch", "resourceGroup": "rg-budget", "location": "westeurope"},
                         principal("dev"))
    await drain(engine, queue)
    sub, uc = "00000000-0000-0000-0000-000000000000", Lifecycle(service)
    key = cluster_key(sub, "rg-budget", "budget-patch")
    before = await engine.registry.get(key)
    for patch in ({"systemPool": {"count": 20}}, {"systemPool": {"autoscale": {"min": 1, "max": 20}}},
                  {"systemPool": {"vmSize": "Standard_D64s_v5"}}):
        with pytest.raises(InvalidInput) as over:
            await uc.patch(sub, "rg-budget", "budget-patch", patch, principal("dev"), None)
        assert [v.code for v in over.value.violations] == ["BUDGET_EXCEEDED"], patch
        assert "system" in over.value.violations[0].message
    assert await engine.registry.get(key) == before  # nothing was submitted
    await uc.patch(sub, "rg-budget", "budget-patch", {"tags": {"team": "a"}}, principal("dev"), None)


async def test_a_pool_put_that_breaks_a_rule_names_the_same_path_in_detail_and_errors(world):  # noqa: F811
    """The 422's detail said `/userPools/extra` (the pool's name) while its violation said `/userPools/1`."""
    engine, queue, _, _ = world
    sub = "00000000-0000-0000-0000-000000000000"
    service = Clusters(engine, Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                       "resourceGroups": ["*"], "actions": ["create", "change", "read"]}]}), sub)
    await service.create({"name": "budget-dev", "resourceGroup": "rg-budget", "location": "westeurope",
                          "budget": {"monthlyMax": 500}}, principal("dev"))
    await drain(engine, queue)
    with pytest.raises(InvalidInput) as over:
        await service.put_pool(sub, "rg-budget", "budget-dev", "extra", {"count": 2}, principal("dev"), None)
    assert [v.path for v in over.value.violations] == ["/userPools/1"]
    assert "/userPools/1" in over.value.detail and "extra" not in over.value.detail
