"""What a change's PUT carries through from ARM's current body (issue 17): the settings aksvend does not model.

A PATCH's or an upgrade's cluster PUT, and a pool's update PUT, are rebuilt from the desired request
(`StepSpec.current`, shared/engine/adopt.py `current_body`). A property aksvend's body never writes (an adopted
cluster's SSH key in `linuxProfile`, KEDA in `workloadAutoScalerProfile`, a pool's `podSubnetID` ...) is not in it,
and a PUT without it may reset it. So such a property is taken from ARM as it is when the step begins, and so is a
sub-property aksvend never writes of an object it does (`networkProfile.loadBalancerProfile`, a pool's
`upgradeSettings.drainTimeoutInMinutes` ...). What aksvend writes stays aksvend's (absent there means off, so a change
can turn an option off, and drift repair puts it back), and what ARM computes (read-only) is not sent back.

`CLUSTER_WRITES` and `POOL_WRITES` list every property aksvend's bodies may write (shared/domain/arm/aks.py,
aks_options.py); tests/unit/test_adoption_options.py holds them to the bodies.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.request import AutoscalerProfile

# Every property aksvend's cluster body may write; for an object, the sub-properties it may write (the others are ARM's,
# as `loadBalancerProfile` in networkProfile or `azureKeyVaultKms` in securityProfile); None: the whole value.
CLUSTER_WRITES: Mapping[str, frozenset[str] | None] = {
    "kubernetesVersion": None, "dnsPrefix": None, "enableRBAC": None, "agentPoolProfiles": None,
    "disableLocalAccounts": None, "windowsProfile": None,
    "networkProfile": frozenset({"networkPlugin", "networkPluginMode", "serviceCidr", "dnsServiceIP", "loadBalancerSku",
                                 "outboundType", "networkPolicy", "networkDataplane", "podCidr"}),
    "addonProfiles": frozenset({"omsagent", "azurepolicy", "azureKeyvaultSecretsProvider"}),
    "storageProfile": frozenset({"diskCSIDriver", "fileCSIDriver", "blobCSIDriver", "snapshotController"}),
    "autoUpgradeProfile": frozenset({"upgradeChannel", "nodeOSUpgradeChannel"}),
    "apiServerAccessProfile": frozenset({"enablePrivateCluster", "privateDNSZone", "enablePrivateClusterPublicFQDN",
                                         "authorizedIPRanges"}),
    "aadProfile": frozenset({"managed", "enableAzureRBAC", "adminGroupObjectIDs"}),
    "oidcIssuerProfile": frozenset({"enabled"}),
    "metricsProfile": frozenset({"costAnalysis"}),
    "azureMonitorProfile": frozenset({"metrics"}),
    "autoScalerProfile": frozenset(f.alias or n for n, f in AutoscalerProfile.model_fields.items()),
    "securityProfile": frozenset({"workloadIdentity", "imageCleaner", "defender"}),
}
POOL_WRITES: Mapping[str, frozenset[str] | None] = {
    **dict.fromkeys((
        "name", "count", "vmSize", "osType", "osSKU", "type", "mode", "orchestratorVersion", "maxPods", "vnetSubnetID",
        "availabilityZones", "enableAutoScaling", "minCount", "maxCount", "nodeTaints", "nodeLabels", "osDiskType",
        "osDiskSizeGB", "scaleSetPriority", "scaleSetEvictionPolicy", "spotMaxPrice", "enableEncryptionAtHost",
        "gpuInstanceProfile", "scaleDownMode", "powerState")),
    "upgradeSettings": frozenset({"maxSurge"}),
    "gpuProfile": frozenset({"driver"}),
    "kubeletConfig": frozenset({"podMaxPids", "imageGcHighThreshold", "imageGcLowThreshold"}),
}
# What ARM computes and reports (managedClusters.json: readOnly), never sent; "a.b": b inside a carried a.
CLUSTER_READ_ONLY = frozenset({
    "provisioningState", "powerState", "fqdn", "azurePortalFQDN", "privateFQDN", "maxAgentPools",
    "currentKubernetesVersion", "resourceUID", "networkProfile.loadBalancerProfile.effectiveOutboundIPs",
    "networkProfile.natGatewayProfile.effectiveOutboundIPs", "oidcIssuerProfile.issuerURL"})
POOL_READ_ONLY = frozenset({
    "provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "eTag", "etag"})


def carried(now: Mapping[str, Any], body: Mapping[str, Any], *, pool: bool) -> dict[str, Any]:
    """`body` (a cluster's or a pool's properties) with what of ARM's `now` aksvend never writes and ARM does not
    compute, as ARM has it; what aksvend may write is the body's (absent there: off)."""
    writes, read_only = (POOL_WRITES, POOL_READ_ONLY) if pool else (CLUSTER_WRITES, CLUSTER_READ_ONLY)
    out = dict(body)
    for key, value in now.items():
        if value is None or key in read_only:
            continue
        if key not in writes:
            out.setdefault(key, _without(value, read_only, key))
            continue
        own = writes[key]
        if own is None or not isinstance(value, Mapping):
            continue
        theirs = {k: _without(v, read_only, f"{key}.{k}") for k, v in value.items() if k not in own and v is not None}
        mine = out.get(key)
        if theirs and (mine is None or isinstance(mine, Mapping)):
            out[key] = {**theirs, **(mine or {})}
    return out


def _without(value: Any, read_only: frozenset[str], at: str) -> Any:
    """`value` without the read-only properties below the dotted path `at`."""
    if not isinstance(value, Mapping):
        return value
    return {k: _without(v, read_only, f"{at}.{k}") for k, v in value.items() if f"{at}.{k}" not in read_only}
