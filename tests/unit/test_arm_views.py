"""ARM's answers in the API's views are outside input: an odd shape (a field missing, null or of another type, a
list of non-objects, a body that is not an object) leaves the fields it touches null and the view is answered,
never a 500 (shared/services/arm_views.py). Fuzzed over the views and through the routes."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.refusals import InConflict, Unavailable
from shared.services import arm_views, handoff
from tests.unit.test_handoff import ARM_CLUSTER, Reader, request
from tests.worker import SUB, Worker, as_caller, fake_runtime

PROFILE = {"properties": {
    "controlPlaneProfile": {"kubernetesVersion": "1.33.2", "upgrades": [
        {"kubernetesVersion": "1.34.1"}, {"kubernetesVersion": "1.35.0", "isPreview": True}]},
    "agentPoolProfiles": [{"name": "system", "kubernetesVersion": "1.33.2",
                           "upgrades": [{"kubernetesVersion": "1.34.1"}]}]}}
ODD = [None, 0, -1, True, 1.5, "", "x", [], [1, "a", None], [[]], {}, {"code": 3}, {"x": [None]}]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3), max_leaves=12)
VIEWS = {"observed": arm_views.observed_view, "upgrades": arm_views.upgrades_view}
BODIES = {"observed": ARM_CLUSTER, "upgrades": PROFILE}


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, the value itself first."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*at, i))


def replaced(body: Any, at: tuple[Any, ...], value: Any) -> Any:
    if not at:
        return value
    changed = copy.deepcopy(body)
    parent = changed
    for key in at[:-1]:
        parent = parent[key]
    parent[at[-1]] = value
    return changed


def assert_well_formed(view: Any) -> None:
    """JSON, and every leaf a string, a number, a bool or null (nothing of ARM's passed on unread)."""
    json.dumps(view, allow_nan=False)
    for at in paths(view):
        leaf = view
        for key in at:
            leaf = leaf[key]
        assert isinstance(leaf, dict | list | str | int | float | bool) or leaf is None


@pytest.mark.parametrize("which", VIEWS)
def test_an_odd_value_at_any_place_of_arms_answer_is_left_out_and_the_view_still_answered(which):
    body, view = BODIES[which], VIEWS[which]
    for at in list(paths(body)):
        for odd in ODD:
            assert_well_formed(view(replaced(body, at, odd)))


def test_odd_fields_are_null_and_the_sound_ones_still_shown():
    odd = replaced(ARM_CLUSTER, ("properties", "powerState"), "Running")
    odd = replaced(odd, ("properties", "agentPoolProfiles", 0, "vnetSubnetID"), {"id": "/subnets/x"})
    odd = replaced(odd, ("properties", "agentPoolProfiles", 1), "batch")
    odd = replaced(odd, ("properties", "agentPoolProfiles"), [*odd["properties"]["agentPoolProfiles"], 7, None])
    odd = replaced(odd, ("identity", "userAssignedIdentities"), ["/id"])
    odd = replaced(odd, ("properties", "fqdn"), 12)
    view = arm_views.observed_view(odd)
    assert (view["powerState"], view["fqdn"], view["subnetIds"]) == (None, None, [])
    assert [(p["name"], p["count"], p["vnetSubnetId"]) for p in view["pools"]] == [("system", 3, None)]
    assert view["controlPlaneIdentity"]["userAssignedIdentities"] == []
    assert view["nodeResourceGroup"] == "MC_rg-b_shop_westeurope"
    upgrades = arm_views.upgrades_view(replaced(PROFILE, ("properties", "controlPlaneProfile", "upgrades", 0),
                                                {"kubernetesVersion": ["1.34.1"]}))
    assert [u["kubernetesVersion"] for u in upgrades["upgrades"]] == [None, "1.35.0"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(sorted(VIEWS)), where=st.integers(min_value=0), value=JSON)
def test_any_json_at_any_place_is_a_well_formed_view(which, where, value):
    body = BODIES[which]
    places = list(paths(body))
    assert_well_formed(VIEWS[which](replaced(body, places[where % len(places)], value)))


@settings(max_examples=60, deadline=None)
@given(value=JSON)
def test_a_kubeconfig_answer_of_any_shape_is_a_clear_refusal_or_the_kubeconfig(value):
    async def read() -> None:
        try:
            await handoff.credentials(Reader(value), request(), entra=False, certificate=True)
        except Unavailable as refused:
            assert refused.code == "CredentialsUnreadable"
        except InConflict:  # only for a missing cluster (None)
            assert value is None

    asyncio.run(read())


@pytest.fixture
async def worker():
    w = Worker(fake_runtime())
    yield w
    await w.close()


@pytest.mark.parametrize("odd", [[1, 2], "cluster", {"properties": [1]},
                                 {"properties": {"agentPoolProfiles": {"system": {}}, "powerState": "On"}},
                                 {"properties": {"controlPlaneProfile": {"upgrades": [None, 3, "1.34"]},
                                                 "agentPoolProfiles": [{"upgrades": "1.34"}]}}])
async def test_the_cluster_and_upgrades_routes_answer_200_on_odd_arm_shapes(worker, odd):
    from functions import runtime

    body = {"name": "shop1", "resourceGroup": "rg-b", "location": "westeurope"}
    created = await worker.request("POST", "/api/clusters", json_body=body, headers=as_caller("alice"))
    assert created.status_code == 202, created.get_body()
    fake = (await runtime.runtime()).clusters.engine.arm
    cluster_id = (f"/subscriptions/{SUB}/resourcegroups/rg-b/providers/microsoft.containerservice/"
                  "managedclusters/shop1")
    fake.resources[cluster_id] = odd
    fake.resources[cluster_id + "/upgradeprofiles/default"] = odd
    seen = await worker.request("GET", f"/api/clusters/{SUB}/rg-b/shop1", headers=as_caller("bob"))
    upgrades = await worker.request("GET", f"/api/clusters/{SUB}/rg-b/shop1/upgrades", headers=as_caller("bob"))
    assert (seen.status_code, upgrades.status_code) == (200, 200), (seen.get_body(), upgrades.get_body())
    observed = json.loads(seen.get_body())["observed"]
    assert observed["exists"] is True and observed["kubernetesVersion"] is None
    assert json.loads(upgrades.get_body())["kubernetesVersion"] is None
