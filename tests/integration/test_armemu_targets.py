"""The resource types az and aksvend need beyond AKS and the network, through the real SDKs where installed (generic
resources for Key Vault, ACR and Log Analytics, whose management SDKs aksvend does not use; azure-core for the
storage name check): Key Vaults and registries as private endpoint targets, Log Analytics workspaces and the
monitoring add-on's check, storage checkNameAvailability."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.integration.test_armemu_resources import LOCATION, make_group, make_vnet

pytestmark = pytest.mark.integration

RG = "rg-test"
VAULTS, REGISTRIES = "Microsoft.KeyVault/vaults", "Microsoft.ContainerRegistry/registries"
WORKSPACES = "Microsoft.OperationalInsights/workspaces"
API = {VAULTS: "2024-11-01", REGISTRIES: "2025-04-01", WORKSPACES: "2025-02-01"}


def put(armemu, group: str, type_name: str, name: str, body: dict):
    resources = armemu.client(ResourceManagementClient)
    return resources.resources.begin_create_or_update_by_id(
        f"{group}/providers/{type_name}/{name}", body, api_version=API[type_name]).result()


def vault_body(armemu, **props) -> dict:
    return {"location": LOCATION, "properties": {"tenantId": armemu.emulator.settings.tenant_id,
                                                 "sku": {"family": "A", "name": "standard"}, **props}}


def refused(call, *args) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call(*args)
    return caught.value


def test_a_key_vault_and_a_registry_get_their_uris_and_refuse_bad_or_taken_names(armemu):
    group = make_group(armemu)
    vault = put(armemu, group, VAULTS, "kv-aksvend1", vault_body(armemu))
    assert vault.properties["vaultUri"] == "https://kv-aksvend1.vault.azure.net/"
    assert (vault.properties["sku"], vault.properties["provisioningState"]) == (
        {"family": "A", "name": "standard"}, "Succeeded")
    registry = put(armemu, group, REGISTRIES, "AksVendAcr1", {"location": LOCATION, "sku": {"name": "Premium"}})
    assert (registry.properties["loginServer"], registry.properties["provisioningState"]) == (
        "aksvendacr1.azurecr.io", "Succeeded")
    cases = [
        (VAULTS, "1kv", vault_body(armemu), 400, "VaultNameNotValid"),
        (VAULTS, "kv--double", vault_body(armemu), 400, "VaultNameNotValid"),
        (VAULTS, "kv-aksvend1-other", {"location": LOCATION, "properties": {"tenantId": "t"}}, 400, "InvalidParameter"),
        (REGISTRIES, "acr-dash", {"location": LOCATION, "sku": {"name": "Basic"}}, 400, "InvalidParameter"),
        (REGISTRIES, "acr1", {"location": LOCATION, "sku": {"name": "Basic"}}, 400, "InvalidParameter"),
        (REGISTRIES, "goodname", {"location": LOCATION, "sku": {"name": "Free"}}, 400, "InvalidParameter"),
    ]
    for type_name, name, body, status, code in cases:
        error = refused(put, armemu, group, type_name, name, body)
        assert (error.status_code, error.error.code) == (status, code), name
    other = make_group(armemu, "rg-other")  # names are global: another group cannot take them
    assert refused(lambda: put(armemu, other, VAULTS, "KV-AKSVEND1", vault_body(armemu))).error.code == (
        "VaultAlreadyExists")
    assert refused(lambda: put(armemu, other, REGISTRIES, "aksvendacr1", {
        "location": LOCATION, "sku": {"name": "Basic"}})).error.code == "AlreadyInUse"


@pytest.mark.parametrize(("type_name", "name", "body", "group_id", "zone", "records"), [
    (VAULTS, "kv-pe1", None, "vault", "privatelink.vaultcore.azure.net", ["kv-pe1"]),
    (REGISTRIES, "acrpe1", {"location": LOCATION, "sku": {"name": "Premium"}}, "registry", "privatelink.azurecr.io",
     ["acrpe1", f"acrpe1.{LOCATION}.data"]),
])
def test_a_vault_and_a_registry_are_private_endpoint_targets_with_their_dns_records(
        armemu, type_name, name, body, group_id, zone, records):
    group = make_group(armemu)
    vnet = make_vnet(armemu)
    target = put(armemu, group, type_name, name, body or vault_body(armemu))
    network = armemu.client(NetworkManagementClient)
    subnet = next(s for s in vnet.subnets if s.name == "endpoints")
    endpoint = network.private_endpoints.begin_create_or_update(RG, f"pe-{name}", {
        "location": LOCATION, "properties": {"subnet": {"id": subnet.id}, "privateLinkServiceConnections": [
            {"name": "c", "properties": {"privateLinkServiceId": target.id, "groupIds": [group_id]}}]}}).result()
    assert endpoint.provisioning_state == "Succeeded"
    dns_zone = armemu.client(PrivateDnsManagementClient).private_zones.begin_create_or_update(
        RG, zone, {"location": "global"}).result()
    zone_group = network.private_dns_zone_groups.begin_create_or_update(RG, f"pe-{name}", "default", {
        "properties": {"privateDnsZoneConfigs": [{"name": "z", "properties": {"privateDnsZoneId": dns_zone.id}}]}},
    ).result()
    sets = zone_group.private_dns_zone_configs[0].record_sets
    assert [s.record_set_name for s in sets] == records
    assert {s.fqdn for s in sets} == {f"{r}.{zone}" for r in records}
    assert all(s.ip_addresses == [endpoint.custom_dns_configs[0].ip_addresses[0]] for s in sets)


@pytest.mark.parametrize("sku", ["Basic", "Standard"])
def test_a_registry_below_premium_takes_no_private_endpoint(armemu, sku):
    """ACR's private link is a Premium feature: the endpoint's operation fails, as it does for a missing target."""
    group = make_group(armemu)
    vnet = make_vnet(armemu)
    target = put(armemu, group, REGISTRIES, f"acr{sku.lower()}1", {"location": LOCATION, "sku": {"name": sku}})
    subnet = next(s for s in vnet.subnets if s.name == "endpoints")
    network = armemu.client(NetworkManagementClient)
    with pytest.raises(HttpResponseError) as caught:
        network.private_endpoints.begin_create_or_update(RG, f"pe-{sku}", {
            "location": LOCATION, "properties": {"subnet": {"id": subnet.id}, "privateLinkServiceConnections": [
                {"name": "c", "properties": {"privateLinkServiceId": target.id, "groupIds": ["registry"]}}]}}).result()
    assert "PrivateEndpointNotSupportedForSku" in str(caught.value)
    assert f"SKU {sku}" in str(caught.value)


def test_a_workspace_gets_a_customer_id_and_the_monitoring_add_on_needs_it_to_exist(armemu):
    group = make_group(armemu)
    workspace = put(armemu, group, WORKSPACES, "law-aksvend", {"location": LOCATION, "properties": {}})
    props = workspace.properties
    assert (props["sku"]["name"], props["retentionInDays"], props["provisioningState"]) == ("PerGB2018", 30,
                                                                                           "Succeeded")
    assert len(props["customerId"]) == 36 and props["customerId"].count("-") == 4
    error = refused(lambda: put(armemu, group, WORKSPACES, "law-short", {"location": LOCATION, "properties": {
        "retentionInDays": 7}}))
    assert (error.status_code, error.error.code) == (400, "InvalidParameter")
    aks = armemu.client(ContainerServiceClient)

    def cluster(workspace_id: str) -> dict:
        return {"location": LOCATION, "properties": {
            "dnsPrefix": "mon", "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 1}],
            "addonProfiles": {"omsagent": {"enabled": True, "config": {
                "logAnalyticsWorkspaceResourceID": workspace_id}}}}}

    missing = f"{group}/providers/{WORKSPACES}/law-gone"
    error = refused(lambda: aks.managed_clusters.begin_create_or_update(RG, "mon", cluster(missing)))
    assert error.status_code == 400 and "Unable to get log analytics workspace info" in error.error.message
    assert "law-gone" in error.error.message
    aks.managed_clusters.begin_create_or_update(RG, "mon", cluster(workspace.id)).result()
    resources = armemu.client(ResourceManagementClient).resources
    resources.begin_delete_by_id(workspace.id, api_version=API[WORKSPACES]).result()
    error = refused(lambda: aks.agent_pools.begin_create_or_update(RG, "mon", "system", {"properties": {
        "mode": "System", "count": 2}}))  # a scale after the workspace went: AKS's troubleshooting case
    assert error.status_code == 400 and "Unable to get log analytics workspace info" in error.error.message


def test_storage_check_name_availability_answers_as_the_storage_rp(armemu):
    group = make_group(armemu)
    armemu.client(ResourceManagementClient).resources.begin_create_or_update_by_id(
        f"{group}/providers/Microsoft.Storage/storageAccounts/sttaken1",
        {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}, api_version="2024-01-01").result()
    url = (f"{armemu.base_url}/subscriptions/{armemu.subscription_id}/providers/Microsoft.Storage/"
           "checkNameAvailability?api-version=2024-01-01")

    def check(name) -> tuple[int, dict]:
        body = {"name": name, "type": "Microsoft.Storage/storageAccounts"}
        response = armemu.pipeline().send_request(HttpRequest("POST", url, json=body))
        return response.status_code, response.json()

    assert check("stfree1") == (200, {"nameAvailable": True})
    status, taken = check("sttaken1")
    assert (status, taken["nameAvailable"], taken["reason"]) == (200, False, "AlreadyExists")
    assert taken["message"] == "The storage account named sttaken1 is already taken."
    status, bad = check("Not_Valid")
    assert (status, bad["nameAvailable"], bad["reason"]) == (200, False, "AccountNameInvalid")
    status, error = check(None)
    assert status == 400 and error["error"]["target"] == "name"
