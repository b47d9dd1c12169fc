"""Real AKS traffic replayed against the emulator (issue 16): the Azure CLI's own AKS test recordings
(tests/fixtures/arm-recordings/, README there), request by request, with the answers compared to the recorded ones by
one field-set spec (tests/integration/replay.py). A further recording is one more line in RECORDINGS."""

from __future__ import annotations

import json
import pathlib

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient

from .replay import Replayer, differences, replay

pytestmark = pytest.mark.integration

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "arm-recordings"
# (file, resource group the recording's requests live in, its location): the recordings leave the group calls out.
RECORDINGS = [
    ("aks_create_default.json", "clitest000001", "westus2"),
    ("aks_nodepool_stop_and_start.json", "clitest000001", "westcentralus"),
]

POOL = {
    "count": "equal",
    "vmSize": "present",
    "osDiskSizeGB": "present",
    "osDiskType": "present",
    "kubeletDiskType": "equal",
    "maxPods": "present",
    "type": "equal",
    "mode": "equal",
    "osType": "equal",
    "osSKU": "equal",
    "enableAutoScaling": "equal",
    "enableNodePublicIP": "equal",
    "scaleDownMode": "equal",
    "provisioningState": "equal",
    "powerState.code": "equal",
    "orchestratorVersion": "version",
    "currentOrchestratorVersion": "shape",
    "nodeImageVersion": "present",
    "nodeLabels": "set",
    "tags": "equal",
    "upgradeSettings.maxSurge": "equal",
    "upgradeSettings.maxUnavailable": "equal",
    "upgradeSettings.undrainableNodeBehavior": "equal",
}
# What is not the instance's own: states, counts, the request's values kept, defaults filled in, names' shapes.
SPEC = {
    "name": "equal",
    "location": "equal",
    "tags": "equal",
    "identity.type": "equal",
    "identity.principalId": "present",
    "identity.tenantId": "present",
    "sku.name": "equal",
    "sku.tier": "equal",
    "properties.provisioningState": "equal",
    "properties.powerState.code": "equal",
    "properties.kubernetesVersion": "version",
    "properties.currentKubernetesVersion": "shape",
    "properties.dnsPrefix": "equal",
    "properties.fqdn": "shape",
    "properties.azurePortalFQDN": "shape",
    "properties.nodeResourceGroup": "equal",
    "properties.enableRBAC": "equal",
    "properties.maxAgentPools": "equal",
    "properties.supportPlan": "equal",
    "properties.identityProfile.kubeletidentity.resourceId": "shape",
    "properties.networkProfile.networkPlugin": "equal",
    "properties.networkProfile.podCidr": "equal",
    "properties.networkProfile.serviceCidr": "equal",
    "properties.networkProfile.dnsServiceIP": "equal",
    "properties.networkProfile.outboundType": "equal",
    "properties.networkProfile.loadBalancerSku": "present",
    **{f"properties.agentPoolProfiles[*].{k}": rule for k, rule in POOL.items()},
    **{f"properties.{k}": rule for k, rule in POOL.items() if k not in ("provisioningState", "powerState.code")},
    "kubeconfigs[*].name": "equal",
    "kubeconfigs[*].value": "present",
    "error.code": "equal",
}


@pytest.mark.parametrize(("recording", "group", "location"), RECORDINGS, ids=[r[0] for r in RECORDINGS])
def test_the_emulator_answers_recorded_aks_traffic_as_aks_did(armemu, recording, group, location):
    entries = json.loads((FIXTURES / recording).read_text())
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(group, {"location": location})
    steps = replay(entries, Replayer(armemu.base_url, armemu.ca_cert, armemu.subscription_id))
    assert len(steps) >= 10  # the recorded operation polls are not replayed; every other request is
    assert differences(steps, SPEC) == []


def test_a_difference_is_reported_with_its_field_and_both_values(armemu):
    """The comparison itself can fail: a recording whose cluster had 5 nodes disagrees with the emulator's 3."""
    entries = json.loads((FIXTURES / "aks_create_default.json").read_text())
    armemu.client(ResourceManagementClient).resource_groups.create_or_update("clitest000001", {"location": "westus2"})
    final_get = next(e for e in reversed(entries) if e["method"] == "GET" and "/operations/" not in e["uri"])
    doctored = json.loads(json.dumps(final_get))
    doctored["response_body"]["properties"]["agentPoolProfiles"][0]["count"] = 5
    doctored["response_headers"]["Location"] = "https://management.azure.com/elsewhere"
    steps = replay([entries[1], doctored], Replayer(armemu.base_url, armemu.ca_cert, armemu.subscription_id))
    found = differences(steps, SPEC)
    assert any("agentPoolProfiles[nodepool1].count: 1, recorded 5 (equal)" in line for line in found), found
    assert any("header Location missing" in line for line in found), found
