"""The other half of a service endpoint, end to end (the engine over Azurite and the ARM emulator): a create adds the
cluster's node subnet to a storage account's and a Key Vault's VNet rules, keeping the rules already there; the
cluster's delete removes only that rule; the emulator refuses a rule whose subnet lacks the service's endpoint, as
Azure does; and a 403 on the target's write is a skipped step, not a failed create."""

from __future__ import annotations

import asyncio
import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from shared.engine.records import cluster_key
from tests.integration.engine_harness import harness
from tests.integration.test_armemu_resources import LOCATION, make_group

pytestmark = pytest.mark.integration

STORAGE, VAULT = "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"
API = {STORAGE: "2025-01-01", VAULT: "2024-11-01"}


def resources(armemu) -> ResourceManagementClient:
    return armemu.client(ResourceManagementClient)


def other_subnets(armemu, **services: list[str]) -> dict[str, str]:
    """Subnets of another team's VNet, by name, each with the given service endpoints (one a target admits already)."""
    make_group(armemu)
    network = armemu.client(NetworkManagementClient)
    vnet = network.virtual_networks.begin_create_or_update("rg-test", "vnet1", {
        "location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": ["10.40.0.0/16"]}, "subnets": [
            {"name": name, "properties": {"addressPrefix": f"10.40.{i}.0/24",
                                          "serviceEndpoints": [{"service": s} for s in endpoints]}}
            for i, (name, endpoints) in enumerate(services.items())]}}).result()
    return {s.name: s.id for s in vnet.subnets}


def make_targets(armemu, existing: str) -> tuple[str, str]:
    """A storage account and a Key Vault whose firewalls admit `existing` and an IP range, and deny the rest."""
    group = make_group(armemu)
    account = resources(armemu).resources.begin_create_or_update_by_id(
        f"{group}/providers/{STORAGE}/stsharedfiles", {
            "location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "properties": {
                "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices",
                                "ipRules": [{"value": "203.0.113.0/24", "action": "Allow"}],
                                "virtualNetworkRules": [{"id": existing, "action": "Allow"}]}}},
        api_version=API[STORAGE]).result()
    vault = resources(armemu).resources.begin_create_or_update_by_id(f"{group}/providers/{VAULT}/kv-shared-1", {
        "location": LOCATION, "properties": {
            "tenantId": armemu.emulator.settings.tenant_id, "sku": {"family": "A", "name": "standard"},
            "networkAcls": {"defaultAction": "Deny", "bypass": "None", "virtualNetworkRules": [{"id": existing}]}}},
        api_version=API[VAULT]).result()
    return account.id, vault.id


def rules(armemu, target: str, type_name: str) -> dict:
    found = resources(armemu).resources.get_by_id(target, api_version=API[type_name])
    return found.properties["networkAcls"]


def request(*targets: str) -> dict:
    return {"name": "files-dev", "resourceGroup": "rg-files", "location": "westeurope",
            "network": {"serviceEndpoints": ["Microsoft.Storage", "Microsoft.KeyVault"],
                        "serviceEndpointTargets": [{"targetResourceId": t} for t in targets]}}


async def released(h, raw: dict) -> None:
    """Until the cluster's queue is empty (the worker releases an ended operation just after saving its state)."""
    key = cluster_key(h.armemu.subscription_id, raw["resourceGroup"], raw["name"])
    deadline = time.monotonic() + 30
    while (cluster := await h.engine.registry.get(key)) is None or cluster.queue:
        assert time.monotonic() < deadline, cluster
        await asyncio.sleep(0.02)  # polling a condition against a deadline


async def test_a_create_adds_the_node_subnet_to_the_targets_rules_and_its_delete_removes_only_it(
        armemu, azurite_connection_string):
    existing = other_subnets(armemu, apps=["Microsoft.Storage", "Microsoft.KeyVault"])["apps"]
    account, vault = make_targets(armemu, existing)
    raw = request(account, vault)
    node_subnet = (f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-files/providers/Microsoft.Network/"
                   "virtualNetworks/vnet-files-dev/subnets/snet-nodes")
    async with harness(armemu, azurite_connection_string) as h:
        created = await h.wait_done(await h.submit(raw))
        assert created["state"] == "succeeded", created.get("error")
        acls = rules(armemu, account, STORAGE)
        assert acls["virtualNetworkRules"] == [{"id": existing, "action": "Allow"},
                                               {"id": node_subnet, "action": "Allow"}]
        assert (acls["defaultAction"], acls["bypass"], acls["ipRules"]) == (  # the owner's choices, untouched
            "Deny", "AzureServices", [{"value": "203.0.113.0/24", "action": "Allow"}])
        assert rules(armemu, vault, VAULT) == {"defaultAction": "Deny", "bypass": "None",
                                               "virtualNetworkRules": [{"id": existing}, {"id": node_subnet}]}
        await released(h, raw)
        deleted = await h.wait_done(await h.submit(raw, kind="delete-cluster"))
        assert deleted["state"] == "succeeded", deleted.get("error")
    assert rules(armemu, account, STORAGE)["virtualNetworkRules"] == [{"id": existing, "action": "Allow"}]
    assert rules(armemu, vault, VAULT)["virtualNetworkRules"] == [{"id": existing}]
    sent = [(r["method"], r["path"].split("?")[0].lower()) for r in armemu.requests()]
    edits = [m for m, path in sent if path in (account.lower(), vault.lower()) and m not in ("GET",)]
    assert edits == ["PUT", "PUT", "PATCH", "PATCH", "PATCH", "PATCH"]  # made here, then one edit each way, no DELETE


