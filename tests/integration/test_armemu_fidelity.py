"""The ARM emulator held to what real AKS does where it used to be lenient (issue 16): no polling hint by default,
no secrets in answers, AKS's error codes and defaults, and the changes AKS refuses. Through the real SDK clients."""

from __future__ import annotations

import pytest
from azure.core.rest import HttpRequest
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

from local.armemu import Emulator, EmulatorSettings
from local.armemu.__main__ import parse_args
from local.credential import AsyncOfflineCredential

pytestmark = pytest.mark.integration

RG = "rg-fidelity"
AKS_API = "2026-08-01"


def pool(name: str, **props) -> dict:
    return {"name": name, "mode": "User", "vmSize": "Standard_D4s_v5", "count": 2, **props}


def cluster_body(*pools: dict, **props) -> dict:
    profiles = list(pools) or [pool("system", mode="System", count=3)]
    return {
        "location": "westeurope",
        "properties": {"dnsPrefix": "c1", "kubernetesVersion": "1.33", "agentPoolProfiles": profiles, **props},
    }


@pytest.fixture
def client(armemu) -> ContainerServiceClient:
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": "westeurope"})
    return armemu.client(ContainerServiceClient)


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
    assert (pool.vm_size, pool.os_disk_size_gb, pool.current_orchestrator_version) == ("Standard_D4ds_v5", 128, "1.33.2")
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
