"""The ARM emulator held to what real AKS does where it used to be lenient (issue 16): no polling hint by default,
no secrets in answers, AKS's error codes and defaults, and the changes AKS refuses. Through the real SDK clients."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.containerservice import ContainerServiceClient

from local.armemu import Emulator, EmulatorSettings
from local.armemu.__main__ import parse_args
from local.credential import AsyncOfflineCredential
from tests.integration.aks_bodies import aks_client, cluster_body, pool

pytestmark = pytest.mark.integration

RG = "rg-fidelity"
AKS_API = "2026-08-01"


@pytest.fixture
def client(armemu) -> ContainerServiceClient:
    return aks_client(armemu, RG)


def cluster_url(armemu, name: str = "c1", api: str = AKS_API) -> str:
    return (f"{armemu.base_url}/subscriptions/{armemu.subscription_id}/resourceGroups/{RG}"
            f"/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={api}")


# ---- item 7: no Retry-After unless asked for --------------------------------------------------------------------
def test_the_command_line_and_the_settings_send_no_polling_hint_by_default_as_aks():
    assert parse_args([]).retry_after == "none"
    assert parse_args(["--retry-after", "seconds"]).retry_after == "seconds"
    assert EmulatorSettings().retry_after == "none"


async def test_a_default_emulator_answers_a_cluster_put_without_retry_after():
    from azure.mgmt.containerservice.aio import ContainerServiceClient as AioContainerServiceClient
    from azure.mgmt.resource.resources.aio import ResourceManagementClient as AioResourceManagementClient

    async with Emulator(EmulatorSettings(time_factor=0.001)) as emulator:
        kwargs = {"base_url": emulator.base_url, "connection_verify": emulator.ca_cert}
        sub = emulator.settings.subscription_id
        async with AioResourceManagementClient(AsyncOfflineCredential(), sub, **kwargs) as groups:
            await groups.resource_groups.create_or_update(RG, {"location": "westeurope"})
        headers: dict[str, str] = {}
        async with AioContainerServiceClient(AsyncOfflineCredential(), sub, **kwargs) as aks_client:
            poller = await aks_client.managed_clusters.begin_create_or_update(
                RG, "c1", cluster_body(), polling_interval=0.01,
                raw_response_hook=lambda response: headers.update(response.http_response.headers))
            assert (await poller.result()).provisioning_state == "Succeeded"
        assert "Azure-AsyncOperation" in headers
        assert not {"retry-after", "retry-after-ms"} & {name.lower() for name in headers}


# ---- item 10: secrets are never returned ------------------------------------------------------------------------
def test_a_service_principal_secret_and_a_windows_password_are_kept_but_never_returned(armemu, client):
    body = cluster_body(
        servicePrincipalProfile={"clientId": "00000000-0000-0000-0000-000000000001", "secret": "sp-s3cret-value"},
        windowsProfile={"adminUsername": "azureuser", "adminPassword": "Very-L0ng-Passw0rd!"},
    )
    created = client.managed_clusters.begin_create_or_update(RG, "c1", body).result()
    assert created.service_principal_profile.client_id == "00000000-0000-0000-0000-000000000001"
    assert created.service_principal_profile.secret is None
    assert created.windows_profile.admin_username == "azureuser" and created.windows_profile.admin_password is None
    for text in (armemu.pipeline().send_request(HttpRequest("GET", cluster_url(armemu))).text(),
                 armemu.pipeline().send_request(HttpRequest("GET", cluster_url(armemu).replace("/c1?", "?"))).text()):
        assert "sp-s3cret-value" not in text and "Passw0rd" not in text


# ---- item 4: blank values the CLI sends get AKS's defaults ------------------------------------------------------
def test_blank_version_size_and_disk_are_filled_with_aks_defaults_and_change_nothing_later(armemu, client):
    blank = {"name": "system", "mode": "System", "count": 3, "vmSize": "", "osDiskSizeGB": 0,
             "orchestratorVersion": "", "maxPods": None}
    created = client.managed_clusters.begin_create_or_update(
        RG, "c1", cluster_body(blank, kubernetesVersion="")).result()
    assert created.kubernetes_version == created.current_kubernetes_version == "1.33.2"  # N-1 minor, newest patch
    system = created.agent_pool_profiles[0]
    assert (system.vm_size, system.os_disk_size_gb, system.max_pods) == ("Standard_D4ds_v5", 128, 250)
    assert system.orchestrator_version == system.current_orchestrator_version == "1.33.2"
    pool = client.agent_pools.begin_create_or_update(
        RG, "c1", "apps", {"properties": {"mode": "User", "count": 1, "vmSize": "", "osDiskSizeGB": None}}).result()
    assert (pool.vm_size, pool.os_disk_size_gb) == ("Standard_D4ds_v5", 128)
    assert pool.current_orchestrator_version == "1.33.2"
    scaled = client.agent_pools.begin_create_or_update(
        RG, "c1", "apps", {"properties": {"mode": "User", "count": 2, "vmSize": "", "osDiskSizeGB": 0}}).result()
    assert (scaled.count, scaled.vm_size, scaled.os_disk_size_gb) == (2, "Standard_D4ds_v5", 128)


def test_the_default_version_follows_the_version_table(armemu, client):
    armemu.control("PUT", "kubernetes-versions", {"versions": ["1.34.3", "1.35.1", "1.35.2", {"version": "1.36.0",
                                                                                              "isPreview": True}]})
    body = cluster_body()
    del body["properties"]["kubernetesVersion"]
    created = client.managed_clusters.begin_create_or_update(RG, "c1", body).result()
    assert created.current_kubernetes_version == "1.34.3"


# ---- item 3: the changes real AKS refuses -----------------------------------------------------------------------
def refused(call) -> tuple[int, str, str]:
    """(status, code, message) of an ARM refusal raised by an SDK call."""
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value.status_code, caught.value.error.code, caught.value.error.message


@pytest.fixture
def cluster(client):
    return client.managed_clusters.begin_create_or_update(RG, "c1", cluster_body()).result()


def updated(cluster, **props) -> dict:
    """The cluster's own body (as the CLI's read-modify-write sends it) with `props` changed."""
    return {"location": cluster.location, "properties": {**cluster_body()["properties"], **props}}


@pytest.mark.parametrize(("prop", "value"), [("dnsPrefix", "other"), ("nodeResourceGroup", "MC_other")])
def test_dns_prefix_and_node_resource_group_are_fixed_and_the_fqdn_with_them(client, cluster, prop, value):
    status, code, message = refused(
        lambda: client.managed_clusters.begin_create_or_update(RG, "c1", updated(cluster, **{prop: value})))
    assert (status, code, message) == (400, "PropertyChangeNotAllowed", f"Changing property '{prop}' is not allowed.")
    assert client.managed_clusters.get(RG, "c1").fqdn == cluster.fqdn


def test_the_network_plugin_cannot_go_from_azure_to_kubenet(client, cluster):
    status, code, message = refused(lambda: client.managed_clusters.begin_create_or_update(
        RG, "c1", updated(cluster, networkProfile={"networkPlugin": "kubenet"})))
    assert (status, code) == (400, "PropertyChangeNotAllowed") and "networkProfile.networkPlugin" in message


def test_an_unknown_kubernetes_version_is_refused_for_clusters_and_pools(client, cluster):
    status, code, message = refused(lambda: client.managed_clusters.begin_create_or_update(
        RG, "c2", cluster_body(kubernetesVersion="1.99")))
    assert (status, code) == (400, "K8sVersionNotSupported")
    assert message.startswith("Version 1.99 is not supported in this region. Please use [az aks get-versions]")
    status, code, _ = refused(lambda: client.agent_pools.begin_create_or_update(
        RG, "c1", "apps", {"properties": pool("apps", orchestratorVersion="1.99.0")}))
    assert (status, code) == (400, "AgentPoolK8sVersionNotSupported")


@pytest.mark.parametrize(("start", "target", "running", "expected"), [
    ("1.31", "1.34", "1.31.9", "Upgrading Kubernetes version 1.31.9 to 1.34.1 is not allowed. Available upgrades: "
                               "[1.32.6 1.32.5 1.32.4]."),
    ("1.34", "1.33.0", "1.34.1", "Upgrading Kubernetes version 1.34.1 to 1.33.0 is not allowed. Available upgrades: "
                                 "[1.35.0]."),
])
def test_skipping_a_minor_or_downgrading_is_not_allowed(client, start, target, running, expected):
    client.managed_clusters.begin_create_or_update(RG, "c1", cluster_body(kubernetesVersion=start)).result()
    status, code, message = refused(lambda: client.managed_clusters.begin_create_or_update(
        RG, "c1", cluster_body(kubernetesVersion=target)))
    assert (status, code) == (400, "OperationNotAllowed") and message.startswith(expected)
    assert client.managed_clusters.get(RG, "c1").current_kubernetes_version == running


def test_a_downgrade_to_a_minor_the_region_no_longer_has_is_an_unsupported_version(client):
    client.managed_clusters.begin_create_or_update(RG, "c1", cluster_body(kubernetesVersion="1.34")).result()
    status, code, _ = refused(lambda: client.managed_clusters.begin_create_or_update(
        RG, "c1", cluster_body(kubernetesVersion="1.30")))
    assert (status, code) == (400, "K8sVersionNotSupported")


def test_the_next_minor_is_an_allowed_upgrade(client, cluster):
    body = cluster_body(pool("system", mode="System", count=3, orchestratorVersion="1.34"), kubernetesVersion="1.34")
    upgraded = client.managed_clusters.begin_create_or_update(RG, "c1", body).result()
    assert upgraded.current_kubernetes_version == "1.34.1"
    assert upgraded.agent_pool_profiles[0].current_orchestrator_version == "1.34.1"


def test_a_pool_newer_than_the_control_plane_is_refused(client, cluster):
    status, code, message = refused(lambda: client.agent_pools.begin_create_or_update(
        RG, "c1", "apps", {"properties": pool("apps", orchestratorVersion="1.34")}))
    assert (status, code) == (400, "NodePoolMcVersionIncompatible")
    assert message.startswith("Node pool version 1.34.1 and control plane version 1.33.2 is incompatible.")


def test_a_cluster_put_changing_one_pools_version_is_refused(client, cluster):
    body = cluster_body(pool("system", mode="System", count=3, orchestratorVersion="1.32"))
    status, code, _ = refused(lambda: client.managed_clusters.begin_create_or_update(RG, "c1", body))
    assert (status, code) == (400, "NotAllAgentPoolOrchestratorVersionSpecifiedAndUnchanged")


@pytest.mark.parametrize("size", ["Standard_Foo99_v9", "Standard_NC6", "Standard_A1", "Basic_A0"])
def test_an_unknown_or_retired_vm_size_is_not_allowed(client, cluster, size):
    status, code, message = refused(lambda: client.agent_pools.begin_create_or_update(
        RG, "c1", "apps", {"properties": pool("apps", vmSize=size)}))
    assert (status, code) == (400, "BadRequest")
    assert message.startswith(f"The VM size of {size} is not allowed in your subscription in location 'westeurope'.")


def test_a_system_pool_on_a_one_vcpu_size_is_too_low(client):
    status, code, message = refused(lambda: client.managed_clusters.begin_create_or_update(
        RG, "c1", cluster_body(pool("system", mode="System", count=1, vmSize="Standard_DS1_v2"))))
    assert (status, code) == (400, "SystemPoolSkuTooLow")
    assert message == "System node pool must use VM sku with more than 2 cores and 4GB memory. Nodepool name: system."


def test_max_surge_on_a_spot_pool_is_refused(client, cluster):
    spot = pool("spot", scaleSetPriority="Spot", upgradeSettings={"maxSurge": "33%"})
    status, code, message = refused(lambda: client.agent_pools.begin_create_or_update(
        RG, "c1", "spot", {"properties": spot}))
    assert (status, code) == (400, "InvalidParameter") and "maxSurge" in message
    created = client.agent_pools.begin_create_or_update(
        RG, "c1", "spot", {"properties": pool("spot", scaleSetPriority="Spot")}).result()
    assert not (created.upgrade_settings and created.upgrade_settings.max_surge)  # AKS sets none on a spot pool
    again = created.as_dict()  # the CLI's read-modify-write sends the pool back as read: accepted
    again["properties"]["count"] = 3
    assert client.agent_pools.begin_create_or_update(RG, "c1", "spot", again).result().count == 3


@pytest.mark.parametrize("version", ["2099-01-01", "2016-01-01", "latest"])
def test_an_api_version_aks_does_not_have_finds_no_registered_provider(armemu, client, cluster, version):
    response = armemu.pipeline().send_request(HttpRequest("GET", cluster_url(armemu, api=version)))
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "NoRegisteredProviderFound")
    assert error["message"].startswith(
        f"No registered resource provider found for location 'westeurope' and API version '{version}' for type "
        "'managedClusters'.")
    assert armemu.pipeline().send_request(HttpRequest("GET", cluster_url(armemu))).status_code == 200
