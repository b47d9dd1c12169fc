"""plan(request): the resources in dependency order, one step each, the critical path, and the tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shared.domain import arm
from shared.domain.plan import PlanningError, critical_path, plan
from shared.domain.profiles import expand
from shared.domain.rules import check
from tests.requests import MINIMAL_PRODUCTION, PAYMENTS, SUB, patched

GOLDEN = Path(__file__).parent / "golden"


def _plan(raw):
    request, violations = check(raw, default_subscription_id=SUB)
    assert request is not None, violations
    return plan(request)


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual)
    assert actual == path.read_text(), f"{name} changed; rerun with UPDATE_GOLDEN=1 if the change is intended"


def test_production_plan_matches_the_golden_file():
    _golden("production-plan.json", json.dumps(_plan(MINIMAL_PRODUCTION).to_dict(), indent=2) + "\n")


def test_production_tree_matches_the_golden_file():
    _golden("production-tree.txt", _plan(MINIMAL_PRODUCTION).tree + "\n")


def test_design_request_tree_shows_every_part():
    tree = _plan(PAYMENTS).tree
    assert tree.splitlines()[0] == "AKS Cluster payments-prod (westeurope)"
    assert "System pool  system · 3 x Standard_D4s_v5 · zones 1,2,3 · CriticalAddonsOnly=true:NoSchedule" in tree
    assert "User pool    batch  · 0 x Standard_D8s_v5 · spot (Delete, max -1) · autoscale 0-20" in tree
    assert "User pool    win1   · 2 x Standard_D4s_v5 · Windows" in tree
    assert tree.splitlines()[-1].startswith("└── Network      vnet 10.40.0.0/16")
    assert "data -> blob" in tree


def test_resources_come_in_dependency_order_and_cover_the_architecture():
    p = _plan(PAYMENTS)
    keys = [r.key for r in p.resources]
    assert keys == ["resourceGroup", "identity", "vnet", "roleAssignment", "dnsZone:blob", "dnsLink:blob",
                    "privateEndpoint:data", "dnsZoneGroup:data", "cluster",
                    "maintenance:aksManagedAutoUpgradeSchedule", "maintenance:aksManagedNodeOSUpgradeSchedule"]
    seen: set[str] = set()
    for resource in p.resources:
        assert set(resource.depends_on) <= seen
        seen.add(resource.key)


def test_all_initial_pools_go_into_the_one_cluster_put_with_explicit_modes():
    body = _plan(PAYMENTS).resource("cluster").body
    profiles = body["properties"]["agentPoolProfiles"]
    assert [(p["name"], p["mode"]) for p in profiles] == [
        ("system", "System"), ("apps", "User"), ("gpu", "User"), ("batch", "User"), ("win1", "User")]
    assert profiles[0]["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]


def test_spot_pools_carry_priority_eviction_policy_and_max_price_but_not_the_spot_taint():
    batch = _plan(PAYMENTS).resource("cluster").body["properties"]["agentPoolProfiles"][3]
    assert (batch["scaleSetPriority"], batch["scaleSetEvictionPolicy"], batch["spotMaxPrice"]) == ("Spot", "Delete", -1)
    assert "nodeTaints" not in batch  # AKS adds kubernetes.azure.com/scalesetpriority=spot:NoSchedule itself


def test_the_windows_password_is_a_placeholder_never_a_value():
    body = _plan(PAYMENTS).resource("cluster").body
    assert body["properties"]["windowsProfile"] == {"adminUsername": "azureuser",
                                                    "adminPassword": "${secret:windowsAdminPassword}"}
    assert "windowsProfile" not in _plan(MINIMAL_PRODUCTION).resource("cluster").body["properties"]


def test_the_cluster_uses_the_user_assigned_identity_and_the_node_subnet():
    p = _plan(PAYMENTS)
    body = p.resource("cluster").body
    assert list(body["identity"]["userAssignedIdentities"]) == [p.resource("identity").id]
    assert {pool["vnetSubnetID"] for pool in body["properties"]["agentPoolProfiles"]} == {
        p.resource("vnet").id + "/subnets/snet-nodes"}


def test_the_identity_gets_network_contributor_on_the_node_subnet():
    p = _plan(PAYMENTS)
    role = p.resource("roleAssignment")
    assert role.id.startswith(p.resource("vnet").id + "/subnets/snet-nodes/providers/Microsoft.Authorization/")
    assert role.body["properties"]["roleDefinitionId"].endswith(arm.NETWORK_CONTRIBUTOR)
    assert role.body["properties"]["principalId"] == "${identity.properties.principalId}"


def test_addons_map_to_their_properties():
    body = _plan(patched(PAYMENTS, {"/addons": {"monitoring": False, "azurePolicy": True, "defender": True,
                                                "csiDrivers": ["file"]}})).resource("cluster").body["properties"]
    assert body["addonProfiles"] == {"omsagent": {"enabled": False}, "azurepolicy": {"enabled": True}}
    assert body["securityProfile"] == {"defender": {"securityMonitoring": {"enabled": True}},
                                       "workloadIdentity": {"enabled": True}}  # the production profile's
    assert body["storageProfile"]["fileCSIDriver"] == {"enabled": True}
    assert body["storageProfile"]["diskCSIDriver"] == {"enabled": False}


def test_one_private_dns_zone_per_group_and_one_zone_group_per_endpoint():
    endpoints = [{"name": n, "targetResourceId": PAYMENTS["network"]["privateEndpoints"][0]["targetResourceId"],
                  "groupId": g} for n, g in (("a", "blob"), ("b", "blob"), ("c", "file"))]
    p = _plan(patched(PAYMENTS, {"/network/privateEndpoints": endpoints}))
    zones = [r.id.rsplit("/", 1)[1] for r in p.resources if r.key.startswith("dnsZone:")]
    assert zones == ["privatelink.blob.core.windows.net", "privatelink.file.core.windows.net"]
    assert [r.key for r in p.resources if r.key.startswith("dnsZoneGroup:")] == [
        "dnsZoneGroup:a", "dnsZoneGroup:b", "dnsZoneGroup:c"]


def test_only_the_cluster_step_mutates_the_cluster():
    p = _plan(PAYMENTS)
    assert [s.id for s in p.steps if s.mutates_cluster] == ["put:cluster"]


def test_the_critical_path_runs_through_the_cluster_create():
    p = _plan(PAYMENTS)
    assert p.critical_path == ("put:resourceGroup", "put:vnet", "put:roleAssignment", "put:cluster",
                               "put:maintenance:aksManagedAutoUpgradeSchedule")
    assert p.critical_path_seconds == 2 + 10 + 5 + 360 + 5


def test_critical_path_of_no_steps_is_empty():
    assert critical_path(()) == ((), 0)


def test_role_assignment_names_are_stable_guids():
    a = arm.role_assignment_name("/x/Y", "r", "/id")
    assert a == arm.role_assignment_name("/X/y", "r", "/ID")
    assert a != arm.role_assignment_name("/x/y", "r", "/other")
    # a uuid5 in aksvend's namespace: the names assignments made before already have (a new name: a second one)
    assert a == "8e8c06c4-08dc-5f91-9c41-043d285477f6"


def test_planning_an_unvalidated_request_that_does_not_fit_is_refused():
    request, _ = expand(patched(PAYMENTS, {"/network/vnetAddressSpace": "10.40.0.0/28"}), default_subscription_id=SUB)
    with pytest.raises(PlanningError):
        plan(request)


def test_dns_prefix_is_cleaned_from_the_cluster_name():
    assert arm.dns_prefix("a_b") == "a-b"
    assert arm.dns_prefix("x" * 63) == "x" * 54
    assert arm.dns_prefix("_\u00e9-a b_\u212a_") == "\u00e9-a-b-\u212a"  # letters beyond ASCII are kept as letters


def test_the_owner_group_gets_its_role_on_the_cluster_once_the_cluster_exists():
    """access: the cluster is Entra-integrated with Azure RBAC, and a role assignment step after the cluster grants
    the owner group the role (by name or by id: the same assignment, so a retry never makes a second one)."""
    from shared.domain.plan import plan
    from shared.domain.rules import check
    from tests.requests import PAYMENTS, SUB

    group = "6f1c2b4e-0000-4000-8000-00000000abcd"
    by_name, _ = check({**PAYMENTS, "access": {"ownerGroup": group}}, default_subscription_id=SUB)
    by_id, _ = check({**PAYMENTS, "access": {"ownerGroup": group, "role": "B1FF04BB-8A4E-4DC4-8EB5-8693973CE19B"}},
                     default_subscription_id=SUB)
    assert by_name is not None and by_id is not None
    planned = plan(by_name)
    grant = planned.resource("ownerRoleAssignment")
    assert grant.id.startswith(planned.resource("cluster").id + "/providers/Microsoft.Authorization/roleAssignments/")
    assert grant.depends_on == ("cluster",)
    assert grant.body == {"properties": {
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                            "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
        "principalId": group, "principalType": "Group"}}
    assert plan(by_id).resource("ownerRoleAssignment").id == grant.id
    assert planned.resource("cluster").body["properties"]["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
    assert "put:ownerRoleAssignment" in [s.id for s in planned.steps]
    without, _ = check(PAYMENTS, default_subscription_id=SUB)
    assert without is not None  # production: Entra ID with Azure RBAC by its profile (entraId), with no role granted
    aad = plan(without).resource("cluster").body["properties"]["aadProfile"]
    assert aad == {"managed": True, "enableAzureRBAC": True}
    assert all(r.key != "ownerRoleAssignment" for r in plan(without).resources)
