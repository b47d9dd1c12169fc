"""Bring your own network on the local stack: the emulator's route tables, peerings and AKS's subnet checks
(local/armemu/providers/byo_network.py), the hub peering a plan makes (spoke side only, deleted with the cluster),
and an adopted cluster expressed as bring-your-own (issue 17): a PATCH sends
ARM's subnet and identity, and a DELETE deletes the cluster only, never the VNet and identity it runs on."""

from __future__ import annotations

import httpx
import pytest
from azure.core.exceptions import HttpResponseError

from tests.integration.byo_setup import put
from tests.integration.engine_harness import harness
from tests.integration.test_http_api import wait_op
from tests.integration.test_http_lifecycle import PATCH, aks, done
from tests.integration.test_http_lifecycle import api as api  # the fixture

pytestmark = pytest.mark.integration


def ids(sub: str, rg: str) -> dict[str, str]:
    group = f"/subscriptions/{sub}/resourceGroups/{rg}"
    vnet = f"{group}/providers/Microsoft.Network/virtualNetworks/vnet-own"
    return {"group": group, "vnet": vnet, "subnet": f"{vnet}/subnets/nodes",
            "identity": f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-own",
            "routes": f"{group}/providers/Microsoft.Network/routeTables/rt-own",
            "cluster": f"{group}/providers/Microsoft.ContainerService/managedClusters"}


def cluster_body(subnet: str, identity: str, outbound: str = "loadBalancer") -> dict:
    pool = {"name": "system", "mode": "System", "count": 2, "vmSize": "Standard_D2s_v5", "osType": "Linux",
            "type": "VirtualMachineScaleSets", "vnetSubnetID": subnet}
    return {"location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
            "properties": {"dnsPrefix": "own-prefix", "agentPoolProfiles": [pool], "networkProfile": {
                "networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16",
                "serviceCidr": "10.1.0.0/16", "dnsServiceIP": "10.1.0.10", "outboundType": outbound}}}


