"""The ARM emulator's non-AKS resource types, through the real Azure SDK clients: create, get, list, delete; the
parent-must-exist rule; ARM error bodies; the network rules (overlapping subnets, private endpoint targets)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2024_11_30.models import Identity
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

pytestmark = pytest.mark.integration

LOCATION = "westeurope"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def make_group(armemu, name: str = "rg-test") -> str:
    resources = armemu.client(ResourceManagementClient)
    resources.resource_groups.create_or_update(name, {"location": LOCATION})
    return f"/subscriptions/{armemu.subscription_id}/resourceGroups/{name}"


def make_vnet(armemu, group: str = "rg-test", name: str = "vnet1", subnets=None):
    network = armemu.client(NetworkManagementClient)
    subnets = subnets if subnets is not None else [("nodes", "10.40.0.0/22"), ("endpoints", "10.40.4.0/24")]
    body = {
        "location": LOCATION,
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.40.0.0/16"]},
            "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets],
        },
    }
    return network.virtual_networks.begin_create_or_update(group, name, body).result()


def test_resource_group_create_get_list_delete(armemu):
    resources = armemu.client(ResourceManagementClient)
    created = resources.resource_groups.create_or_update("rg-a", {"location": "West Europe", "tags": {"team": "x"}})
    assert created.location == "westeurope"
    assert resources.resource_groups.get("rg-a").tags == {"team": "x"}
    assert resources.resource_groups.check_existence("rg-a") is True
    assert "rg-a" in [g.name for g in resources.resource_groups.list()]
    resources.resource_groups.begin_delete("rg-a").result()
    assert resources.resource_groups.check_existence("rg-a") is False
    with pytest.raises(ResourceNotFoundError) as caught:
        resources.resource_groups.get("rg-a")
    assert caught.value.error.code == "ResourceGroupNotFound"


def test_deleting_a_resource_group_deletes_what_is_inside(armemu):
    make_group(armemu)
    make_vnet(armemu)
    armemu.client(ResourceManagementClient).resource_groups.begin_delete("rg-test").result()
    assert armemu.inventory("Microsoft.Network/virtualNetworks") == []
    assert armemu.inventory("Microsoft.Network/virtualNetworks/subnets") == []


def test_user_assigned_identity_has_principal_and_client_ids(armemu):
    make_group(armemu)
    msi = armemu.client(ManagedServiceIdentityClient)
    identity = msi.user_assigned_identities.create_or_update("rg-test", "id-cp", Identity(location=LOCATION))
    assert identity.principal_id and identity.client_id and identity.tenant_id
    again = msi.user_assigned_identities.get("rg-test", "id-cp")
    assert again.principal_id == identity.principal_id
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group("rg-test")] == ["id-cp"]
    msi.user_assigned_identities.delete("rg-test", "id-cp")
    with pytest.raises(ResourceNotFoundError) as caught:
        msi.user_assigned_identities.get("rg-test", "id-cp")
    assert caught.value.error.code == "ResourceNotFound"


def test_role_assignment_on_a_subnet_and_its_duplicate_refused(armemu):
    make_group(armemu)
    vnet = make_vnet(armemu)
    subnet_id = vnet.subnets[0].id
    auth = armemu.client(AuthorizationManagementClient)
    role_definitions = f"/subscriptions/{armemu.subscription_id}/providers/Microsoft.Authorization/roleDefinitions"
    role = f"{role_definitions}/{NETWORK_CONTRIBUTOR}"
    params = RoleAssignmentCreateParameters(
        role_definition_id=role, principal_id="11111111-2222-3333-4444-555555555555", principal_type="ServicePrincipal"
    )
    created = auth.role_assignments.create(subnet_id, "6a2e0f5c-3c4b-4d8e-9f10-111111111111", params)
    assert created.scope == subnet_id
    assert (
        auth.role_assignments.get(subnet_id, "6a2e0f5c-3c4b-4d8e-9f10-111111111111").principal_id == params.principal_id
    )
    assert len(list(auth.role_assignments.list_for_scope(subnet_id))) == 1
    with pytest.raises(HttpResponseError) as caught:
        auth.role_assignments.create(subnet_id, "6a2e0f5c-3c4b-4d8e-9f10-222222222222", params)
    assert caught.value.status_code == 409 and caught.value.error.code == "RoleAssignmentExists"
    auth.role_assignments.delete(subnet_id, "6a2e0f5c-3c4b-4d8e-9f10-111111111111")
    assert list(auth.role_assignments.list_for_scope(subnet_id)) == []


def test_vnet_with_inline_subnets_and_child_subnet_lifecycle(armemu):
    make_group(armemu)
    vnet = make_vnet(armemu)
    assert vnet.provisioning_state == "Succeeded"
    assert sorted(s.name for s in vnet.subnets) == ["endpoints", "nodes"]
    network = armemu.client(NetworkManagementClient)
    subnet = network.subnets.begin_create_or_update(
        "rg-test",
        "vnet1",
        "extra",
        {"properties": {"addressPrefix": "10.40.8.0/24", "serviceEndpoints": [{"service": "Microsoft.Storage"}]}},
    ).result()
    assert subnet.provisioning_state == "Succeeded"
    assert subnet.service_endpoints[0].service == "Microsoft.Storage"
    assert len(list(network.subnets.list("rg-test", "vnet1"))) == 3
    assert [v.name for v in network.virtual_networks.list("rg-test")] == ["vnet1"]
    assert [v.name for v in network.virtual_networks.list_all()] == ["vnet1"]
    network.subnets.begin_delete("rg-test", "vnet1", "extra").result()
    network.virtual_networks.begin_delete("rg-test", "vnet1").result()
    with pytest.raises(ResourceNotFoundError):
        network.virtual_networks.get("rg-test", "vnet1")


def test_overlapping_subnets_are_refused_with_400(armemu):
    make_group(armemu)
    with pytest.raises(HttpResponseError) as caught:
        make_vnet(armemu, subnets=[("a", "10.40.0.0/22"), ("b", "10.40.2.0/24")])
    assert caught.value.status_code == 400
    assert caught.value.error.code == "NetcfgSubnetRangesOverlap"
    make_vnet(armemu)
    network = armemu.client(NetworkManagementClient)
    with pytest.raises(HttpResponseError) as caught:
        network.subnets.begin_create_or_update(
            "rg-test", "vnet1", "c", {"properties": {"addressPrefix": "10.40.1.0/24"}}
        )
    assert caught.value.status_code == 400


def test_parent_must_exist(armemu):
    network = armemu.client(NetworkManagementClient)
    body = {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    with pytest.raises(ResourceNotFoundError) as caught:
        network.virtual_networks.begin_create_or_update("rg-missing", "v", body)
    assert caught.value.error.code == "ResourceGroupNotFound"
    make_group(armemu)
    with pytest.raises(ResourceNotFoundError) as caught:
        network.subnets.begin_create_or_update(
            "rg-test", "no-vnet", "s", {"properties": {"addressPrefix": "10.0.0.0/24"}}
        )
    assert caught.value.error.code == "ParentResourceNotFound"


def test_private_endpoint_with_dns_zone_group_to_a_storage_account(armemu):
    group = make_group(armemu)
    vnet = make_vnet(armemu)
    resources = armemu.client(ResourceManagementClient)
    account_id = f"{group}/providers/Microsoft.Storage/storageAccounts/stdata"
    account = resources.resources.begin_create_or_update_by_id(
        account_id,
        {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"},
        api_version="2024-01-01",
    ).result()
    assert account.properties["primaryEndpoints"]["blob"] == "https://stdata.blob.core.windows.net/"
    dns = armemu.client(PrivateDnsManagementClient)
    zone = dns.private_zones.begin_create_or_update(
        "rg-test", "privatelink.blob.core.windows.net", {"location": "global"}
    ).result()
    link = dns.virtual_network_links.begin_create_or_update(
        "rg-test",
        zone.name,
        "link1",
        {"location": "global", "properties": {"virtualNetwork": {"id": vnet.id}, "registrationEnabled": False}},
    ).result()
    assert link.virtual_network_link_state == "Completed"
    network = armemu.client(NetworkManagementClient)
    endpoint_subnet = next(s for s in vnet.subnets if s.name == "endpoints")
    endpoint = network.private_endpoints.begin_create_or_update(
        "rg-test",
        "pe-data",
        {
            "location": LOCATION,
            "properties": {
                "subnet": {"id": endpoint_subnet.id},
                "privateLinkServiceConnections": [
                    {"name": "data", "properties": {"privateLinkServiceId": account_id, "groupIds": ["blob"]}}
                ],
            },
        },
    ).result()
    assert endpoint.provisioning_state == "Succeeded"
    assert endpoint.custom_dns_configs[0].fqdn == "stdata.blob.core.windows.net"
    zone_group = network.private_dns_zone_groups.begin_create_or_update(
        "rg-test",
        "pe-data",
        "default",
        {"properties": {"privateDnsZoneConfigs": [{"name": "blob", "properties": {"privateDnsZoneId": zone.id}}]}},
    ).result()
    assert zone_group.provisioning_state == "Succeeded"
    assert [g.name for g in network.private_dns_zone_groups.list("pe-data", "rg-test")] == ["default"]
    assert [p.name for p in network.private_endpoints.list("rg-test")] == ["pe-data"]
    assert [z.name for z in dns.private_zones.list_by_resource_group("rg-test")] == [zone.name]
    with pytest.raises(HttpResponseError) as caught:
        network.subnets.begin_delete("rg-test", "vnet1", "endpoints").result()
    assert caught.value.error.code == "InUseSubnetCannotBeDeleted"
    network.private_dns_zone_groups.begin_delete("rg-test", "pe-data", "default").result()
    network.private_endpoints.begin_delete("rg-test", "pe-data").result()
    assert dns.private_zones.get("rg-test", zone.name).number_of_virtual_network_links == 1
    with pytest.raises(HttpResponseError) as caught:  # ARM keeps a zone with VNet links (409)
        dns.private_zones.begin_delete("rg-test", zone.name).result()
    assert (caught.value.status_code, caught.value.error.code) == (409, "CannotDeleteResource")
    dns.virtual_network_links.begin_delete("rg-test", zone.name, "link1").result()
    dns.private_zones.begin_delete("rg-test", zone.name).result()
    resources.resources.begin_delete_by_id(account_id, api_version="2024-01-01").result()
    assert armemu.inventory("Microsoft.Network/privateEndpoints") == []
    assert armemu.inventory("Microsoft.Storage/storageAccounts") == []


def test_private_endpoint_to_a_missing_target_fails_with_resource_not_found(armemu):
    group = make_group(armemu)
    vnet = make_vnet(armemu)
    network = armemu.client(NetworkManagementClient)
    poller = network.private_endpoints.begin_create_or_update(
        "rg-test",
        "pe-x",
        {
            "location": LOCATION,
            "properties": {
                "subnet": {"id": vnet.subnets[0].id},
                "privateLinkServiceConnections": [
                    {
                        "name": "x",
                        "properties": {
                            "privateLinkServiceId": f"{group}/providers/Microsoft.Storage/storageAccounts/nope",
                            "groupIds": ["blob"],
                        },
                    }
                ],
            },
        },
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert "ResourceNotFound" in str(caught.value)
    assert network.private_endpoints.get("rg-test", "pe-x").provisioning_state == "Failed"


def test_event_grid_system_topic_and_subscription_through_generic_resources(armemu):
    group = make_group(armemu)
    resources = armemu.client(ResourceManagementClient)
    topic_id = f"{group}/providers/Microsoft.EventGrid/systemTopics/health"
    topic = resources.resources.begin_create_or_update_by_id(
        topic_id,
        {
            "location": "global",
            "properties": {
                "source": f"/subscriptions/{armemu.subscription_id}",
                "topicType": "Microsoft.ResourceNotifications.HealthResources",
            },
        },
        api_version="2025-02-15",
    ).result()
    assert topic.properties["provisioningState"] == "Succeeded"
    sub_id = f"{topic_id}/eventSubscriptions/to-aksvend"
    resources.resources.begin_create_or_update_by_id(
        sub_id,
        {
            "properties": {
                "destination": {
                    "endpointType": "WebHook",
                    "properties": {"endpointUrl": "https://example.invalid/api/events?code=secret"},
                }
            }
        },
        api_version="2025-02-15",
    ).result()
    shown = resources.resources.get_by_id(sub_id, api_version="2025-02-15")
    assert shown.properties["destination"]["properties"] == {"endpointBaseUrl": "https://example.invalid/api/events"}
    listed = resources.resources.list_by_resource_group(
        "rg-test", filter="resourceType eq 'Microsoft.EventGrid/systemTopics'"
    )
    assert [r.name for r in listed] == ["health"]
    resources.resources.begin_delete_by_id(topic_id, api_version="2025-02-15").result()
    with pytest.raises(ResourceNotFoundError):
        resources.resources.get_by_id(sub_id, api_version="2025-02-15")
