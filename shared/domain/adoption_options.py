"""The options of an adopted cluster, read from ARM (issue 17): every option of the request contract stated, so that
no profile default ever reaches a cluster aksvend did not make.

The rule: each option is ARM's value where ARM reports it, and AKS's own default where it does not (for most options
that is off: no private API server, no Entra ID, no workload identity ...). Nothing is left for the profile to fill
in, so a later PATCH or upgrade of the adopted cluster sends the settings it has, not the production profile's.

What ARM reports that aksvend's bodies never write (an add-on, API server, autoscaler or kubelet setting it does not
model, an SSH key ...) is carried through every change's PUT as ARM has it (shared/domain/arm/carry.py). What ARM
reports in a property aksvend does write, in a way the contract cannot express, would be changed by aksvend's next
PUT: `unsupported` names each such field, and the adopt is refused (422) rather than change it silently.
Maintenance windows are not read: an adopted request has none (`maintenance.*Window: null`), and aksvend never PUTs
or deletes an adopted cluster's maintenance configurations (a PATCH or an upgrade PUTs only the cluster and its
pools), so ARM's stay as they are.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.request import AutoscalerProfile
from shared.domain.violations import Violation

ADOPT_UNSUPPORTED = "ADOPT_UNSUPPORTED"
ADOPT_SOURCE = "aksvend docs/api.md (adopt): what the request contract cannot express is never changed silently"
# AKS's defaults for what ARM does not report (learn.microsoft.com, ManagedClusterAutoUpgradeProfile:
# nodeOSUpgradeChannel "The default is NodeImage"; ManagedClusterStorageProfile: disk and file CSI drivers default
# true, blob false).
DEFAULT_NODE_OS_CHANNEL = "NodeImage"
_KUBELET = {"podMaxPids": "podMaxPids", "imageGcHighThreshold": "imageGcHighThreshold",
            "imageGcLowThreshold": "imageGcLowThreshold"}
_AUTOSCALER = frozenset(f.alias or n for n, f in AutoscalerProfile.model_fields.items())


def obj(value: Any) -> Mapping[str, Any]:
    """An object of ARM's answer, or {} when it is none (ARM's answer is outside input: never a crash, a 422)."""
    return value if isinstance(value, Mapping) else {}


def _on(section: Any) -> bool:
    return obj(section).get("enabled") is True


def cluster_options(props: Mapping[str, Any]) -> dict[str, Any]:
    """The request's apiServer, entraId, security, maintenance, addons and autoscalerProfile as ARM has them."""
    api, aad = obj(props.get("apiServerAccessProfile")), obj(props.get("aadProfile"))
    security = obj(props.get("securityProfile"))
    cleaner = obj(security.get("imageCleaner"))
    private = api.get("enablePrivateCluster") is True
    ranges = api.get("authorizedIPRanges")
    out: dict[str, Any] = {
        "apiServer": {"private": private, "privateDnsZone": api.get("privateDNSZone") or "system",
                      # a private cluster's public FQDN is on unless turned off (az aks create --disable-public-fqdn)
                      "publicFqdn": private and api.get("enablePrivateClusterPublicFQDN") is not False,
                      "authorizedIpRanges": list(ranges) if isinstance(ranges, list) else []},
        "entraId": None if aad.get("managed") is not True and props.get("disableLocalAccounts") is not True else {
            "managed": aad.get("managed") is True, "azureRbac": aad.get("enableAzureRBAC") is True,
            "adminGroupObjectIds": list(aad.get("adminGroupObjectIDs") or []),
            "disableLocalAccounts": props.get("disableLocalAccounts") is True},
        "security": {"workloadIdentity": _on(security.get("workloadIdentity")),
                     "oidcIssuer": _on(props.get("oidcIssuerProfile")), "imageCleaner": _on(cleaner)},
        "maintenance": {"nodeOsUpgradeChannel": obj(props.get("autoUpgradeProfile")).get("nodeOSUpgradeChannel")
                        or DEFAULT_NODE_OS_CHANNEL, "autoUpgradeWindow": None, "nodeOsUpgradeWindow": None},
        "addons": _addons(props),
        "autoscalerProfile": {k: v for k, v in obj(props.get("autoScalerProfile")).items()
                              if k in _AUTOSCALER and v is not None} or None,
    }
    if out["security"]["imageCleaner"] and cleaner.get("intervalHours") is not None:
        out["security"]["imageCleanerIntervalHours"] = cleaner["intervalHours"]
    return out


def _addons(props: Mapping[str, Any]) -> dict[str, Any]:
    addons, storage = obj(props.get("addonProfiles")), obj(props.get("storageProfile"))
    oms, vault = obj(addons.get("omsagent")), obj(addons.get("azureKeyvaultSecretsProvider"))
    defender = obj(obj(props.get("securityProfile")).get("defender"))
    drivers = {"disk": "diskCSIDriver", "file": "fileCSIDriver", "blob": "blobCSIDriver"}
    defaults = {"disk": True, "file": True, "blob": False}  # AKS's, when ARM reports no storageProfile entry
    csi = [d for d, key in drivers.items()
           if obj(storage.get(key)).get("enabled", defaults[d]) is True]
    workspace = _workspace(oms) if _on(oms) else None
    if workspace is None and _on(defender.get("securityMonitoring")):
        workspace = defender.get("logAnalyticsWorkspaceResourceId")
    return {"monitoring": _on(oms), "azurePolicy": _on(addons.get("azurepolicy")),
            "defender": _on(defender.get("securityMonitoring")), "csiDrivers": csi,
            "logAnalyticsWorkspaceId": workspace, "keyVaultSecretsProvider": _on(vault),
            "secretRotation": _on(vault)
            and str(obj(vault.get("config")).get("enableSecretRotation")).lower() == "true",
            "costAnalysis": _on(obj(props.get("metricsProfile")).get("costAnalysis")),
            "managedPrometheus": _on(obj(props.get("azureMonitorProfile")).get("metrics"))}


