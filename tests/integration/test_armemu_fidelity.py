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
