"""Built-in role definitions in the emulator, read as the Azure CLI reads them (issue 16): `az aks create
--vnet-subnet-id` and `az role assignment create --role "Network Contributor"` list role definitions by name at the
subnet's scope and put the id they get into a role assignment."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

pytestmark = pytest.mark.integration

SCOPE = "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"


def test_a_role_is_found_by_name_at_any_scope_with_azures_guid(armemu):
    auth = armemu.client(AuthorizationManagementClient)
    scope = SCOPE.format(sub=armemu.subscription_id)
    [role] = auth.role_definitions.list(scope, filter="roleName eq 'Network Contributor'")
    assert role.id == (
        f"/subscriptions/{armemu.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/"
        "4d97b98b-1d4f-4787-a291-c67834d212e7"
    )
    assert (role.role_name, role.role_type, role.assignable_scopes) == ("Network Contributor", "BuiltInRole", ["/"])
    assert list(auth.role_definitions.list(scope, filter="roleName eq 'No Such Role'")) == []
    names = {r.role_name for r in auth.role_definitions.list(f"/subscriptions/{armemu.subscription_id}")}
    assert {"Owner", "Contributor", "Reader", "Managed Identity Operator", "AcrPull"} <= names


def test_a_role_is_read_by_its_id_and_an_unknown_one_is_404(armemu):
    auth = armemu.client(AuthorizationManagementClient)
    scope = f"/subscriptions/{armemu.subscription_id}"
    assert (
        auth.role_definitions.get(scope, "f1a07417-d97a-45cb-824c-7a7467783830").role_name
        == "Managed Identity Operator"
    )
    with pytest.raises(ResourceNotFoundError) as caught:
        auth.role_definitions.get(scope, "00000000-1111-2222-3333-444444444444")
    assert caught.value.error.code == "RoleDefinitionDoesNotExist"


def test_a_role_assignment_naming_an_unknown_role_is_refused(armemu):
    auth = armemu.client(AuthorizationManagementClient)
    scope = f"/subscriptions/{armemu.subscription_id}"
    params = RoleAssignmentCreateParameters(
        role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/00000000-1111-2222-3333-444444444444",
        principal_id="11111111-2222-3333-4444-555555555555",
    )
    with pytest.raises(HttpResponseError) as caught:
        auth.role_assignments.create(scope, "6a2e0f5c-3c4b-4d8e-9f10-333333333333", params)
    assert caught.value.status_code == 400 and caught.value.error.code == "RoleDefinitionDoesNotExist"
