"""A cluster request names resources outside the cluster's resource group: private endpoint targets
(`network.privateEndpoints[].targetResourceId`), the Log Analytics workspace (`addons.logAnalyticsWorkspaceId`) and
a private API server's DNS zone (`apiServer.privateDnsZone`, on which the cluster identity is granted Private DNS Zone
Contributor), and what a bring-your-own network or identity names (existing subnets, the hub VNet, an identity).
aksvend's identity, which may act on whole subscriptions, makes the endpoint (approved at once when the maker has
rights on the target) and points the monitoring add-on at the workspace: so the caller must be one the policy lets
`create` in the target's subscription and resource group too, or anyone could link their cluster to another
team's storage account or Key Vault (a confused deputy)."""

from __future__ import annotations

import pytest

from shared.domain.policy import Policy
from shared.refusals import NotPermitted
from shared.services.clusters import Clusters
from tests.principals import pid, principal
from tests.unit.test_engine import world  # noqa: F401 (the fixture)

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                           "resourceGroups": ["rg-team*"], "actions": ["create", "read"]}]})


def account(rg: str) -> str:
    name = rg.replace("-", "")
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/st{name}"


def workspace(rg: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/law"


def zone(rg: str) -> str:
    return (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/privateDnsZones/"
            "privatelink.westeurope.azmk8s.io")


async def refused_create(world, raw) -> str:  # noqa: F811
    """The 403 `dev`'s create of `raw` gets under POLICY, with nothing sent to ARM; its detail."""
    engine, _, arm, _ = world
    with pytest.raises(NotPermitted) as refused:
        await Clusters(engine, POLICY, SUB).create(raw, principal("dev"))
    assert arm.puts == []
    return refused.value.detail


@pytest.mark.parametrize("extra", [
    {"apiServer": {"private": True, "privateDnsZone": zone("rg-other")}},
    {"network": {"privateEndpoints": [{"name": "data", "targetResourceId": account("rg-other"), "groupId": "blob"}]}},
    {"addons": {"monitoring": True, "logAnalyticsWorkspaceId": workspace("rg-other")}}])
async def test_a_request_may_not_bind_the_cluster_to_another_teams_resources(world, extra):  # noqa: F811
    engine = world[0]
    service = Clusters(engine, POLICY, SUB)
    raw = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope", **extra}
    assert "rg-other" in await refused_create(world, raw)
    own = {k: {**v, **({"privateEndpoints": [{**v["privateEndpoints"][0], "targetResourceId": account("rg-team-data")}]}
                       if "privateEndpoints" in v else {"privateDnsZone": zone("rg-team-dns")} if "privateDnsZone" in v
                       else {"logAnalyticsWorkspaceId": workspace("rg-team-data")})}
           for k, v in extra.items()}
    assert (await service.create({**raw, **own}, principal("dev"))).created


def subnet(rg: str, name: str = "snet-aks") -> str:
    vnet = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-spoke"
    return f"{vnet}/subnets/{name}"


BYO_LINKS = [
    # an existing node subnet: the cluster identity would get Network Contributor on another team's subnet
    {"network": {"existing": {"nodeSubnetId": subnet("rg-other")}, "serviceEndpoints": []}},
    # the spoke side of a peering to another team's hub
    {"network": {"hubVnetId": subnet("rg-other").rsplit("/subnets/", 1)[0]}},
    # an existing identity AKS would be handed
    {"network": {"existing": {"nodeSubnetId": subnet("rg-team-net")}, "serviceEndpoints": []},
     "identity": {"resourceId": f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/"
                                "Microsoft.ManagedIdentity/userAssignedIdentities/id-ops"}},
]


@pytest.mark.parametrize("extra", BYO_LINKS, ids=["node-subnet", "hub", "identity"])
async def test_what_a_bring_your_own_network_or_identity_names_is_the_callers_to_give(world, extra):  # noqa: F811
    detail = await refused_create(world, {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope",
                                          **extra})
    assert "rg-other" in detail and "existing subnet" in detail


async def test_a_pool_change_may_not_put_a_pool_on_another_teams_subnet(world):  # noqa: F811
    """The change path is held to the links it adds: a pool PUT naming another team's subnet would have the cluster
    identity granted Network Contributor on it by aksvend."""
    engine, _, arm, _ = world
    service = Clusters(engine, Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                                                 "resourceGroups": ["rg-team*"],
                                                                 "actions": ["create", "read", "change"]}]}), SUB)
    await service.create({"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope"}, principal("dev"))
    before = len(arm.puts)
    with pytest.raises(NotPermitted) as refused:
        await service.put_pool(SUB, "rg-team-a", "c1", "extra", {"vmSize": "Standard_D4s_v5", "count": 1,
                                                                  "subnet": subnet("rg-other", "snet-x")},
                               principal("dev"), None)
    assert "rg-other" in refused.value.detail
    assert len(arm.puts) == before
    accepted = await service.put_pool(SUB, "rg-team-a", "c1", "extra", {"vmSize": "Standard_D4s_v5", "count": 1,
                                                                         "subnet": subnet("rg-team-net", "snet-x")},
                                      principal("dev"), None)
    assert accepted.created