def _workspace(oms: Mapping[str, Any]) -> Any:
    """omsagent's workspace id (its config key in any case: AKS has answered logAnalyticsWorkspaceResourceID)."""
    return next((v for k, v in obj(oms.get("config")).items() if k.lower() == "loganalyticsworkspaceresourceid"), None)


def pool_options(p: Mapping[str, Any]) -> dict[str, Any]:
    """A pool's options as ARM has them: OS SKU (AKS's default by OS when ARM names none), max surge, encryption at
    host, kubelet settings, MIG, scale-down mode and GPU driver."""
    os_type = p.get("osType", "Linux")
    out: dict[str, Any] = {"osSku": p.get("osSKU") or ("Windows2022" if os_type == "Windows" else "Ubuntu"),
                           "enableEncryptionAtHost": p.get("enableEncryptionAtHost") is True}
    surge = obj(p.get("upgradeSettings")).get("maxSurge")
    if surge not in (None, "") and p.get("scaleSetPriority") != "Spot":
        out["maxSurge"] = surge
    kubelet = {ours: obj(p.get("kubeletConfig")).get(arm) for ours, arm in _KUBELET.items()}
    if any(v is not None for v in kubelet.values()):
        out["kubeletConfig"] = {k: v for k, v in kubelet.items() if v is not None}
    for field, arm_field in (("gpuInstanceProfile", "gpuInstanceProfile"), ("scaleDownMode", "scaleDownMode")):
        if p.get(arm_field) is not None:
            out[field] = p[arm_field]
    driver = obj(p.get("gpuProfile")).get("driver")
    if driver is not None:
        out["gpuDriver"] = driver
    return out


def unsupported(cluster: Mapping[str, Any], profiles: list[Mapping[str, Any]]) -> list[Violation]:
    """What ARM reports in a property aksvend's body writes that the request contract cannot express: aksvend's next
    PUT would change it, so the adopt is refused naming it (the path is ARM's, in the managedClusters body)."""
    props, tier = obj(cluster.get("properties")), obj(cluster.get("sku")).get("tier", "Free")
    found: list[tuple[str, str]] = []
    if tier not in ("Free", "Standard"):
        found.append(("/sku/tier", f"the {str(tier)[:16]} tier (aksvend sends Free or Standard)"))
    if props.get("enableRBAC") is False:
        found.append(("/properties/enableRBAC", "Kubernetes RBAC off (aksvend sends enableRBAC true)"))
    aad = obj(props.get("aadProfile"))
    if aad and aad.get("managed") is not True:
        found.append(("/properties/aadProfile/managed", "the legacy (not AKS-managed) Entra ID integration"))
    storage = obj(props.get("storageProfile"))
    snapshots, disk = obj(storage.get("snapshotController")).get("enabled"), obj(storage.get("diskCSIDriver")).get(
        "enabled", True)
    if snapshots is not None and snapshots != disk:
        found.append(("/properties/storageProfile/snapshotController/enabled", "the snapshot controller "
                      f"{'on' if snapshots else 'off'} with the disk CSI driver {'on' if disk else 'off'} (aksvend "
                      "sends them together)"))
    oms = obj(obj(props.get("addonProfiles")).get("omsagent"))
    defender = obj(obj(props.get("securityProfile")).get("defender"))
    both = (_workspace(oms), defender.get("logAnalyticsWorkspaceResourceId"))
    if _on(oms) and _on(defender.get("securityMonitoring")) and None not in both and \
            str(both[0]).lower() != str(both[1]).lower():
        found.append(("/properties/securityProfile/defender/logAnalyticsWorkspaceResourceId",
                      "Defender's workspace differs from monitoring's (aksvend sends one for both)"))
    if obj(cluster.get("identity")).get("type") not in ("SystemAssigned", "UserAssigned"):  # AKS: or "None"
        found.append(("/identity", "no managed identity (a service principal, servicePrincipalProfile; aksvend "
                      "sends its own user-assigned identity id-<name>, and a DELETE would delete that)"))
    if props.get("windowsProfile"):
        found.append(("/properties/windowsProfile", "a Windows profile (aksvend sends its own admin and password)"))
    for i, p in enumerate(profiles):
        if i and p.get("mode") == "System":
            found.append((f"/properties/agentPoolProfiles/{i}/mode", f"a second System pool "
                          f"'{str(p.get('name'))[:12]}' (aksvend sends the first System pool only)"))
    return [Violation(ADOPT_UNSUPPORTED, path, f"ARM's cluster has {what}, which the request contract cannot express: "
                      "aksvend's next change would reset it, so it does not adopt the cluster", source=ADOPT_SOURCE)
            for path, what in found]
