"""Service endpoint targets and Key Vault/ACR private endpoints, in the domain and the engine over fakes: the planned
zones and edits, the rule-set edit that keeps what the target has, the steps of a create and a delete, a 403 as a
skipped step, and the confused-deputy check that covers the targets."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest

from shared.domain import arm
from shared.domain.operations import steps_for
from shared.domain.plan import plan, pool_grant, target_key
from shared.domain.pool_steps import edits_targets
from shared.domain.request import ClusterRequest, Pool
from shared.engine import submit
from shared.engine.records import Loaded, OperationRecord, StepRecord, cluster_key
from shared.engine.submit import Change, submit_change
from shared.errors import FatalError
from shared.services.targets import foreign_targets
from shared.services.views import operation_view
from tests.fakes import drain, engine_over_fakes, state
from tests.requests import MINIMAL_PRODUCTION, STORAGE, SUB, VAULT, valid_request

REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-images/providers/Microsoft.ContainerRegistry/registries/crimages"
OTHER = f"/subscriptions/{SUB}/resourceGroups/rg-x/providers/Microsoft.Network/virtualNetworks/v/subnets/apps"


def request(targets=(STORAGE, VAULT), endpoints=()):
    return valid_request({**MINIMAL_PRODUCTION, "network": {
        "serviceEndpoints": ["Microsoft.Storage", "Microsoft.KeyVault"],
        "serviceEndpointTargets": [{"targetResourceId": t} for t in targets],
        "privateEndpoints": [{"name": n, "groupId": g, "targetResourceId": t} for n, g, t in endpoints]}})


def test_vault_and_registry_endpoints_get_their_zones_and_zone_groups():
    p = plan(request((), [("secrets", "vault", VAULT), ("images", "registry", REGISTRY)]))
    zones = {r.key: r.id.rsplit("/", 1)[1] for r in p.resources if r.key.startswith("dnsZone:")}
    assert zones == {"dnsZone:vault": "privatelink.vaultcore.azure.net", "dnsZone:registry": "privatelink.azurecr.io"}
    group = p.resource("dnsZoneGroup:images")
    assert group.depends_on == ("privateEndpoint:images", "dnsZone:registry")
    assert group.body["properties"]["privateDnsZoneConfigs"] == [{"name": "privatelink-azurecr-io", "properties": {
        "privateDnsZoneId": p.resource("dnsZone:registry").id}}]
    connection = p.resource("privateEndpoint:secrets").body["properties"]["privateLinkServiceConnections"][0]
    assert connection["properties"] == {"privateLinkServiceId": VAULT, "groupIds": ["vault"]}


def test_each_target_is_an_edit_after_the_vnet_with_the_rules_its_service_spells():
    r = request()
    p = plan(r)
    node = arm.ids(r)["nodeSubnet"]
    storage, vault = p.resource(target_key(STORAGE)), p.resource(target_key(VAULT))
    assert (storage.type, storage.id, storage.depends_on) == ("Microsoft.Storage/storageAccounts", STORAGE, ("vnet",))
    assert storage.body == {"properties": {"networkAcls": {"virtualNetworkRules": [{"id": node, "action": "Allow"}]}}}
    assert vault.body == {"properties": {"networkAcls": {"virtualNetworkRules": [{"id": node}]}}}
    assert "vnet rules on: stdata, kv-data" in p.tree


def test_a_pool_on_its_own_subnet_is_admitted_too():
    raw = {**MINIMAL_PRODUCTION, "userPools": [{"name": "apps", "count": 3, "subnet": "auto"}],
           "network": {"serviceEndpoints": ["Microsoft.Storage"], "serviceEndpointTargets": [
               {"targetResourceId": STORAGE}]}}
    r = valid_request(raw)
    rules = plan(r).resource(target_key(STORAGE)).body["properties"]["networkAcls"]
    assert [x["id"] for x in rules["virtualNetworkRules"]] == [arm.ids(r)["nodeSubnet"],
                                                               arm.pool_subnet_id(r, r.user_pools[0])]


def test_a_pool_added_or_deleted_later_edits_the_targets_for_its_own_subnet_only():
    raw = {**MINIMAL_PRODUCTION, "userPools": [{"name": "apps", "count": 3, "subnet": "auto"},
                                               {"name": "mine", "count": 1, "subnet": OTHER}],
           "network": {"serviceEndpoints": ["Microsoft.Storage"], "serviceEndpointTargets": [
               {"targetResourceId": STORAGE}]}}
    r = valid_request(raw)
    put = {s.id: s for s in steps_for("put-pool", r, "apps", edits_targets=True)}
    edit = put[f"put:{target_key(STORAGE)}:apps"]
    assert (edit.edit, edit.resource_id, edit.depends_on) == ("add", STORAGE, ("put:subnet:apps",))
    assert [x["id"] for x in edit.body["properties"]["networkAcls"]["virtualNetworkRules"]] == [
        arm.pool_subnet_id(r, r.user_pools[0])]  # the pool's subnet only: the node subnet's rule is the create's
    assert put["put:pool:apps"].depends_on == (f"put:{pool_grant(r, r.user_pools[0])[0]}",)  # not on the edit
    removed = {s.id: s for s in steps_for("delete-pool", r, "apps", pool_subnet="10.40.4.0/24", edits_targets=True)}
    assert removed[f"delete:{target_key(STORAGE)}:apps"].edit == "remove"
    assert removed[f"delete:{target_key(STORAGE)}:apps"].depends_on == ("delete:pool:apps",)
    # an existing subnet is its owner's: its endpoints are not the request's, so no rule is added or removed for it
    assert all(s.edit is None for s in steps_for("put-pool", r, "mine", edits_targets=True))
    assert all(s.edit is None for s in steps_for("delete-pool", r, "mine", pool_subnet=OTHER, edits_targets=True))


def test_only_an_operation_accepted_to_add_or_delete_the_pool_edits_the_targets():
    """A put of a pool that exists (a change, a scale reaction, a drift repair) leaves the targets' rules as their
    owners keep them: a rule the owner removed is not added back. And an operation accepted before the field
    existed keeps the steps its rows were written with (no step without a row, which would never run)."""
    without, with_ = {"userPools": [{"name": "apps"}]}, {"userPools": [{"name": "apps"}, {"name": "new"}]}
    assert (edits_targets("put-pool", with_, without, "new"), edits_targets("put-pool", with_, with_, "new"),
            edits_targets("update-pool", with_, without, "new"), edits_targets("delete-pool", with_, with_, "new"),
            edits_targets("put-pool", without, None, "new"), edits_targets("put-pool", with_, None, "new")) == (
        True, False, False, True, True, False)
    # a submit sent again after a crash finds its pool in the desired request already: still the pool's add, as
    # read from what the last successful operation left (`applied`)
    assert edits_targets("put-pool", with_, without, "new")
    r = valid_request({**MINIMAL_PRODUCTION, "userPools": [{"name": "apps", "count": 3, "subnet": "auto"}],
                       "network": {"serviceEndpoints": ["Microsoft.Storage"],
                                   "serviceEndpointTargets": [{"targetResourceId": STORAGE}]}})
    for kind in ("put-pool", "update-pool", "delete-pool"):
        assert all(s.edit is None for s in steps_for(kind, r, "apps")), kind
    payload = r.model_dump(mode="json", by_alias=True)
    before = OperationRecord("op-1", "delete-pool", "running", "k", arm.ids(r)["cluster"], payload, "h",
                             datetime.now(UTC), pool="apps", pool_subnet="10.40.4.0/24").to_entity()
    del before["editsTargets"]  # a row written by the version before
    assert all(s.edit is None for s in OperationRecord.from_entity(before, None).specs())
    after = OperationRecord.from_entity({**before, "editsTargets": True}, None)
    assert [s.edit for s in after.specs() if s.edit] == ["remove"]


def test_an_operation_runs_the_steps_it_has_rows_for_when_this_version_derives_more():
    """Steps are derived from the code each time an operation is loaded; their rows were written when it was
    accepted. One accepted by an earlier version, whose kind now has one more step (here: as if `editsTargets`
    had been derived), runs and waits for the steps it has rows for, so it ends instead of waiting forever."""
    r = valid_request({**MINIMAL_PRODUCTION, "userPools": [{"name": "apps", "count": 3, "subnet": "auto"}],
                       "network": {"serviceEndpoints": ["Microsoft.Storage"],
                                   "serviceEndpointTargets": [{"targetResourceId": STORAGE}]}})
    op = OperationRecord("op-1", "put-pool", "running", "k", arm.ids(r)["cluster"],
                         r.model_dump(mode="json", by_alias=True), "h", datetime.now(UTC), pool="apps",
                         edits_targets=True)
    derived = {s.id: s for s in op.specs()}
    edit = f"put:{target_key(STORAGE)}:apps"
    older = [StepRecord("op-1", step) for step in derived if step != edit]  # the rows an earlier version wrote
    loaded = Loaded.from_rows(op, older)
    assert set(loaded.specs) == set(derived) - {edit} == set(loaded.steps)
    # a derived step others depend on, without a row: they no longer wait for it
    subnet = "put:subnet:apps"
    assert any(subnet in s.depends_on for s in derived.values())
    loaded = Loaded.from_rows(op, [StepRecord("op-1", step) for step in derived if step != subnet])
    assert subnet not in loaded.specs and all(subnet not in s.depends_on for s in loaded.specs.values())
    assert Loaded.from_rows(op, [StepRecord("op-1", step) for step in derived]).specs == derived  # all rows: as is


def test_the_create_adds_and_the_delete_removes_before_the_vnet_never_deleting_the_target():
    r = request()
    create = {s.id: s for s in steps_for("create-cluster", r)}
    assert create[f"put:{target_key(VAULT)}"].edit == "add"
    assert all(s.edit is None for k, s in create.items() if not k.startswith("put:vnetRule:"))
    delete = {s.id: s for s in steps_for("delete-cluster", r)}
    remove = delete[f"delete:{target_key(STORAGE)}"]
    assert (remove.edit, remove.resource_id, remove.body) == ("remove", STORAGE,
                                                              create[f"put:{target_key(STORAGE)}"].body)
    assert f"delete:{target_key(STORAGE)}" in delete["delete:vnet"].depends_on


TARGET = {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "Logging", "ipRules": [
    {"value": "203.0.113.7", "action": "Allow"}], "virtualNetworkRules": [{"id": OTHER, "action": "Allow",
                                                                           "state": "Succeeded"}]}}}


def test_adding_keeps_the_targets_own_rules_and_settings_and_is_done_once():
    ours = OTHER.replace("apps", "nodes")
    added = arm.edited_acls(arm.STORAGE_ACCOUNT.name, TARGET, [ours], "add")
    assert added == {"properties": {"networkAcls": {**TARGET["properties"]["networkAcls"], "virtualNetworkRules": [
        {"id": OTHER, "action": "Allow", "state": "Succeeded"}, {"id": ours, "action": "Allow"}]}}}
    assert arm.edited_acls(arm.STORAGE_ACCOUNT.name, added, [ours.upper()], "add") is None  # ids: any case
    removed = arm.edited_acls(arm.STORAGE_ACCOUNT.name, added, [ours], "remove")
    assert removed == TARGET
    assert arm.edited_acls(arm.STORAGE_ACCOUNT.name, TARGET, [ours], "remove") is None


def test_a_target_without_a_rule_set_gets_one_that_admits_as_before():
    edited = arm.edited_acls(arm.KEY_VAULT.name, {"properties": {}}, [OTHER], "add")
    assert edited == {"properties": {"networkAcls": {"defaultAction": "Allow", "virtualNetworkRules": [{"id": OTHER}]}}}


def test_the_targets_are_foreign_targets_the_caller_must_own():
    r = request((f"/subscriptions/{SUB}/resourceGroups/rg-files/providers/Microsoft.Storage/storageAccounts/stf",))
    assert (SUB, "rg-files") in foreign_targets(r)


@pytest.fixture
def world():
    engine, queue, fake, _clock = engine_over_fakes()
    for target in (STORAGE, VAULT):
        fake.resources[target.lower()] = {"id": target, **TARGET, "etag": "W/\"1\""}
    return engine, queue, fake


async def test_the_engine_patches_the_targets_with_if_match_and_the_delete_takes_only_its_rules_back(world):
    engine, queue, fake = world
    r = request()
    op = (await submit(engine, "create-cluster", r)).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "succeeded"
    assert STORAGE not in fake.puts and VAULT not in fake.puts
    assert [(rid, etag) for rid, _, etag in fake.patches] == [(STORAGE, 'W/"1"'), (VAULT, 'W/"1"')]
    node = arm.ids(r)["nodeSubnet"]
    assert fake.resources[VAULT.lower()]["properties"]["networkAcls"]["virtualNetworkRules"] == [
        {"id": OTHER, "action": "Allow", "state": "Succeeded"}, {"id": node}]
    await submit(engine, "delete-cluster", r)
    await drain(engine, queue)
    for target in (STORAGE, VAULT):
        assert fake.resources[target.lower()]["properties"] == TARGET["properties"]  # still there, as it was


async def test_a_403_is_a_skipped_step_with_a_warning_and_the_create_succeeds(world):
    engine, queue, fake = world
    fake.errors[STORAGE] = [FatalError("AuthorizationFailed", "no storageAccounts/write")]
    op = (await submit(engine, "create-cluster", request())).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "succeeded"
    skipped = [t.message for t in await engine.history.read(op, 100) if t.kind == "skipped"]
    assert len(skipped) == 1 and STORAGE in skipped[0] and "AuthorizationFailed" in skipped[0]
    assert fake.resources[STORAGE.lower()]["properties"] == TARGET["properties"]


@pytest.mark.parametrize("missing", [False, True], ids=["refused", "missing"])
async def test_another_failure_of_the_edit_fails_the_create_and_so_does_a_missing_target(world, missing):
    engine, queue, fake = world
    if missing:
        del fake.resources[VAULT.lower()]
    else:
        fake.errors[VAULT] = [FatalError("NetworkAclsValidationFailure", "no endpoint")]
    op = (await submit(engine, "create-cluster", request())).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "failed"
    error = (await engine.load(op)).op.error
    assert (error["code"], error["step"]) == ("ResourceNotFound" if missing else "NetworkAclsValidationFailure",
                                              f"put:{target_key(VAULT)}")


async def test_two_targets_of_one_name_in_two_groups_are_two_edits(world):
    engine, queue, fake = world
    twin = STORAGE.replace("rg-data", "rg-data2")
    fake.resources[twin.lower()] = {"id": twin, **TARGET}
    r = request((STORAGE, twin))
    assert target_key(STORAGE) != target_key(twin) and target_key(STORAGE) == target_key(STORAGE.upper())
    op = (await submit(engine, "create-cluster", r)).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "succeeded"
    assert sorted(rid for rid, _, _ in fake.patches) == sorted([STORAGE, twin])


async def test_a_create_that_cannot_be_planned_leaves_no_cluster_row(world, monkeypatch):
    """Planning comes before the first write: a create it refuses leaves no `provisioning` row without an
    operation (which would hold the name forever)."""
    engine, _, _ = world
    r = request()

    def unplannable(*_):
        raise ValueError("no plan")

    monkeypatch.setattr(importlib.import_module("shared.engine.submit"), "steps_for", unplannable)
    with pytest.raises(ValueError):
        await submit(engine, "create-cluster", r)
    assert await engine.registry.all() == []


async def test_a_remove_refused_with_403_is_named_as_rules_left_behind(world):
    """The rule's subnet id derives from the cluster's name: the delete's history says what the owner must remove."""
    engine, queue, fake = world
    r = request()
    await submit(engine, "create-cluster", r)
    await drain(engine, queue)
    fake.errors[STORAGE] = [FatalError("AuthorizationFailed", "no storageAccounts/write")]
    op = (await submit(engine, "delete-cluster", r)).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "succeeded"
    skipped = [t.message for t in await engine.history.read(op, 100) if t.kind == "skipped"]
    assert len(skipped) == 1 and "left behind" in skipped[0] and arm.ids(r)["nodeSubnet"] in skipped[0]
    assert STORAGE in skipped[0] and "owner must remove" in skipped[0]



