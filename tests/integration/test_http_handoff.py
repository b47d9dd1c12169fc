"""The hand-off through HTTP on the local stack (the ASGI app over a real engine, Azurite and the ARM emulator): a
cluster created with `access` is shown with what ARM reports, its owner group holds its role on the cluster, its
credentials are the user kubeconfig in kubelogin's form, and the list finds it by owner, tag and state."""

from __future__ import annotations

import base64
import socket

import pytest
from azure.mgmt.containerservice import ContainerServiceClient

from local.credential import AsyncOfflineCredential
from shared.adapters.arm import AzureArm
from tests.integration.http_harness import settled
from tests.integration.test_http_api import api as api_fixture
from tests.integration.test_http_api import arm_get, wait_op

pytestmark = pytest.mark.integration
api = api_fixture  # the HTTP API over the local stack (tests/integration/test_http_api.py)
GROUP = "6f1c2b4e-0000-4000-8000-00000000abcd"
RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
REQUEST = {"name": "shop-team", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "development",
           "tags": {"team": "shop"}, "access": {"ownerGroup": GROUP}}



async def test_a_created_cluster_is_handed_off_with_what_arm_reports_its_credentials_and_its_owners_role(api, armemu):
    client, _ = api
    sub = armemu.subscription_id
    path = f"/api/clusters/{sub}/rg-shop/shop-team"
    created = await client.post("/api/clusters", json=REQUEST)
    assert created.status_code == 202, created.text
    op = await wait_op(client, created.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    assert [s["id"] for s in op["steps"]][-1] == "put:ownerRoleAssignment"
    view = await settled(client, path)

    observed = view["observed"]
    assert observed["reachable"] and observed["exists"] and view["owner"] == GROUP
    arm_cluster = arm_get(armemu, view["id"])
    assert observed["fqdn"] == arm_cluster["properties"]["fqdn"] and observed["fqdn"].endswith(".azmk8s.io")
    assert observed["nodeResourceGroup"] == "MC_rg-shop_shop-team_westeurope"
    assert observed["kubeletIdentity"]["clientId"] and observed["controlPlaneIdentity"]["type"] == "UserAssigned"
    assert observed["currentKubernetesVersion"].startswith(view["desired"]["kubernetesVersion"])
    assert [(p["name"], p["powerState"]) for p in observed["pools"]] == [("system", "Running"), ("apps", "Running")]
    assert observed["subnetIds"] == [f"{view['id'].split('/providers/')[0]}/providers/Microsoft.Network/"
                                     "virtualNetworks/vnet-shop-team/subnets/snet-nodes"]
    assert observed["entra"] == {"managed": True, "azureRbac": True}

    grants = [r for r in armemu.inventory("Microsoft.Authorization/roleAssignments")
              if r["id"].lower().startswith(view["id"].lower() + "/providers/")]
    assert len(grants) == 1
    grant = arm_get(armemu, grants[0]["id"])["properties"]
    assert grant["principalId"] == GROUP and grant["principalType"] == "Group"
    assert grant["roleDefinitionId"].endswith(f"/roleDefinitions/{RBAC_CLUSTER_ADMIN}")

    credentials = await client.get(f"{path}/credentials")
    assert credentials.status_code == 200, credentials.text
    assert credentials.headers["cache-control"] == "no-store"
    kubeconfig = credentials.json()["kubeconfig"]
    assert credentials.json()["format"] == "exec" and "command: kubelogin" in kubeconfig
    assert f"server: https://{observed['fqdn']}:443" in kubeconfig
    assert "clusterAdmin" not in kubeconfig and "token:" not in kubeconfig
    assert base64.b64encode(kubeconfig.encode()).decode() not in credentials.text  # decoded, once

    listed = (await client.get("/api/clusters", params={"owner": GROUP, "tag": "team:shop", "state": "ready"})).json()
    assert [(c["name"], c["owner"]) for c in listed["value"]] == [("shop-team", GROUP)]
    assert listed["value"][0]["updatedAt"] and listed["continuationToken"] is None
    none = (await client.get("/api/clusters", params={"owner": GROUP, "state": "failed"})).json()
    assert none["value"] == []

    # the emulator answers as AKS does for an Entra cluster: kubelogin's exec form by default, the older azure
    # auth-provider with format=azure (REST ManagedClusters_ListClusterUserCredentials)
    aks = armemu.client(ContainerServiceClient).managed_clusters
    by_default, azure = (aks.list_cluster_user_credentials("rg-shop", "shop-team", **kw).kubeconfigs[0].value.decode()
                         for kw in ({}, {"format": "azure"}))
    assert "command: kubelogin" in by_default and "auth-provider:\n      name: azure" in azure

    deleted = await client.delete(path, params={"confirm": "shop-team"})
    assert (await wait_op(client, deleted.headers["Location"]))["state"] == "succeeded"
    assert not [r for r in armemu.inventory("Microsoft.Authorization/roleAssignments")
                if r["id"].lower().startswith(view["id"].lower() + "/")]  # the grant went before the cluster
    gone = await client.get(f"{path}/credentials")
    assert gone.status_code in (404, 409)  # deleted, or still being released from its queue


async def test_a_pool_outgrowing_the_node_subnet_is_refused_then_goes_on_its_own_subnet_and_without_arm_says_so(
        api, armemu):
    client, h = api
    created = await client.post("/api/clusters", json={**REQUEST, "name": "shop-quiet"})
    assert (await wait_op(client, created.headers["Location"]))["state"] == "succeeded"
    path = f"/api/clusters/{armemu.subscription_id}/rg-shop/shop-quiet"
    await settled(client, path)
    big = await client.put(f"{path}/pools/big", json={"autoscale": {"min": 3, "max": 40}})
    assert (big.status_code, big.json()["code"]) == (422, "NodeSubnetFull")
    [violation] = big.json()["errors"]
    assert violation["code"] == "NODE_SUBNET_FULL" and violation["path"] == "/userPools/1"
    assert "snet-nodes (10.40.0.0/28) has 11 usable addresses" in violation["message"]  # as ARM has it
    assert "lower pool 'big' to at most 4 nodes" in violation["message"] and '"subnet": "auto"' in violation["message"]

    own = await client.put(f"{path}/pools/big", json={"autoscale": {"min": 3, "max": 40}, "subnet": "auto"})
    assert own.status_code == 202, own.text
    op = await wait_op(client, own.headers["Location"])
    assert op["state"] == "succeeded", op["error"]
    assert [s["id"] for s in op["steps"]] == ["put:identity", "put:subnet:big", "put:roleAssignment:big",
                                               "put:pool:big"]
    view = await settled(client, path)
    prefix = view["desired"]["userPools"][-1]["subnet"]
    assert prefix == "10.40.0.64/26"  # after the node /28 and the private-endpoint /28: 44 addresses need a /26
    subnet_id = f"{view['id'].split('/providers/')[0]}/providers/Microsoft.Network/virtualNetworks/vnet-shop-quiet" \
                "/subnets/snet-pool-big"
    assert arm_get(armemu, subnet_id)["properties"]["addressPrefix"] == prefix
    assert next(p for p in view["observed"]["pools"] if p["name"] == "big")["vnetSubnetId"] == subnet_id
    assert subnet_id in view["observed"]["subnetIds"] and len(view["observed"]["subnetIds"]) == 2
    grants = [r["id"] for r in armemu.inventory("Microsoft.Authorization/roleAssignments")
              if r["id"].lower().startswith(subnet_id.lower() + "/")]
    assert len(grants) == 1  # the cluster identity may join nodes to it
    with socket.socket() as closed:  # a port nothing listens on: ARM refuses every connection
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    reachable = h.engine.arm
    h.engine.arm = AzureArm(AsyncOfflineCredential(), armemu.subscription_id, base_url=f"https://127.0.0.1:{port}",
                            call_timeout=2.0)
    try:
        view = (await client.get(path)).json()
        down = await client.get(f"{path}/credentials")
    finally:
        await h.engine.arm.close()
        h.engine.arm = reachable
    assert view["state"] == "ready" and view["observed"]["reachable"] is False and view["observed"]["reason"]
    assert down.status_code == 503 and down.headers["retry-after"] and down.json()["code"] == "ArmUnavailable"

    def subnets() -> list[str]:
        return [r["id"] for r in armemu.inventory("Microsoft.Network/virtualNetworks/subnets")
                if "/vnet-shop-quiet/" in r["id"]]

    assert len(subnets()) == 3  # the node, private-endpoint and pool subnets
    removed = await wait_op(client, (await client.delete(f"{path}/pools/big")).headers["Location"])
    assert removed["state"] == "succeeded", removed["error"]
    assert [s["id"] for s in removed["steps"]] == ["delete:pool:big", "delete:roleAssignment:big", "delete:subnet:big"]
    assert len(subnets()) == 2 and not [r for r in armemu.inventory("Microsoft.Authorization/roleAssignments")
                                        if "/snet-pool-big/" in r["id"]]
    await settled(client, path)
    deleted = await client.delete(path, params={"confirm": "shop-quiet"})
    done = await wait_op(client, deleted.headers["Location"])
    assert done["state"] == "succeeded", done["error"]
    assert subnets() == []