async def test_a_pool_added_on_its_own_subnet_is_admitted_and_its_delete_removes_only_its_rule(
        armemu, azurite_connection_string):
    """A pool added later on a subnet of its own carries the request's service endpoints, so the targets admit it as
    they admit the node subnet; a rule the target's owner removes stays removed through changes and scales of the
    pool; deleting the pool removes its rule (from the vault, where it still was) and keeps the others."""
    existing = other_subnets(armemu, apps=["Microsoft.Storage", "Microsoft.KeyVault"])["apps"]
    account, vault = make_targets(armemu, existing)
    raw = request(account, vault)
    vnet = (f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-files/providers/Microsoft.Network/"
            "virtualNetworks/vnet-files-dev")
    node_subnet, pool_subnet = f"{vnet}/subnets/snet-nodes", f"{vnet}/subnets/snet-pool-batch"
    with_pool = {**raw, "userPools": [{"name": "apps"}, {"name": "batch", "subnet": "auto"}]}
    async with harness(armemu, azurite_connection_string) as h:
        created = await h.wait_done(await h.submit({**raw, "userPools": [{"name": "apps"}]}))
        assert created["state"] == "succeeded", created.get("error")
        await released(h, raw)
        added = await h.wait_done(await h.submit(with_pool, kind="put-pool", pool="batch"))
        assert added["state"] == "succeeded", added.get("error")
        assert rules(armemu, account, STORAGE)["virtualNetworkRules"] == [
            {"id": existing, "action": "Allow"}, {"id": node_subnet, "action": "Allow"},
            {"id": pool_subnet, "action": "Allow"}]
        assert rules(armemu, vault, VAULT)["virtualNetworkRules"] == [
            {"id": existing}, {"id": node_subnet}, {"id": pool_subnet}]
        await released(h, raw)
        # the target's owner removes the pool's rule: a change or a scale of the pool that exists leaves it removed
        revoked = [{"id": existing, "action": "Allow"}, {"id": node_subnet, "action": "Allow"}]
        acls = {**rules(armemu, account, STORAGE), "virtualNetworkRules": revoked}
        resources(armemu).resources.begin_update_by_id(account, api_version=API[STORAGE], parameters={
            "properties": {"networkAcls": acls}}).result()
        for kind, count in (("update-pool", 1), ("put-pool", 2)):
            scaled = {**with_pool, "userPools": [{"name": "apps"}, {"name": "batch", "subnet": "auto",
                                                                     "count": count}]}
            again = await h.wait_done(await h.submit(scaled, kind=kind, pool="batch"))
            assert again["state"] == "succeeded", again.get("error")
            assert rules(armemu, account, STORAGE)["virtualNetworkRules"] == revoked, kind
            await released(h, raw)
        gone = await h.wait_done(await h.submit({**raw, "userPools": [{"name": "apps"}]}, kind="delete-pool",
                                                pool="batch"))
        assert gone["state"] == "succeeded", gone.get("error")
    assert rules(armemu, account, STORAGE)["virtualNetworkRules"] == revoked
    assert rules(armemu, vault, VAULT)["virtualNetworkRules"] == [{"id": existing}, {"id": node_subnet}]


async def test_a_target_aksvend_may_not_write_is_a_skipped_step_not_a_failed_create(
        armemu, azurite_connection_string):
    existing = other_subnets(armemu, apps=["Microsoft.Storage", "Microsoft.KeyVault"])["apps"]
    account, _vault = make_targets(armemu, existing)
    armemu.set_faults({"seed": 1, "rules": [{"method": "PATCH", "resourceType": STORAGE, "action": "status",
                                             "status": 403, "code": "AuthorizationFailed",
                                             "message": "The client does not have authorization to perform action "
                                                        "'Microsoft.Storage/storageAccounts/write'."}]})
    async with harness(armemu, azurite_connection_string) as h:
        op_id = await h.submit(request(account))
        created = await h.wait_done(op_id)
        history = await h.engine.history.read(op_id, 100)
    assert created["state"] == "succeeded", created.get("error")
    skipped = [t.message for t in history if t.kind == "skipped"]
    assert len(skipped) == 1 and "AuthorizationFailed" in skipped[0] and account in skipped[0]
    assert rules(armemu, account, STORAGE)["virtualNetworkRules"] == [{"id": existing, "action": "Allow"}]


@pytest.mark.parametrize(("type_name", "code"), [(STORAGE, "NetworkAclsValidationFailure"),
                                                 (VAULT, "SubnetsHaveNoServiceEndpointsConfigured")])
def test_the_emulator_refuses_a_rule_whose_subnet_lacks_the_services_endpoint(armemu, type_name, code):
    subnets = other_subnets(armemu, apps=["Microsoft.Storage", "Microsoft.KeyVault"], legacy=["Microsoft.Sql"])
    existing, without = subnets["apps"], subnets["legacy"]
    target = make_targets(armemu, existing)[0 if type_name == STORAGE else 1]
    rule = {"id": without, "action": "Allow"} if type_name == STORAGE else {"id": without}
    with pytest.raises(HttpResponseError) as caught:
        resources(armemu).resources.begin_update_by_id(target, api_version=API[type_name], parameters={
            "properties": {"networkAcls": {"defaultAction": "Deny", "virtualNetworkRules": [rule]}}}).result()
    assert caught.value.status_code == 400 and caught.value.error.code == code
    service = "Microsoft.Storage" if type_name == STORAGE else "Microsoft.KeyVault"
    assert f"do not have ServiceEndpoints for {service} resources configured" in str(caught.value)
    assert rules(armemu, target, type_name)["virtualNetworkRules"] == [rule | {"id": existing}]
