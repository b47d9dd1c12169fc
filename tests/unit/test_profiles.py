"""Profiles fill in what a request leaves out; explicit fields win; shape errors come back as violations."""

from __future__ import annotations

import pytest

from shared.domain import arm
from shared.domain.profiles import DEFAULT_KUBERNETES_VERSION, expand, merge
from shared.domain.request import Addons, Network, Reactions
from shared.domain.rules import check
from tests.requests import MINIMAL_PRODUCTION, SUB, patched


def _expand(raw):
    return expand(raw, default_subscription_id=SUB)


def test_production_profile_is_the_typical_production_setup():
    request, violations = _expand(MINIMAL_PRODUCTION)
    assert violations == []
    system = request.system_pool
    assert (system.name, system.vm_size, system.count, system.zones) == ("system", "Standard_D4s_v5", 3,
                                                                         ["1", "2", "3"])
    pools = {p.name: p for p in request.user_pools}
    assert (pools["apps"].vm_size, pools["apps"].count, pools["apps"].autoscale.min, pools["apps"].autoscale.max) == (
        "Standard_D8s_v5", 5, 3, 10)
    assert pools["gpu"].workload == "gpu" and pools["gpu"].count == 2
    assert pools["batch"].spot is not None and pools["batch"].workload == "batch"


def test_development_is_the_default_profile_and_is_small():
    request, _ = _expand({"name": "dev1", "resourceGroup": "rg", "location": "westeurope"})
    assert request.profile == "development"
    assert request.system_pool.count == 1 and request.system_pool.vm_size == "Standard_D2s_v5"
    assert [p.name for p in request.user_pools] == ["apps"]


def test_explicit_fields_win_over_the_profile_key_by_key():
    request, _ = _expand(patched(MINIMAL_PRODUCTION, {"/systemPool": {"vmSize": "Standard_D8s_v5"}}))
    assert request.system_pool.vm_size == "Standard_D8s_v5"
    assert request.system_pool.count == 3  # the rest of the system pool still comes from the profile


def test_explicit_lists_replace_the_profile_lists_whole():
    request, _ = _expand(patched(MINIMAL_PRODUCTION, {"/userPools": [{"name": "web"}]}))
    assert [p.name for p in request.user_pools] == ["web"]


def test_a_user_pool_without_size_gets_the_profile_size_for_its_workload():
    request, _ = _expand(patched(MINIMAL_PRODUCTION, {"/userPools": [{"name": "mem", "workload": "memory"}]}))
    assert request.user_pools[0].vm_size == "Standard_E8s_v5"


def test_a_user_pool_without_count_starts_at_its_autoscale_minimum():
    request, _ = _expand(patched(MINIMAL_PRODUCTION, {"/userPools": [{"name": "web",
                                                                       "autoscale": {"min": 2, "max": 4}}]}))
    assert request.user_pools[0].count == 2


def test_explicit_null_clears_a_profile_default():
    request, _ = _expand(patched(MINIMAL_PRODUCTION, {"/systemPool": {"zones": None}}))
    assert request.system_pool.zones is None


def test_both_profiles_taint_the_system_pool_for_critical_addons_only():
    for profile in ("production", "development"):
        request, _ = _expand({**MINIMAL_PRODUCTION, "profile": profile})
        assert request.system_pool.taints == ["CriticalAddonsOnly=true:NoSchedule"]
        assert arm.agent_pool_properties(request, request.system_pool, system=True)["nodeTaints"] == [
            "CriticalAddonsOnly=true:NoSchedule"]


def test_an_explicit_empty_system_pool_taint_list_is_honoured_with_a_warning():
    request, violations = check(patched(MINIMAL_PRODUCTION, {"/systemPool/taints": []}), default_subscription_id=SUB)
    assert request is not None and request.system_pool.taints == []
    assert "nodeTaints" not in arm.agent_pool_properties(request, request.system_pool, system=True)
    assert ("SYSTEM_POOL_UNTAINTED", "warning") in {(v.code, v.severity) for v in violations}


