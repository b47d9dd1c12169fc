"""The caller policy (shared/domain/policy.py): principals by tenant and object id, groups by object id, app roles,
and aksvend's own services each in their own field; display names match nothing."""

from __future__ import annotations

import json

import pytest

from shared.domain.caller import EVENTS_CALLER, QUEUE_CALLER, Caller, webhook_caller
from shared.domain.policy import Policy, allow_all
from tests.principals import OTHER_TENANT, TENANT, oid, pid, principal

SUB = "00000000-0000-0000-0000-000000000000"


def policy(*rules: dict) -> Policy:
    return Policy.parse(json.dumps({"rules": [{"subscriptions": ["*"], "resourceGroups": ["*"], **r} for r in rules]}))


def test_a_principal_is_matched_by_its_tenant_and_object_id_only():
    rules = policy({"principals": [pid("alice")]})
    assert rules.allows(principal("alice"), SUB, "rg", "read")
    assert not rules.allows(principal("alice", tenant=OTHER_TENANT), SUB, "rg", "read")  # same oid, other tenant
    impostor = Caller(TENANT, oid("mallory"), name="alice")  # the display name of an allowed principal
    assert not rules.allows(impostor, SUB, "rg", "read")


def test_principals_are_matched_whatever_the_case_of_their_guids():
    rules = policy({"principals": [pid("alice").upper()]})
    assert rules.allows(Caller(TENANT.upper(), oid("alice").upper()), SUB, "rg", "read")


def test_groups_and_roles_are_matched_separately():
    rules = policy({"groups": [oid("platform-admins")], "actions": ["delete"]},
                   {"roles": ["Clusters.Reader"], "actions": ["read"]})
    admin = principal("ada", groups=("platform-admins",))
    reader = principal("bob", roles=("Clusters.Reader",))
    assert rules.allows(admin, SUB, "rg", "delete") and not rules.allows(admin, SUB, "rg", "read")
    assert rules.allows(reader, SUB, "rg", "read") and not rules.allows(reader, SUB, "rg", "delete")
    # a group whose object id is the role's value, or a role named like a group id, matches neither field
    assert not rules.allows(Caller(TENANT, oid("eve"), roles=frozenset({oid("platform-admins")})), SUB, "rg", "delete")


def test_services_are_matched_by_their_exact_ids_in_their_own_field():
    rules = policy({"services": ["queue:cluster-requests"], "resourceGroups": ["rg-batch-*"], "actions": ["create"]},
                   {"principals": ["*"], "actions": ["read"]})
    assert rules.allows(QUEUE_CALLER, SUB, "rg-batch-1", "create")
    assert not rules.allows(QUEUE_CALLER, SUB, "rg-batch-1", "read")  # "*" in principals is not a service
    assert not rules.allows(webhook_caller("jira"), SUB, "rg-batch-1", "create")
    assert not rules.allows(EVENTS_CALLER, SUB, "rg-batch-1", "create")
    anyone = principal("anyone")
    assert rules.allows(anyone, SUB, "rg-x", "read") and not rules.allows(anyone, SUB, "rg-batch-1", "create")


def test_every_service_and_no_principal_under_a_services_wildcard():
    rules = policy({"services": ["*"]})
    assert rules.allows(webhook_caller("github"), SUB, "rg", "read") and rules.allows(QUEUE_CALLER, SUB, "rg", "read")
    assert not rules.allows(principal("alice"), SUB, "rg", "read")


def test_allow_all_allows_principals_and_services():
    assert allow_all().allows(principal("alice"), SUB, "rg", "delete")
    assert allow_all().allows(QUEUE_CALLER, SUB, "rg", "create")


@pytest.mark.parametrize(("rule", "names"), [
    ({"callers": ["alice@contoso.com"]}, "'callers' is gone"),
    ({"principals": ["alice@contoso.com"]}, "rules/0/principals/0"),
    ({"principals": [oid("alice")]}, "rules/0/principals/0"),  # an object id without its tenant
    ({"principals": ["queue:cluster-requests"]}, "rules/0/principals/0"),
    ({"groups": ["platform-admins"]}, "rules/0/groups/0"),  # a name, not the group's object id
    ({"services": ["queue:other"]}, "rules/0/services/0"),
    ({"roles": ["two words"]}, "rules/0/roles/0"),
    ({}, "names no principals, groups, roles or services"),
])
def test_a_malformed_rule_is_refused_naming_where(rule, names):
    with pytest.raises(ValueError, match="caller policy") as err:
        policy(rule)
    assert names in str(err.value)


def test_a_principal_cannot_be_built_with_a_service_id():
    for tenant, object_id in (("aksvend", "queue:cluster-requests"), (TENANT, "queue:cluster-requests"),
                              ("aksvend", oid("x"))):
        with pytest.raises(ValueError):
            Caller(tenant, object_id)
    assert not Caller(TENANT, oid("x")).is_service and QUEUE_CALLER.is_service
    assert QUEUE_CALLER.id == "queue:cluster-requests" and principal("alice").id == pid("alice")


def test_a_resource_group_is_matched_as_arm_compares_names_ascii_letters_only():
    """Python's lower() turns the Kelvin sign into k; ARM keeps 'rg-\u212a' and 'rg-k' apart, so must the policy."""
    from shared.domain.policy import Policy
    from tests.principals import principal

    dev = principal("dev")
    policy = Policy.model_validate({"rules": [{"principals": [dev.id], "subscriptions": ["*"],
                                               "resourceGroups": ["rg-k"], "actions": ["create"]}]})
    assert policy.allows(dev, "s", "RG-K", "create")
    assert not policy.allows(dev, "s", "rg-\u212a", "create")


def test_identifiers_with_a_trailing_newline_are_not_guids():
    from shared.domain.armid import GUID

    assert GUID.match("00000000-0000-0000-0000-000000000000")
    assert not GUID.match("00000000-0000-0000-0000-000000000000\n")
