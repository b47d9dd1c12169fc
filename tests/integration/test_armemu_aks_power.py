"""Stopping and starting AKS pools and clusters in the emulator, through the real containerservice SDK."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice import models as aks_models
from azure.mgmt.resource.resources import ResourceManagementClient

pytestmark = pytest.mark.integration

RG = "rg-power"
HOLD = {"hold": True}
STOP = aks_models.AgentPool(power_state=aks_models.PowerState(code="Stopped"))  # what the REST example sends


@pytest.fixture
def client(armemu) -> ContainerServiceClient:
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": "westeurope"})
    aks = armemu.client(ContainerServiceClient)
    pools = [
        {"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 3},
        {"name": "user", "mode": "User", "vmSize": "Standard_D8s_v5", "count": 4},
    ]
    body = {"location": "westeurope", "properties": {"dnsPrefix": "p1", "agentPoolProfiles": pools}}
    aks.managed_clusters.begin_create_or_update(RG, "p1", body).result()
    return aks


def test_a_pool_stops_to_count_0_and_starts_back_to_its_count(armemu, client):
    armemu.control("PUT", "operations/hold", HOLD)
    poller = client.agent_pools.begin_create_or_update(RG, "p1", "user", STOP)
    during = client.agent_pools.get(RG, "p1", "user")
    # the target at once, as AKS answers (the Azure CLI's recording test_aks_nodepool_stop_and_start)
    assert (during.provisioning_state, during.power_state.code, during.count) == ("Stopping", "Stopped", 0)
    armemu.control("PUT", "operations/hold", {"hold": False})
    armemu.control("POST", "operations/finish")
    stopped = poller.result()
    assert (stopped.provisioning_state, stopped.power_state.code, stopped.count) == ("Succeeded", "Stopped", 0)
    assert stopped.vm_size == "Standard_D8s_v5"  # a stop carrying only powerState keeps the rest of the pool
    # az aks nodepool start sends the pool it read (count 0) with powerState Running: the count comes back.
    again = client.agent_pools.get(RG, "p1", "user")
    again.power_state.code = "Running"
    armemu.control("PUT", "operations/hold", HOLD)
    poller = client.agent_pools.begin_create_or_update(RG, "p1", "user", again)
    during = client.agent_pools.get(RG, "p1", "user")
    assert (during.provisioning_state, during.power_state.code, during.count) == ("Starting", "Running", 4)
    armemu.control("PUT", "operations/hold", {"hold": False})
    armemu.control("POST", "operations/finish")
    started = poller.result()
    assert (started.provisioning_state, started.power_state.code, started.count) == ("Succeeded", "Running", 4)


def test_a_system_pool_cannot_be_stopped(client):
    with pytest.raises(HttpResponseError) as refused:
        client.agent_pools.begin_create_or_update(RG, "p1", "system", STOP)
    assert refused.value.status_code == 400 and "powerState" in str(refused.value)
    assert client.agent_pools.get(RG, "p1", "system").power_state.code == "Running"


def test_a_cluster_stops_and_starts_with_its_pools(armemu, client):
    armemu.control("PUT", "operations/hold", HOLD)
    poller = client.managed_clusters.begin_stop(RG, "p1")
    during = client.managed_clusters.get(RG, "p1")
    assert during.provisioning_state == "Stopping"
    assert {p.provisioning_state for p in during.agent_pool_profiles} == {"Stopping"}
    with pytest.raises(HttpResponseError) as busy:
        client.managed_clusters.begin_start(RG, "p1")
    assert busy.value.status_code == 409
    armemu.control("PUT", "operations/hold", {"hold": False})
    armemu.control("POST", "operations/finish")
    poller.result()
    stopped = client.managed_clusters.get(RG, "p1")
    assert (stopped.provisioning_state, stopped.power_state.code) == ("Succeeded", "Stopped")
    assert {(p.power_state.code, p.count) for p in stopped.agent_pool_profiles} == {("Stopped", 3), ("Stopped", 4)}
    client.managed_clusters.begin_start(RG, "p1").result()
    started = client.managed_clusters.get(RG, "p1")
    assert started.power_state.code == "Running"
    assert {p.power_state.code for p in started.agent_pool_profiles} == {"Running"}


def test_stop_of_a_missing_cluster_is_404(client):
    with pytest.raises(HttpResponseError) as missing:
        client.managed_clusters.begin_stop(RG, "nope")
    assert missing.value.status_code == 404


def test_credentials_name_the_fqdn_and_carry_no_secret(client):
    import base64

    fqdn = client.managed_clusters.get(RG, "p1").fqdn
    user = client.managed_clusters.list_cluster_user_credentials(RG, "p1").kubeconfigs
    admin = client.managed_clusters.list_cluster_admin_credentials(RG, "p1").kubeconfigs
    assert [k.name for k in user] == ["clusterUser"] and [k.name for k in admin] == ["clusterAdmin"]
    text = user[0].value.decode() if isinstance(user[0].value, bytes) else base64.b64decode(user[0].value).decode()
    assert f"server: https://{fqdn}:443" in text and "placeholder-not-a-secret" in text


def test_kubernetes_versions_of_a_location_come_from_the_version_table(armemu, client):
    from azure.core.rest import HttpRequest

    url = (f"{armemu.base_url}/subscriptions/{armemu.subscription_id}/providers/Microsoft.ContainerService"
           "/locations/westeurope/kubernetesVersions?api-version=2026-08-01")
    values = armemu.pipeline().send_request(HttpRequest("GET", url)).json()["values"]
    by_minor = {v["version"]: v for v in values}
    assert by_minor["1.33"]["patchVersions"]["1.33.2"]["upgrades"] == ["1.34.0", "1.34.1"]
    assert by_minor["1.35"]["isPreview"] is True and by_minor["1.33"]["isPreview"] is False


def _stop(client, name: str) -> None:
    client.agent_pools.begin_create_or_update(RG, "p1", name, STOP).result()


def test_a_stopped_pool_stays_stopped_through_a_cluster_put_and_an_upgrade(client):
    """AKS keeps a stopped pool stopped unless the PUT starts it ("Stopped node pools can be upgraded", AKS docs
    "Start and stop a node pool"): a tags-only cluster PUT and an upgrade PUT carry the pool as read (count 0)."""
    _stop(client, "user")
    cluster = client.managed_clusters.get(RG, "p1")
    cluster.tags = {"t": "2"}
    client.managed_clusters.begin_create_or_update(RG, "p1", cluster).result()
    user = client.agent_pools.get(RG, "p1", "user")
    assert (user.power_state.code, user.count) == ("Stopped", 0)
    cluster = client.managed_clusters.get(RG, "p1")
    cluster.kubernetes_version = "1.34.1"
    for profile in cluster.agent_pool_profiles:
        profile.orchestrator_version = "1.34.1"
    client.managed_clusters.begin_create_or_update(RG, "p1", cluster).result()
    user = client.agent_pools.get(RG, "p1", "user")
    assert (user.power_state.code, user.count, user.current_orchestrator_version) == ("Stopped", 0, "1.34.1")


def test_a_stopped_autoscaling_pool_takes_cluster_puts_and_starts_back_with_its_count(client):
    """A stopped pool has count 0 below its minCount: not a broken bound. The start body `az aks nodepool start`
    sends (the pool as read: count 0, powerState Running) brings back the count from before the stop."""
    client.agent_pools.begin_create_or_update(RG, "p1", "big", {"properties": {
        "mode": "User", "vmSize": "Standard_D4s_v5", "count": 3, "enableAutoScaling": True, "minCount": 3,
        "maxCount": 40}}).result()
    _stop(client, "big")
    cluster = client.managed_clusters.get(RG, "p1")
    cluster.tags = {"t": "3"}
    client.managed_clusters.begin_create_or_update(RG, "p1", cluster).result()
    big = client.agent_pools.get(RG, "p1", "big")
    assert (big.power_state.code, big.count) == ("Stopped", 0)
    start = {"properties": {"powerState": {"code": "Running"}}}  # emulator.md's start: only the power state
    client.agent_pools.begin_create_or_update(RG, "p1", "big", start).result()
    big = client.agent_pools.get(RG, "p1", "big")
    assert (big.power_state.code, big.count, big.min_count) == ("Running", 3, 3)
    _stop(client, "big")
    again = client.agent_pools.get(RG, "p1", "big")
    again.power_state.code = "Running"  # the CLI's body: the pool as read, count 0 and its bounds
    client.agent_pools.begin_create_or_update(RG, "p1", "big", again).result()
    assert client.agent_pools.get(RG, "p1", "big").count == 3


def test_a_private_clusters_kubeconfig_names_its_private_fqdn(client):
    import base64

    body = {"location": "westeurope", "properties": {
        "dnsPrefix": "pv", "apiServerAccessProfile": {"enablePrivateCluster": True},
        "agentPoolProfiles": [{"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 1}]}}
    made = client.managed_clusters.begin_create_or_update(RG, "pv", body).result()
    assert made.private_fqdn
    user = client.managed_clusters.list_cluster_user_credentials(RG, "pv").kubeconfigs[0].value
    text = user.decode() if isinstance(user, bytes) else base64.b64decode(user).decode()
    assert f"server: https://{made.private_fqdn}:443" in text