def test_explicit_system_pool_taints_replace_the_default_whole():
    request, _ = _expand(patched(MINIMAL_PRODUCTION, {"/systemPool/taints": ["dedicated=infra:NoSchedule"]}))
    assert arm.agent_pool_properties(request, request.system_pool, system=True)["nodeTaints"] == [
        "dedicated=infra:NoSchedule"]


# Each profile below sets the field to something other than the contract default, so that clearing shows.
@pytest.mark.parametrize(("profile", "field", "cleared"), [
    ("development", "userPools", []),
    ("production", "network", Network()),
    ("production", "addons", Addons()),
    ("development", "reactions", Reactions()),
    ("production", "kubernetesVersion", DEFAULT_KUBERNETES_VERSION),
    ("production", "subscriptionId", SUB),
])
def test_a_top_level_null_clears_the_profile_value_to_the_contract_default(profile, field, cleared):
    request, violations = _expand({**MINIMAL_PRODUCTION, "profile": profile, field: None})
    assert violations == []
    attribute = {"userPools": "user_pools", "kubernetesVersion": "kubernetes_version",
                 "subscriptionId": "subscription_id"}.get(field, field)
    assert getattr(request, attribute) == cleared
    if field not in ("kubernetesVersion", "subscriptionId"):
        assert getattr(_expand({**MINIMAL_PRODUCTION, "profile": profile})[0], attribute) != cleared


def test_a_top_level_null_on_the_system_pool_leaves_it_missing():
    _, violations = _expand({**MINIMAL_PRODUCTION, "systemPool": None})
    assert [(v.code, v.path) for v in violations] == [("SCHEMA_REQUIRED", "/systemPool")]


def test_a_top_level_null_where_the_schema_forbids_it_is_a_type_error():
    _, violations = _expand({**MINIMAL_PRODUCTION, "tags": None})
    assert [(v.code, v.path) for v in violations] == [("SCHEMA_TYPE", "/tags")]


def test_the_default_subscription_is_used_only_when_the_request_names_none():
    other = "11111111-1111-1111-1111-111111111111"
    assert _expand(MINIMAL_PRODUCTION)[0].subscription_id == SUB
    assert _expand({**MINIMAL_PRODUCTION, "subscriptionId": other})[0].subscription_id == other


def test_unknown_fields_are_errors_with_a_pointer_to_them():
    _, violations = _expand(patched(MINIMAL_PRODUCTION, {"/systemPool": {"vmsize": "Standard_D4s_v5"}}))
    assert [(v.code, v.path) for v in violations] == [("SCHEMA_UNKNOWN_FIELD", "/systemPool/vmsize")]


def test_missing_required_fields_are_named():
    _, violations = _expand({"name": "x", "location": "westeurope"})
    assert ("SCHEMA_REQUIRED", "/resourceGroup") in [(v.code, v.path) for v in violations]


def test_a_user_pool_needs_a_name():
    _, violations = _expand(patched(MINIMAL_PRODUCTION, {"/userPools": [{"vmSize": "Standard_D4s_v5"}]}))
    assert ("SCHEMA_REQUIRED", "/userPools/0/name") in [(v.code, v.path) for v in violations]


def test_enumerations_are_checked_and_named():
    _, violations = _expand(patched(MINIMAL_PRODUCTION, {"/userPools": [{"name": "w", "os": "windows"}]}))
    assert [(v.code, v.path) for v in violations] == [("SCHEMA_ENUM", "/userPools/0/os")]


def test_an_unknown_profile_is_an_enum_error_on_profile():
    _, violations = _expand({**MINIMAL_PRODUCTION, "profile": "staging"})
    assert ("SCHEMA_ENUM", "/profile") in [(v.code, v.path) for v in violations]


def test_strings_and_lists_are_bounded():
    _, violations = _expand({**MINIMAL_PRODUCTION, "name": "x" * 64,
                             "userPools": [{"name": f"p{i}"} for i in range(101)]})
    assert {("SCHEMA_TOO_LONG", "/name"), ("SCHEMA_TOO_MANY_ITEMS", "/userPools")} <= {(v.code, v.path)
                                                                                     for v in violations}


