"""What a change's PUT carries through from ARM's current body (issue 17): the settings aksvend does not model.

A PATCH's or an upgrade's cluster PUT, and a pool's update PUT, are rebuilt from the desired request
(`StepSpec.current`, shared/engine/adopt.py `current_body`). A property aksvend's body never writes (an adopted
cluster's SSH key in `linuxProfile`, KEDA in `workloadAutoScalerProfile`, a pool's `podSubnetID` ...) is not in it,
and a PUT without it may reset it. So such a property is taken from ARM as it is when the step begins. What aksvend
writes stays aksvend's (absent there means off, so a change can turn an option off, and drift repair puts it back),
and what ARM computes (read-only) is not sent back.

`CLUSTER_WRITES` and `POOL_WRITES` list every property aksvend's bodies may write (shared/domain/arm/aks.py,
aks_options.py); tests/unit/test_adoption_options.py holds them to the bodies.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CLUSTER_WRITES = frozenset({
    "kubernetesVersion", "dnsPrefix", "enableRBAC", "agentPoolProfiles", "networkProfile", "addonProfiles",
    "storageProfile", "autoUpgradeProfile", "apiServerAccessProfile", "aadProfile", "disableLocalAccounts",
    "oidcIssuerProfile", "metricsProfile", "azureMonitorProfile", "autoScalerProfile", "securityProfile",
    "windowsProfile"})
POOL_WRITES = frozenset({
    "name", "count", "vmSize", "osType", "osSKU", "type", "mode", "orchestratorVersion", "maxPods", "vnetSubnetID",
    "availabilityZones", "enableAutoScaling", "minCount", "maxCount", "nodeTaints", "nodeLabels", "osDiskType",
    "osDiskSizeGB", "scaleSetPriority", "scaleSetEvictionPolicy", "spotMaxPrice", "upgradeSettings", "gpuProfile",
    "enableEncryptionAtHost", "kubeletConfig", "gpuInstanceProfile", "scaleDownMode", "powerState"})
# What ARM computes and reports (managedClusters.json: readOnly), never sent.
CLUSTER_READ_ONLY = frozenset({
    "provisioningState", "powerState", "fqdn", "azurePortalFQDN", "privateFQDN", "maxAgentPools",
    "currentKubernetesVersion", "resourceUID"})
POOL_READ_ONLY = frozenset({
    "provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "eTag", "etag"})


def carried(now: Mapping[str, Any], body: Mapping[str, Any], *, pool: bool) -> dict[str, Any]:
    """`body` (a cluster's or a pool's properties) with each property of ARM's `now` that aksvend never writes and
    ARM does not compute, as ARM has it; a property the body has is the body's."""
    writes, read_only = (POOL_WRITES, POOL_READ_ONLY) if pool else (CLUSTER_WRITES, CLUSTER_READ_ONLY)
    out = dict(body)
    for key, value in now.items():
        if key not in writes and key not in read_only and key not in out and value is not None:
            out[key] = value
    return out
