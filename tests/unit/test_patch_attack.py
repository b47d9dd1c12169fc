"""A PATCH of a running cluster, from a hostile caller's side (shared/services/lifecycle.py): what a pool change is
held to (the node subnet's capacity) holds for the system pool changed by a patch too, and the deletion protection
that guards `DELETE` is turned off only by a caller who may delete."""

from __future__ import annotations

import pytest

from shared.domain.policy import Policy, allow_all
from shared.engine.records import cluster_key
from shared.refusals import InvalidInput, NotPermitted
from shared.services.clusters import Clusters
from shared.services.lifecycle import Lifecycle
from tests.fakes import drain
from tests.principals import pid, principal
from tests.unit.test_engine import world  # noqa: F401 (the fixture)

SUB = "00000000-0000-0000-0000-000000000000"
DEV = {"name": "patch-dev", "resourceGroup": "rg-patch", "location": "westeurope"}


async def made(engine, queue, policy: Policy, **extra) -> tuple[Clusters, Lifecycle]:
    service = Clusters(engine, policy, SUB)
    await Clusters(engine, allow_all(), SUB).create({**DEV, **extra}, principal("root"))
    await drain(engine, queue)
    return service, Lifecycle(service)


@pytest.mark.parametrize("patch", [{"systemPool": {"count": 20}},
                                   {"systemPool": {"autoscale": {"min": 1, "max": 40}}}])
async def test_a_system_pool_patched_past_the_node_subnet_is_refused_naming_the_system_pool(world, patch):  # noqa: F811
    """The development cluster's /28 node subnet holds 11 nodes; a system pool of 20 (or autoscaled to 40) does not
    fit it, and a subnet cannot grow under a running cluster: 422 NODE_SUBNET_FULL, nothing submitted."""
    engine, queue, _, _ = world
    _, uc = await made(engine, queue, allow_all())
    key = cluster_key(SUB, "rg-patch", "patch-dev")
    before = await engine.registry.get(key)
    with pytest.raises(InvalidInput) as full:
        await uc.patch(SUB, "rg-patch", "patch-dev", patch, principal("dev"), None)
    assert [(v.code, v.path) for v in full.value.violations] == [("NODE_SUBNET_FULL", "/systemPool")]
    assert "'system'" in full.value.violations[0].message
    assert await engine.registry.get(key) == before
    await uc.patch(SUB, "rg-patch", "patch-dev", {"systemPool": {"count": 2}}, principal("dev"), None)


async def test_a_system_pool_swap_needs_room_for_both_pools_while_it_runs(world):  # noqa: F811
    """A VM size swap adds the new system pool before the old one is deleted: both are on the node subnet at once.
    Twelve system nodes (12 + 2 surge) and the default apps pool (3 + 1) get a /27 (27 usable addresses); a second
    system pool of 12 beside them does not fit it."""
    engine, queue, _, _ = world
    _, uc = await made(engine, queue, allow_all(), systemPool={"count": 12})
    with pytest.raises(InvalidInput) as full:
        await uc.patch(SUB, "rg-patch", "patch-dev", {"systemPool": {"vmSize": "Standard_D4s_v5"}},
                       principal("dev"), None)
    assert [v.code for v in full.value.violations] == ["NODE_SUBNET_FULL"]


async def test_deletion_protection_is_turned_off_only_by_a_caller_who_may_delete(world):  # noqa: F811
    """`deletionProtection` guards DELETE; a caller with `change` but not `delete` may turn it on and change the
    rest, but not turn it off (403), nor null it back to the development default (off)."""
    engine, queue, _, _ = world
    policy = Policy.model_validate({"rules": [
        {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["change", "read"]},
        {"principals": [pid("owner")], "subscriptions": ["*"], "resourceGroups": ["*"],
         "actions": ["change", "delete", "read"]}]})
    _, uc = await made(engine, queue, policy, deletionProtection=True)
    for patch in ({"deletionProtection": False}, {"deletionProtection": None}):
        with pytest.raises(NotPermitted):
            await uc.patch(SUB, "rg-patch", "patch-dev", patch, principal("dev"), None)
    await uc.patch(SUB, "rg-patch", "patch-dev", {"tags": {"a": "b"}, "deletionProtection": True},
                   principal("dev"), None)
    await uc.patch(SUB, "rg-patch", "patch-dev", {"deletionProtection": False}, principal("owner"), None)