async def test_a_failed_create_lists_the_targets_it_edited_apart_from_what_it_made(world):
    """New-user review: `leftBehind.made` listed the service endpoint target (another's storage account) as made by
    aksvend, which only added its rules to it."""
    engine, queue, fake = world
    r = request()
    fake.errors[arm.ids(r)["cluster"]] = [FatalError("OperationNotAllowed", "another team's race")]
    op = (await submit(engine, "create-cluster", r)).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "failed"
    loaded = await engine.load(op)
    left = operation_view(loaded.op, loaded.steps, loaded.specs)["leftBehind"]
    assert sorted(left["edited"]) == sorted([STORAGE, VAULT])
    assert not {STORAGE.lower(), VAULT.lower()} & {m.lower() for m in left["made"]}
    assert arm.ids(r)["vnet"] in left["made"]


async def test_a_pool_add_sent_again_after_a_crash_before_its_rows_still_edits_the_targets(world, monkeypatch):
    """The first attempt of a pool's add made the pool the desired request's, then died before its operation's rows
    were written; the same submit again (same Idempotency-Key) is still the pool's add: it edits the targets."""
    engine, queue, fake = world
    r = request((STORAGE,))
    await submit(engine, "create-cluster", r)
    await drain(engine, queue)
    key = cluster_key(r.subscription_id, r.resource_group, r.name)
    pool = {"name": "extra", "count": 1, "subnet": "auto", "vmSize": r.system_pool.vm_size}
    change = Change(key, {"pool": "extra"}, lambda c: ClusterRequest.model_validate(
        {**c, "userPools": [*(c.get("userPools") or []), pool]}))
    committed = importlib.import_module("shared.engine.submit")._commit

    async def crash(*_args, **_kwargs):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(importlib.import_module("shared.engine.submit"), "_commit", crash)
    with pytest.raises(RuntimeError):
        await submit_change(engine, "put-pool", change, pool="extra", idempotency_key="k1")
    assert any(p["name"] == "extra" for p in (await engine.registry.get(key)).request["userPools"])
    monkeypatch.setattr(importlib.import_module("shared.engine.submit"), "_commit", committed)
    again = await submit_change(engine, "put-pool", change, pool="extra", idempotency_key="k1")
    await drain(engine, queue)
    assert await state(engine, again.operation_id) == "succeeded"
    rules = fake.resources[STORAGE.lower()]["properties"]["networkAcls"]["virtualNetworkRules"]
    assert {"id": arm.pool_subnet_id(r, Pool(name="extra", vm_size="-", count=1, subnet="auto")),
            "action": "Allow"} in rules
