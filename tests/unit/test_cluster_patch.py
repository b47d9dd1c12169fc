"""The pure parts of a running cluster's life (shared/domain/patch.py, adoption.py, operations.py, engine/adopt.py):
RFC 7396 merge patch, the fields a patch may not change, the system pool swap plan and its steps, the deletion
protection default, a body rebuilt from ARM's counts, and a cluster read back from ARM as a request."""

from __future__ import annotations

import asyncio
import random
from datetime import date

import pytest

from shared.domain import arm
from shared.domain.adoption import request_from_arm
from shared.domain.operations import StepSpec, steps_for
from shared.domain.patch import Swap, immutable, merge_patch, only_system_pool, successor, swap_plan, swapped
from shared.domain.policy import allow_all
from shared.domain.profiles import CRITICAL_ADDONS_TAINT, expand
from shared.engine import Engine
from shared.engine.adopt import current_body
from shared.errors import FatalError
from shared.refusals import InvalidInput
from shared.services.clusters import Clusters
from shared.services.lifecycle import Lifecycle
from shared.services.pool_change import revalidate
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, created_over_fakes, drain
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION

CALLER = principal("dev")

SUB = "00000000-0000-0000-0000-000000000000"


def desired(profile: str = "development", **extra) -> dict:
    request, violations = expand({"name": "c1", "resourceGroup": "rg-c", "location": "westeurope",
                                  "profile": profile, **extra}, default_subscription_id=SUB)
    assert request is not None, violations
    return request.model_dump(mode="json", by_alias=True)