@pytest.mark.parametrize("taints", [-1, True, "CriticalAddonsOnly=true:NoSchedule", {"a": "b"}])
async def test_a_swap_with_taints_that_are_no_list_is_a_422_naming_them_never_a_crash(world, taints):  # noqa: F811
    """A new vmSize (a swap) keeps the CriticalAddonsOnly taint on the new pool: taints that are no list are the
    request rules' to refuse, not a TypeError (a 500)."""
    engine, queue, _, _ = world
    _, uc = await made(engine, queue, allow_all())
    with pytest.raises(InvalidInput) as refused:
        await uc.patch(SUB, "rg-patch", "patch-dev", {"systemPool": {"vmSize": "Standard_D4s_v5", "taints": taints}},
                       principal("dev"), None)
    assert [v.path for v in refused.value.violations] == ["/systemPool/taints"]


BASE_ARM = {"name": "c1", "location": "westeurope", "sku": {"tier": "Free"},
            "properties": {"kubernetesVersion": "1.33.2", "agentPoolProfiles": [
                {"name": "system", "mode": "System", "count": 1, "vmSize": "Standard_D4s_v5", "osType": "Linux"}]}}


@pytest.mark.parametrize(("where", "odd"), [
    ("tags", 3), ("sku", []), ("properties", "x"), ("properties.addonProfiles", 3),
    ("properties.agentPoolProfiles", 1.5), ("properties.autoUpgradeProfile", []),
    ("pool.nodeLabels", [["a", "b"]]), ("pool.nodeTaints", 3), ("pool.availabilityZones", {"1": 1})])
def test_a_cluster_arm_describes_oddly_is_adopted_or_refused_by_the_rules_never_a_crash(where, odd):
    """What ARM answers is outside input too: an adopt of a cluster whose body has a field of an unexpected shape is
    the request rules' 422 (or a request without it), never an AttributeError or TypeError (a 500)."""
    import copy
    from datetime import date

    from shared.domain.adoption import request_from_arm
    from shared.services.pool_change import revalidate

    body = copy.deepcopy(BASE_ARM)
    if where.startswith("pool."):
        body["properties"]["agentPoolProfiles"][0][where[5:]] = odd
    elif where.startswith("properties."):
        body["properties"][where[11:]] = odd
    else:
        body[where] = odd
    try:
        revalidate(request_from_arm(body, SUB, "rg"), prefix="adopt", default_subscription_id=SUB,
                   today=date(2026, 11, 30))
    except InvalidInput as refused:
        assert refused.violations


async def test_one_idempotency_key_on_two_clusters_is_refused_never_the_first_clusters_operation_again(world):  # noqa: F811
    """An Idempotency-Key names one request: the same key and the same patch sent to another cluster is another
    request (409 IdempotencyKeyReused), not a 202 that answers the first cluster's operation and leaves this one
    unchanged."""
    from shared.refusals import InConflict

    engine, queue, _, _ = world
    _, uc = await made(engine, queue, allow_all())
    await Clusters(engine, allow_all(), SUB).create({**DEV, "name": "patch-dev2"}, principal("root"))
    await drain(engine, queue)
    first = await uc.patch(SUB, "rg-patch", "patch-dev", {"tags": {"a": "b"}}, principal("dev"), "key-1")
    with pytest.raises(InConflict) as reused:
        await uc.patch(SUB, "rg-patch", "patch-dev2", {"tags": {"a": "b"}}, principal("dev"), "key-1")
    assert reused.value.code == "IdempotencyKeyReused"
    again = await uc.patch(SUB, "rg-patch", "patch-dev", {"tags": {"a": "b"}}, principal("dev"), "key-1")
    assert (again.operation_id, again.created) == (first.operation_id, False)


async def test_deletion_protection_turned_on_meanwhile_is_not_turned_off_by_a_caller_who_may_not_delete(world):  # noqa: F811
    """The race: a caller with `change` only reads the cluster unprotected and nulls the field (no change then),
    while an owner's patch turns protection on; applied to the desired request as it is when accepted, the null
    would turn it off. The check runs on that request, so it is 403 and the protection stays."""
    engine, queue, _, _ = world
    policy = Policy.model_validate({"rules": [
        {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["change", "read"]}]})
    service, uc = await made(engine, queue, policy)
    stale = await engine.registry.get(cluster_key(SUB, "rg-patch", "patch-dev"))
    await Lifecycle(Clusters(engine, allow_all(), SUB)).patch(SUB, "rg-patch", "patch-dev",
                                                              {"deletionProtection": True}, principal("owner"), None)

    async def as_read_before(*_args):
        return stale

    service._cluster = as_read_before  # type: ignore[method-assign]
    with pytest.raises(NotPermitted):
        await uc.patch(SUB, "rg-patch", "patch-dev", {"deletionProtection": None}, principal("dev"), None)
    assert (await engine.registry.get(cluster_key(SUB, "rg-patch", "patch-dev"))).request["deletionProtection"]