def test_a_request_that_is_not_an_object_is_one_clear_error():
    for raw in ([], "x", None, 3):
        _, violations = _expand(raw)
        assert [(v.code, v.path) for v in violations] == [("SCHEMA_TYPE", "")]


def test_schema_messages_never_echo_the_input_value():
    secret_looking = "hunter2-" * 10
    _, violations = _expand({**MINIMAL_PRODUCTION, "name": secret_looking})
    assert all(secret_looking not in v.message for v in violations)


def test_merge_keeps_the_defaults_untouched():
    defaults = {"a": {"b": 1}, "l": [1]}
    merged = merge(defaults, {"a": {"c": 2}, "l": [2]})
    assert merged == {"a": {"b": 1, "c": 2}, "l": [2]}
    assert defaults == {"a": {"b": 1}, "l": [1]}


@pytest.mark.parametrize("written", ["West Europe", "WestEurope", "WESTEUROPE", "west europe"])
def test_a_region_written_another_way_becomes_its_programmatic_name_everywhere_with_a_warning(written):
    from shared.domain.events.model import default_node_resource_group
    from shared.services.planning import plan_request

    raw = {"name": "shop", "resourceGroup": "rg-shop", "location": written}
    request, notes = _expand(raw)
    assert request.location == "westeurope"
    assert [(v.code, v.path, v.severity) for v in notes] == [("LOCATION_NORMALIZED", "/location", "warning")]
    assert "'westeurope'" in notes[0].message and "MC_rg-shop_shop_westeurope" in notes[0].message
    assert default_node_resource_group(request) == "MC_rg-shop_shop_westeurope"  # as AKS names it
    assert request.model_dump(mode="json", by_alias=True)["location"] == "westeurope"  # the stored desired request
    outcome = plan_request(raw, default_subscription_id=SUB)
    assert outcome.valid and outcome.warnings[0].code == "LOCATION_NORMALIZED"
    planned = str(outcome.plan.to_dict())
    assert written not in planned and "'location': 'westeurope'" in planned
    assert {r.body["location"] for r in outcome.plan.resources if "location" in r.body} == {"westeurope"}


def test_a_programmatic_region_is_kept_without_a_warning_and_an_unknown_one_is_left_to_its_rule():
    request, notes = _expand({"name": "shop", "resourceGroup": "rg-shop", "location": "westeurope"})
    assert request.location == "westeurope" and notes == []
    request, notes = _expand({"name": "shop", "resourceGroup": "rg-shop", "location": "West Europa"})
    assert request.location == "West Europa" and notes == []
    _, violations = check({"name": "shop", "resourceGroup": "rg-shop", "location": "West Europa"},
                          default_subscription_id=SUB)
    assert [v.code for v in violations if v.path == "/location"] == ["LOCATION_UNKNOWN"]


@pytest.mark.parametrize(("patch", "path", "hint"), [
    ({"/profle": "production"}, "/profle", "profile"),
    ({"/systemPool": {"vmsize": "Standard_D4s_v5"}}, "/systemPool/vmsize", "vmSize"),
    ({"/userPools": [{"name": "web", "autoscale": {"mni": 1, "max": 3}}]}, "/userPools/0/autoscale/mni", "min"),
    ({"/network": {"serviceEndpoint": ["Microsoft.Storage"]}}, "/network/serviceEndpoint", "serviceEndpoints"),
    ({"/reactions": {"cooldown": 60}}, "/reactions/cooldown", "cooldownSeconds"),
])
def test_an_unknown_field_suggests_the_closest_field_of_the_object_it_is_in(patch, path, hint):
    _, violations = _expand(patched(MINIMAL_PRODUCTION, patch))
    unknown = [v for v in violations if v.code == "SCHEMA_UNKNOWN_FIELD"]
    assert [v.path for v in unknown] == [path]
    assert unknown[0].message.endswith(f"; did you mean '{hint}'?")


def test_an_unknown_field_close_to_no_field_gets_no_suggestion():
    _, violations = _expand({**MINIMAL_PRODUCTION, "zzzzqq": 1, "p" * 1000: 1})
    assert [v.code for v in violations] == ["SCHEMA_UNKNOWN_FIELD"] * 2
    assert all("did you mean" not in v.message for v in violations)