def network_team_and_developer(engine) -> Clusters:
    """The network team may create anywhere; a developer may change clusters in rg-team-a only."""
    return Clusters(engine, Policy.model_validate({"rules": [
        {"principals": [pid("net")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["create", "read"]},
        {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-team-a"],
         "actions": ["change", "read"]}]}), SUB)


async def test_a_change_is_held_to_each_resource_it_links_even_in_a_group_the_cluster_links_to(world):  # noqa: F811
    """The network team put the cluster on its spoke in rg-net; a developer with `change` on the cluster's group only
    may not put a pool on another subnet of rg-net (aksvend would grant the cluster identity Network Contributor
    there)."""
    engine, _, arm, _ = world
    service = network_team_and_developer(engine)
    await service.create({"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope", "network": {
        "existing": {"nodeSubnetId": subnet("rg-net")}, "serviceEndpoints": []}}, principal("net"))
    before = len(arm.puts)
    with pytest.raises(NotPermitted) as refused:
        await service.put_pool(SUB, "rg-team-a", "c1", "extra", {"vmSize": "Standard_D4s_v5", "count": 1,
                                                                  "subnet": subnet("rg-net", "AzureFirewallSubnet")},
                               principal("dev"), None)
    assert "rg-net" in refused.value.detail and len(arm.puts) == before


async def test_a_resource_group_that_only_python_folds_to_the_callers_is_another_group(world):  # noqa: F811
    """'rg-\u212a' (the Kelvin sign) is not 'rg-k' for ARM nor for the policy: a target there is a foreign one."""
    engine, _, arm, _ = world
    service = Clusters(engine, Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                                                 "resourceGroups": ["rg-k"], "actions": ["create"]}]}),
                       SUB)
    with pytest.raises(NotPermitted):
        await service.create({"name": "c1", "resourceGroup": "rg-k", "location": "westeurope", "network": {
            "privateEndpoints": [{"name": "data", "targetResourceId": account("rg-\u212a"), "groupId": "blob"}]}},
            principal("dev"))
    assert arm.puts == []


@pytest.mark.parametrize("extra", [
    {"addons": {"monitoring": True, "logAnalyticsWorkspaceId":
                f"/subscriptions/{SUB}/providers/Microsoft.OperationalInsights/workspaces/law"}},
    {"apiServer": {"private": True, "privateDnsZone":
                   f"/subscriptions/{SUB}/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io"}}])
async def test_a_linked_id_without_a_resource_group_is_refused_by_the_rules(world, extra):  # noqa: F811
    from shared.refusals import InvalidInput

    engine, _, arm, _ = world
    with pytest.raises(InvalidInput) as refused:
        await Clusters(engine, POLICY, SUB).create({"name": "c1", "resourceGroup": "rg-team-a",
                                                    "location": "westeurope", **extra}, principal("dev"))
    assert any("resource group" in v.message for v in refused.value.violations)
    assert arm.puts == []


async def test_a_subnet_linked_for_private_endpoints_is_a_new_link_as_a_pools_subnet(world):  # noqa: F811
    """Second attack review: the cluster's private endpoint subnet (no role on it) put under a pool would have the
    cluster identity granted Network Contributor there; a link counts with its use."""
    engine, _, arm, _ = world
    service = network_team_and_developer(engine)
    await service.create({"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope", "network": {
        "existing": {"nodeSubnetId": subnet("rg-team-a"), "privateEndpointSubnetId": subnet("rg-net", "snet-pe")},
        "serviceEndpoints": []}}, principal("net"))
    before = len(arm.puts)
    with pytest.raises(NotPermitted) as refused:
        await service.put_pool(SUB, "rg-team-a", "c1", "extra", {"vmSize": "Standard_D4s_v5", "count": 1,
                                                                  "subnet": subnet("rg-net", "snet-pe")},
                               principal("dev"), None)
    assert "rg-net" in refused.value.detail and len(arm.puts) == before