async def test_a_production_cluster_is_not_upgraded_to_a_preview_version_a_development_one_may_be(world):  # noqa: F811
    """ARM's upgrade profile offers preview versions too (`isPreview`); AKS previews are "excluded from the
    service-level agreements ... not meant for production use" (AKS docs, preview features). A production cluster
    (Standard tier, the SLA) is refused one (422 PreviewVersion); a development cluster may take it."""
    from tests.requests import MINIMAL_PRODUCTION

    engine, queue, arm, _ = world
    clusters = Clusters(engine, allow_all(), SUB)
    await clusters.create(MINIMAL_PRODUCTION, principal("root"))
    await clusters.create(DEV, principal("root"))
    await drain(engine, queue)
    profile = {"properties": {"controlPlaneProfile": {"kubernetesVersion": "1.33.2", "upgrades": [
        {"kubernetesVersion": "1.34.1"}, {"kubernetesVersion": "1.35.0", "isPreview": True}]}}}
    for cluster_id in [rid for rid in arm.resources if "/managedclusters/" in rid and rid.count("/") == 8]:
        arm.resources[f"{cluster_id}/upgradeprofiles/default"] = profile
    uc = Lifecycle(clusters)
    with pytest.raises(InvalidInput) as preview:
        await uc.upgrade(SUB, "rg-shop", "shop-prod", {"kubernetesVersion": "1.35.0"}, principal("dev"), None)
    assert preview.value.code == "PreviewVersion"
    assert [v.code for v in preview.value.violations] == ["UPGRADE_PREVIEW_PRODUCTION"]
    await uc.upgrade(SUB, "rg-shop", "shop-prod", {"kubernetesVersion": "1.34.1"}, principal("dev"), None)
    await uc.upgrade(SUB, "rg-patch", "patch-dev", {"kubernetesVersion": "1.35.0"}, principal("dev"), None)


async def test_a_patch_changes_the_budget_held_to_the_costs_and_the_policy_budget(world):  # noqa: F811
    """`budget` is aksvend's own field (no ARM resource): a PATCH raises or lowers it, refused 422 BUDGET_EXCEEDED
    when the cluster at its maxima costs more than the new budget. The policy's budget still binds when the
    request's is above it, as for a create. The development request at its maximum costs 449.25 a month, a system
    node 107.75 (tests/unit/test_budget_service.py): 10 system nodes are 1,419.00."""
    engine, queue, _, _ = world
    policy = Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                               "resourceGroups": ["*"], "actions": ["create", "change", "read"],
                                               "monthlyBudget": 1000}]})
    _, uc = await made(engine, queue, policy, budget={"monthlyMax": 500})
    with pytest.raises(InvalidInput) as over:
        await uc.patch(SUB, "rg-patch", "patch-dev", {"budget": {"monthlyMax": 400}}, principal("dev"), None)
    assert [(v.code, v.path) for v in over.value.violations] == [("BUDGET_EXCEEDED", "/userPools/0")]
    await uc.patch(SUB, "rg-patch", "patch-dev", {"budget": {"monthlyMax": 2000}}, principal("dev"), None)
    await drain(engine, queue)
    record = await engine.registry.get(cluster_key(SUB, "rg-patch", "patch-dev"))
    assert record.request["budget"]["monthlyMax"] == 2000
    with pytest.raises(InvalidInput) as policy_over:
        await uc.patch(SUB, "rg-patch", "patch-dev", {"systemPool": {"count": 10}}, principal("dev"), None)
    assert [(v.code, v.path) for v in policy_over.value.violations] == [("BUDGET_EXCEEDED", "/systemPool")]
    assert "the caller policy's monthlyBudget" in policy_over.value.violations[0].message


async def test_a_system_pool_patch_over_budget_names_the_system_pool(world):  # noqa: F811
    """It named the first pool that took the running total past the budget, `/userPools/0`, which the patch did not
    touch: the pool changed is counted last, as a pool PUT's is."""
    engine, queue, _, _ = world
    _, uc = await made(engine, queue, allow_all(), budget={"monthlyMax": 500})
    with pytest.raises(InvalidInput) as over:
        await uc.patch(SUB, "rg-patch", "patch-dev", {"systemPool": {"count": 2}}, principal("dev"), None)
    assert [(v.code, v.path) for v in over.value.violations] == [("BUDGET_EXCEEDED", "/systemPool")]
    assert "'system'" in over.value.violations[0].message
