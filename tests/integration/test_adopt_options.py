"""An adopted cluster keeps its options through a PATCH (issue 17): a public, non-Entra, Ubuntu, Standard-tier cluster
made directly in the ARM emulator is adopted through HTTP and PATCHed (tags), and ARM's cluster afterwards has the
same API server access, Entra ID, local accounts, security profile, network profile and pool OS SKUs as before: the
production profile's private API server, Entra ID, workload identity or Azure Linux never reach it; and what aksvend
does not model (an SSH key, KEDA, load balancer outbound IPs) is carried through the PATCH as ARM has it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.byo_setup import put
from tests.integration.test_http_lifecycle import PATCH, aks, done
from tests.integration.test_http_lifecycle import api as api  # the fixture

pytestmark = pytest.mark.integration
KEPT = ("apiServerAccessProfile", "aadProfile", "disableLocalAccounts", "securityProfile", "oidcIssuerProfile",
        "networkProfile", "autoUpgradeProfile", "addonProfiles", "linuxProfile", "workloadAutoScalerProfile")
SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0portal"


def portal_cluster() -> dict[str, Any]:
    """A cluster as the portal makes it: Standard tier, a public API server, local accounts, no Entra ID, Ubuntu."""
    def pool(name: str, mode: str, count: int) -> dict[str, Any]:
        return {"name": name, "mode": mode, "count": count, "vmSize": "Standard_D4s_v5", "osType": "Linux",
                "osSKU": "Ubuntu", "type": "VirtualMachineScaleSets", "availabilityZones": ["1", "2", "3"]}
    return {"location": "westeurope", "sku": {"name": "Base", "tier": "Standard"},
            "identity": {"type": "SystemAssigned"}, "tags": {"owner": "portal"},
            "properties": {"dnsPrefix": "portal-made", "enableRBAC": True, "disableLocalAccounts": False,
                           "autoUpgradeProfile": {"upgradeChannel": "stable", "nodeOSUpgradeChannel": "Unmanaged"},
                           # what aksvend does not model: carried through (shared/domain/arm/carry.py)
                           "linuxProfile": {"adminUsername": "portal", "ssh": {"publicKeys": [{"keyData": SSH_KEY}]}},
                           "workloadAutoScalerProfile": {"keda": {"enabled": True}},
                           "agentPoolProfiles": [pool("nodepool1", "System", 3), pool("work", "User", 1)],
                           "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                                              "podCidr": "10.244.0.0/16", "serviceCidr": "10.2.0.0/16",
                                              "dnsServiceIP": "10.2.0.10", "outboundType": "loadBalancer",
                                              "loadBalancerProfile": {"managedOutboundIPs": {"count": 2}}}}}


def settings(armemu, rg: str, name: str) -> tuple[dict[str, Any], dict[str, str | None], dict[str, str]]:
    """What must not change, as the SDK reads it: the cluster's options, each pool's OS SKU, and the tags.
    disableLocalAccounts absent is false, and an add-on absent is off (AKS's defaults; aksvend's body leaves the one
    out when it is off, and names the other with enabled false)."""
    cluster = aks(armemu).managed_clusters.get(rg, name).as_dict()
    pools = {p.name: p.os_sku for p in aks(armemu).agent_pools.list(rg, name)}
    props = {**cluster["properties"], "disableLocalAccounts": cluster["properties"].get("disableLocalAccounts") is True,
             "addonProfiles": {k: v for k, v in (cluster["properties"].get("addonProfiles") or {}).items()
                               if v.get("enabled")}}
    return {"sku": cluster.get("sku"), **{k: props.get(k) for k in KEPT}}, pools, cluster.get("tags") or {}


async def test_an_adopted_public_cluster_keeps_every_option_through_a_patch(api, armemu):
    client, _ = api
    rg, name = "rg-life-adopt", "life-adopt"
    group = f"/subscriptions/{armemu.subscription_id}/resourceGroups/{rg}"
    put(armemu, group, {"location": "westeurope"})
    put(armemu, f"{group}/providers/Microsoft.ContainerService/managedClusters/{name}", portal_cluster())
    before, pools, _ = settings(armemu, rg, name)
    assert not (before["apiServerAccessProfile"] or {}).get("enablePrivateCluster") and not before["aadProfile"]
    assert pools == {"nodepool1": "Ubuntu", "work": "Ubuntu"} and before["addonProfiles"] == {}
    assert before["networkProfile"]["loadBalancerProfile"]["managedOutboundIPs"] == {"count": 2}
    assert before["linuxProfile"]["adminUsername"] == "portal" and before["workloadAutoScalerProfile"]

    path = f"/api/clusters/{armemu.subscription_id}/{rg}/{name}"
    adopted = await client.post(f"{path}/adopt")
    assert adopted.status_code == 200, adopted.text
    desired = adopted.json()["desired"]
    assert (desired["profile"], desired["apiServer"]["private"], desired["entraId"]) == ("production", False, None)
    assert desired["maintenance"]["autoUpgradeWindow"] is None and desired["maintenance"]["nodeOsUpgradeWindow"] is None

    patch = await done(client, await client.patch(path, json={"tags": {"adopted": "yes"}}, headers=PATCH), path)
    assert [s["id"] for s in patch["steps"]] == ["update:cluster"]  # no maintenance configuration PUT or DELETE
    after, pools_after, tags = settings(armemu, rg, name)
    assert tags["adopted"] == "yes" and tags["owner"] == "portal"
    for key in before:
        assert after[key] == before[key], key
    assert pools_after == pools
    windows = list(aks(armemu).maintenance_configurations.list_by_managed_cluster(rg, name))
    assert windows == []