# RFC 7396 appendix A, the examples that matter here: objects merge, null removes, arrays and scalars replace.
@pytest.mark.parametrize(("target", "patch", "result"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_follows_rfc_7396(target, patch, result):
    before = repr(target)
    assert merge_patch(target, patch) == result
    assert repr(target) == before  # the target is not changed


def test_fields_fixed_at_creation_are_refused_by_name_and_a_field_sent_back_unchanged_is_not():
    current = desired()
    patch = {"location": "northeurope", "network": {"plugin": "kubenet"}, "name": current["name"],
             "kubernetesVersion": "1.34", "userPools": [], "tags": {"a": "b"},
             "systemPool": {"zones": ["1"], "os": "Linux", "count": 2}}
    found = {(v.code, v.path) for v in immutable(patch, current)}
    assert found == {("CLUSTER_FIELD_IMMUTABLE", "/location"), ("CLUSTER_FIELD_IMMUTABLE", "/network"),
                     ("CLUSTER_FIELD_IMMUTABLE", "/kubernetesVersion"), ("CLUSTER_FIELD_IMMUTABLE", "/userPools"),
                     ("POOL_FIELD_IMMUTABLE", "/systemPool/zones")}
    messages = {v.path: v.message for v in immutable(patch, current)}
    assert "/upgrade" in messages["/kubernetesVersion"] and "/pools/" in messages["/userPools"]
    assert immutable({"tags": {}, "addons": {"monitoring": True}, "deletionProtection": False,
                      "autoscalerProfile": {"expander": "least-waste"},
                      "systemPool": {"count": 3, "autoscale": {"min": 1, "max": 3}}}, current) == []


def test_a_new_system_pool_vm_size_plans_a_swap_to_a_new_pool_with_the_critical_addons_taint():
    current = desired("production")
    patch = {"systemPool": {"vmSize": "Standard_D8s_v5", "taints": []}}
    patched = merge_patch(current, patch)
    swap = swap_plan(current, patched)
    assert swap == Swap("system", "system2")
    pool = swapped(patched, swap)["systemPool"]
    assert pool["name"] == "system2" and pool["vmSize"] == "Standard_D8s_v5"
    assert pool["zones"] == ["1", "2", "3"] and pool["taints"] == [CRITICAL_ADDONS_TAINT]
    assert swap_plan(current, merge_patch(current, {"systemPool": {"count": 5}})) is None
    assert [v.path for v in only_system_pool({"systemPool": {}, "tags": {}})] == ["/tags"]


@pytest.mark.parametrize(("name", "taken", "new"), [
    ("system", {"system"}, "system2"), ("system2", {"system2"}, "system3"), ("system", {"system", "system2"},
                                                                             "system3"),
    ("abcdefghijkl", {"abcdefghijkl"}, "abcdefghijk2"), ("sys9", {"sys9", "sys2"}, "sys3")])
def test_the_new_system_pool_takes_the_next_free_name_within_twelve_characters(name, taken, new):
    assert successor(name, taken) == new and len(new) <= 12


def test_the_swap_is_one_operation_adding_the_new_pool_before_deleting_the_old_one():
    current = desired("production")
    patched = merge_patch(current, {"systemPool": {"vmSize": "Standard_D8s_v5"}})
    request = revalidate(swapped(patched, Swap("system", "system2")), prefix="", default_subscription_id=SUB,
                         today=date(2026, 11, 29))
    add, remove = steps_for("swap-system-pool", request, "system")
    assert (add.id, add.action, add.body["properties"]["mode"]) == ("put:pool:system2", "put", "System")
    assert add.body["properties"]["vmSize"] == "Standard_D8s_v5"
    assert add.body["properties"]["nodeTaints"] == [CRITICAL_ADDONS_TAINT]
    assert (remove.id, remove.action, remove.depends_on) == ("delete:pool:system", "delete", (add.id,))


def test_deletion_protection_is_on_for_production_and_off_otherwise_unless_the_request_says():
    assert desired("production")["deletionProtection"] is True
    assert desired("development")["deletionProtection"] is False
    assert desired("production", deletionProtection=False)["deletionProtection"] is False


class OneResource:
    """An ArmPort that has one resource (the body a GET answers)."""

    def __init__(self, body):
        self.body = body

    async def get(self, *_):
        return self.body


def test_a_rebuilt_pool_body_keeps_the_count_and_power_state_arm_has():
    request = revalidate(desired("production"), prefix="", default_subscription_id=SUB, today=date(2026, 11, 29))
    spec = next(s for s in steps_for("upgrade", request) if s.id == "upgrade:pool:gpu")
    assert spec.current and spec.body["properties"]["count"] == 2
    body = asyncio.run(current_body(OneResource({"properties": {"count": 1, "powerState": {"code": "Stopped"}}}),
                                    spec, spec.body))
    assert body["properties"]["count"] == 1 and body["properties"]["powerState"] == {"code": "Stopped"}
    batch = next(s for s in steps_for("upgrade", request) if s.id == "upgrade:pool:batch")  # autoscale 0-20
    assert asyncio.run(current_body(OneResource({"properties": {"count": 40}}), batch, batch.body))[
        "properties"]["count"] == 20  # within the body's bounds
    plane = steps_for("upgrade", request)[0]
    arm_cluster = {"properties": {"agentPoolProfiles": [{"name": "batch", "count": 1}, {"name": "gpu", "count": 0}]}}
    counts = {p["name"]: p["count"] for p in asyncio.run(current_body(OneResource(arm_cluster), plane, plane.body))[
        "properties"]["agentPoolProfiles"]}
    assert counts == {"system": 3, "apps": 5, "gpu": 0, "batch": 1}
    fixed = StepSpec("x", "put", "pool:gpu", spec.resource_type, spec.resource_id, spec.api_version, spec.body, (),
                     True, 1)
    assert asyncio.run(current_body(OneResource({"properties": {"count": 9}}), fixed, fixed.body)) == fixed.body


def test_a_cluster_read_from_arm_becomes_a_request_that_passes_the_rules():
    made = revalidate(desired("production", tags={"team": "x"}), prefix="", default_subscription_id=SUB,
                      today=date(2026, 11, 29))
    body = arm.managed_cluster_body(made)
    raw = request_from_arm({**body, "name": "c1"}, SUB, "rg-c")
    again = revalidate(raw, prefix="", default_subscription_id=SUB, today=date(2026, 11, 29))
    assert [p.name for p in again.pools] == [p.name for p in made.pools]
    assert [(p.vm_size, p.count, p.autoscale, p.spot) for p in again.pools] == [
        (p.vm_size, p.count, p.autoscale, p.spot) for p in made.pools]
    assert again.tags == {"team": "x"} and again.deletion_protection and again.profile == "production"


def test_the_autoscaler_profile_is_sent_as_arm_names_it_and_only_what_is_given():
    request = revalidate(merge_patch(desired(), {"autoscalerProfile": {"scan-interval": "20s", "expander": "random",
                                                                        "daemonset-eviction-for-empty-nodes": True}}),
                         prefix="", default_subscription_id=SUB, today=date(2026, 11, 29))
    assert arm.managed_cluster_body(request)["properties"]["autoScalerProfile"] == {
        "scan-interval": "20s", "expander": "random", "daemonset-eviction-for-empty-nodes": True}
    assert "autoScalerProfile" not in arm.managed_cluster_body(revalidate(
        desired(), prefix="", default_subscription_id=SUB, today=date(2026, 11, 29)))["properties"]
    with pytest.raises(InvalidInput) as refused:
        revalidate(merge_patch(desired(), {"autoscalerProfile": {"scan-interval": "2m"}}), prefix="",
                   default_subscription_id=SUB, today=date(2026, 11, 29))
    assert [v.path for v in refused.value.violations] == ["/autoscalerProfile/scan-interval"]


async def test_an_upgrade_rolls_the_control_plane_then_each_pool_and_a_failing_pool_stops_it_by_name():
    engine, queue, fake, clusters = await created_over_fakes(MINIMAL_PRODUCTION, SUB, CALLER)
    cluster_id = next(rid for rid in fake.resources if rid.endswith("/managedclusters/shop-prod"))
    fake.resources[f"{cluster_id}/upgradeprofiles/default"] = {"properties": {"controlPlaneProfile": {
        "kubernetesVersion": "1.33.2", "upgrades": [{"kubernetesVersion": "1.34.1"}]}}}
    fake.puts.clear()
    fake.errors[fake.resources[cluster_id]["id"] + "/agentPools/gpu"] = [FatalError("InsufficientSubnetSize")]
    uc = Lifecycle(clusters)
    with pytest.raises(InvalidInput) as refused:
        await uc.upgrade(SUB, "rg-shop", "shop-prod", {"kubernetesVersion": "1.34.0"}, CALLER, None)
    assert refused.value.code == "VersionNotOffered"
    done = await uc.upgrade(SUB, "rg-shop", "shop-prod", {"kubernetesVersion": "1.34.1"}, CALLER, None)
    await drain(engine, queue)
    loaded = await engine.load(done.operation_id)
    assert loaded is not None and loaded.op.state == "failed"
    assert loaded.op.error is not None and loaded.op.error["step"] == "upgrade:pool:gpu"
    assert [p.rsplit("/", 1)[1] for p in fake.puts] == ["shop-prod", "system", "apps", "gpu"]  # batch never sent
    assert loaded.steps["upgrade:pool:batch"].state == "cancelled"


@pytest.mark.parametrize(("patch", "where"), [
    ({"systemPool": "big"}, "/systemPool"), ({"systemPool": None}, "/systemPool"),
    ({"systemPool": ["x"]}, "/systemPool"), ([], ""), ({}, ""), ("null", ""),
    ({"systemPool": {"vmSize": 5}}, "/systemPool/vmSize"), ({"tags": {"a": 1}}, "/tags/a")])
async def test_a_malformed_patch_is_a_422_naming_the_field_never_a_crash(patch, where):
    clock = FakeClock()
    queue, fake = FakeStepQueue("steps", clock=clock), FakeArm()
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=fake, clock=clock,
                    secrets=FakeSecrets(), rng=random.Random(1))
    clusters = Clusters(engine, allow_all(), SUB)
    await clusters.create(MINIMAL_PRODUCTION, CALLER)
    with pytest.raises(InvalidInput) as refused:
        await Lifecycle(clusters).patch(SUB, "rg-shop", "shop-prod", patch, CALLER, None)
    assert [v.path for v in refused.value.violations] == [where]
