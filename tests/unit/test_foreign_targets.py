"""A cluster request names resources outside the cluster's resource group: private endpoint targets
(`network.privateEndpoints[].targetResourceId`), the Log Analytics workspace (`addons.logAnalyticsWorkspaceId`) and
a private API server's DNS zone (`apiServer.privateDnsZone`, on which the cluster identity is granted Private DNS Zone
Contributor).
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


@pytest.mark.parametrize("extra", [
    {"apiServer": {"private": True, "privateDnsZone": zone("rg-other")}},
    {"network": {"privateEndpoints": [{"name": "data", "targetResourceId": account("rg-other"), "groupId": "blob"}]}},
    {"addons": {"monitoring": True, "logAnalyticsWorkspaceId": workspace("rg-other")}}])
async def test_a_request_may_not_bind_the_cluster_to_another_teams_resources(world, extra):  # noqa: F811
    engine, _, arm, _ = world
    service = Clusters(engine, POLICY, SUB)
    raw = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope", **extra}
    with pytest.raises(NotPermitted) as refused:
        await service.create(raw, principal("dev"))
    assert "rg-other" in refused.value.detail
    assert arm.puts == []
    own = {k: {**v, **({"privateEndpoints": [{**v["privateEndpoints"][0], "targetResourceId": account("rg-team-data")}]}
                       if "privateEndpoints" in v else {"privateDnsZone": zone("rg-team-dns")} if "privateDnsZone" in v
                       else {"logAnalyticsWorkspaceId": workspace("rg-team-data")})}
           for k, v in extra.items()}
    assert (await service.create({**raw, **own}, principal("dev"))).created
