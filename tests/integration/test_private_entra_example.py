"""docs/examples/private-entra-production.json, provisioned end to end on the local stack (the engine over Azurite and
the ARM emulator), is the cluster it asks for: a private API server, Entra ID with Azure RBAC and no local accounts,
workload identity, Cilium, Azure Linux pools with their own surge and kubelet settings, and both maintenance
windows as child resources of the cluster."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from azure.mgmt.containerservice import ContainerServiceClient

from shared.engine import cluster_key
from tests.integration.engine_harness import harness
from tests.integration.test_examples_local import create_target, create_workspace

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "private-entra-production.json"


async def test_the_private_entra_example_is_built_as_asked(armemu, azurite_connection_string):
    raw = json.loads(EXAMPLE.read_text())
    raw["subscriptionId"] = armemu.subscription_id
    for target in {e["targetResourceId"] for e in (raw.get("network") or {}).get("privateEndpoints", [])}:
        create_target(armemu, target)  # what the example points at exists first, as docs/local.md says
    if workspace := (raw.get("addons") or {}).get("logAnalyticsWorkspaceId"):
        create_workspace(armemu, workspace)
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(raw))
        assert op["state"] == "succeeded", op.get("error")
        key = cluster_key(armemu.subscription_id, raw["resourceGroup"], raw["name"])
        deadline = time.monotonic() + 30
        while (record := await h.engine.registry.get(key)) is None or record.state != "ready" or record.queue:
            assert time.monotonic() < deadline, record
            await asyncio.sleep(0.02)  # polling a condition against a deadline: released from its queue
    client = armemu.client(ContainerServiceClient)
    props = client.managed_clusters.get(raw["resourceGroup"], raw["name"]).properties
    assert props.api_server_access_profile.enable_private_cluster and props.private_fqdn and props.fqdn is None
    assert (props.aad_profile.managed, props.aad_profile.enable_azure_rbac, props.disable_local_accounts) == (
        True, True, True)
    assert props.aad_profile.admin_group_object_i_ds == raw["entraId"]["adminGroupObjectIds"]
    assert props.security_profile.workload_identity.enabled and props.oidc_issuer_profile.issuer_url
    assert props.security_profile.image_cleaner.interval_hours == 168
    assert (props.network_profile.network_dataplane, props.network_profile.network_policy) == ("cilium", "cilium")
    assert props.addon_profiles["azureKeyvaultSecretsProvider"].config == {"enableSecretRotation": "true"}
    assert props.metrics_profile.cost_analysis.enabled and props.azure_monitor_profile.metrics.enabled
    assert props.auto_upgrade_profile.node_os_upgrade_channel == "NodeImage"
    pools = {p.name: p for p in props.agent_pool_profiles}
    assert {p.os_sku for p in pools.values()} == {"AzureLinux"}
    assert pools["apps"].kubelet_config.pod_max_pids == 4096 and pools["apps"].upgrade_settings.max_surge == "33%"
    assert pools["batch"].scale_down_mode == "Deallocate"
    windows = {c.name: c.properties.maintenance_window
               for c in client.maintenance_configurations.list_by_managed_cluster(raw["resourceGroup"], raw["name"])}
    assert windows["aksManagedAutoUpgradeSchedule"].schedule.weekly.day_of_week == "Sunday"
    assert windows["aksManagedNodeOSUpgradeSchedule"].start_time == "02:00"