def test_udr_needs_the_route_table_and_a_subnet_that_exists_and_peerings_connect_both_ways(armemu):
    at = ids(armemu.subscription_id, "rg-byo-emu")
    put(armemu, at["group"], {"location": "westeurope"})
    put(armemu, at["identity"], {"location": "westeurope"})
    with pytest.raises(httpx.HTTPStatusError) as missing:  # a route table that does not exist
        put(armemu, at["vnet"], {"location": "westeurope", "properties": {
            "addressSpace": {"addressPrefixes": ["10.70.0.0/16"]},
            "subnets": [{"name": "nodes", "properties": {"addressPrefix": "10.70.0.0/22",
                                                         "routeTable": {"id": at["routes"]}}}]}})
    assert missing.value.response.json()["error"]["code"] == "InvalidResourceReference"
    put(armemu, at["vnet"], {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.70.0.0/16"]},
        "subnets": [{"name": "nodes", "properties": {"addressPrefix": "10.70.0.0/22"}}]}})
    clusters = aks(armemu).managed_clusters
    refused = clusters.begin_create_or_update  # through the SDK: the error as a caller sees it
    with pytest.raises(HttpResponseError) as no_routes:
        refused("rg-byo-emu", "udr", cluster_body(at["subnet"], at["identity"], "userDefinedRouting")).result()
    assert no_routes.value.error.code == "ExistingRouteTableNotAssociatedWithSubnet"
    with pytest.raises(HttpResponseError) as no_subnet:
        refused("rg-byo-emu", "udr", cluster_body(at["subnet"] + "x", at["identity"])).result()
    assert no_subnet.value.error.code == "SubnetNotFound" and "nodesx" in no_subnet.value.error.message
    put(armemu, at["routes"], {"location": "westeurope", "properties": {"routes": []}})
    put(armemu, at["subnet"], {"properties": {"addressPrefix": "10.70.0.0/22", "routeTable": {"id": at["routes"]}}})
    made = refused("rg-byo-emu", "udr", cluster_body(at["subnet"], at["identity"], "userDefinedRouting")).result()
    assert made.network_profile.outbound_type == "userDefinedRouting"

    hub = at["vnet"].replace("vnet-own", "vnet-hub")
    put(armemu, hub, {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.71.0.0/16"]}}})
    spoke_side = put(armemu, f"{at['vnet']}/virtualNetworkPeerings/to-hub",
                     {"properties": {"remoteVirtualNetwork": {"id": hub}}})
    assert spoke_side["properties"]["peeringState"] == "Initiated"
    put(armemu, f"{hub}/virtualNetworkPeerings/to-spoke", {"properties": {"remoteVirtualNetwork": {"id": at["vnet"]}}})
    assert put(armemu, f"{at['vnet']}/virtualNetworkPeerings/to-hub", {"properties": {
        "remoteVirtualNetwork": {"id": hub}}})["properties"]["peeringState"] == "Connected"
    with pytest.raises(httpx.HTTPStatusError):
        put(armemu, f"{hub}/virtualNetworkPeerings/to-nowhere",
            {"properties": {"remoteVirtualNetwork": {"id": hub.replace("vnet-hub", "vnet-gone")}}})


async def test_an_adopted_cluster_keeps_its_own_vnet_and_identity_through_a_patch_and_its_delete(api, armemu):
    client, _ = api
    rg, name = "rg-life-byo", "life-byo"
    at = ids(armemu.subscription_id, rg)
    put(armemu, at["group"], {"location": "westeurope"})
    put(armemu, at["identity"], {"location": "westeurope"})
    put(armemu, at["vnet"], {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.80.0.0/16"]},
        "subnets": [{"name": "nodes", "properties": {"addressPrefix": "10.80.0.0/28"}}]}})  # 11 usable addresses
    put(armemu, f"{at['cluster']}/{name}", cluster_body(at["subnet"], at["identity"]))
    path = f"/api/clusters/{armemu.subscription_id}/{rg}/{name}"
    adopted = await client.post(f"{path}/adopt")
    assert adopted.status_code == 200, adopted.text
    desired = adopted.json()["desired"]
    assert desired["network"]["existing"] == {"nodeSubnetId": at["subnet"], "privateEndpointSubnetId": None}
    assert desired["identity"] == {"type": "UserAssigned", "resourceId": at["identity"]}
    assert (desired["network"]["serviceCidr"], desired["network"]["plugin"]) == ("10.1.0.0/16", "azure-overlay")
    assert desired["dnsPrefix"] == "own-prefix"

    fits = await client.patch(path, json={"systemPool": {"count": 10}}, headers=PATCH)  # 10 + 1 surge: 11 fit
    assert fits.status_code == 202, fits.text
    await done(client, await client.patch(path, json={"systemPool": {"count": 2}}, headers=PATCH), path)
    full = await client.patch(path, json={"systemPool": {"count": 11}}, headers=PATCH)  # 11 + 2 surge: the real /28
    assert full.status_code == 422 and full.json()["code"] == "NodeSubnetFull", full.text
    assert "10.80.0.0/28" in full.json()["detail"]
    patch = await done(client, await client.patch(path, json={"tags": {"adopted": "yes"}}, headers=PATCH), path)
    assert [s["id"] for s in patch["steps"]] == ["update:cluster"]
    cluster = aks(armemu).managed_clusters.get(rg, name)
    assert cluster.tags["adopted"] == "yes" and list(cluster.identity.user_assigned_identities) == [at["identity"]]
    assert cluster.agent_pool_profiles[0].vnet_subnet_id == at["subnet"]
    assert cluster.network_profile.service_cidr == "10.1.0.0/16"

    await done(client, await client.patch(path, json={"deletionProtection": False}, headers=PATCH), path)
    gone = await client.delete(path, params={"confirm": name})
    assert gone.status_code == 202, gone.text
    op = await wait_op(client, gone.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    left = {r["id"].lower() for r in armemu.inventory()}
    assert f"{at['cluster']}/{name}".lower() not in left
    assert {at["vnet"].lower(), at["subnet"].lower(), at["identity"].lower()} <= left


async def test_a_hub_peering_is_made_on_aksvends_vnet_only_and_goes_with_the_cluster(armemu, azurite_connection_string):
    hub_group = f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-byo-hub"
    hub = f"{hub_group}/providers/Microsoft.Network/virtualNetworks/vnet-hub"
    put(armemu, hub_group, {"location": "westeurope"})
    put(armemu, hub, {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.90.0.0/22"]}}})
    raw = {"name": "spoke-peer", "resourceGroup": "rg-byo-peer", "location": "westeurope", "network": {
        "hubVnetId": hub, "vnetAddressSpace": "10.91.0.0/16"}}
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(raw))
        assert op["state"] == "succeeded", op.get("error")
        peerings = [r for r in armemu.inventory() if "/virtualnetworkpeerings/" in r["id"].lower()
                    and "/rg-byo-peer/" in r["id"].lower()]
        assert [p["id"].rsplit("/", 1)[-1] for p in peerings] == ["peer-to-hub"]
        assert [r for r in armemu.inventory() if r["id"].lower().startswith(hub.lower() + "/")] == []  # hub untouched
        gone = await h.wait_done(await h.submit(raw, kind="delete-cluster"))
        assert gone["state"] == "succeeded", gone.get("error")
    left = {r["id"].lower() for r in armemu.inventory()}
    assert hub.lower() in left and not any("/rg-byo-peer/providers/microsoft.network/" in i for i in left)
