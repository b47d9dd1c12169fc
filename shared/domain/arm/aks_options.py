"""The production options in the managed cluster's body (issue 18), and the maintenance configurations.

Each section is sent only when the request turns its option on, so that a request without them gives the same
body as before. Wire names are AKS's (api-version 2026-08-01; tests/unit/test_arm_bodies.py builds the same
bodies with azure-mgmt-containerservice's models and compares their serialization).
"""

from __future__ import annotations

from typing import Any

from shared.domain.arm.record import ResourceType
from shared.domain.request import ClusterRequest, Pool
from shared.domain.request_options import MaintenanceWindow

# The two AKS-managed schedules: Kubernetes auto-upgrades and node OS upgrades (AKS planned-maintenance.md).
AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
NODE_OS_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"


def pool_options(pool: Pool) -> dict[str, Any]:
    """A pool's options beyond size and count: encryption at host, kubelet settings, MIG and scale-down mode."""
    props: dict[str, Any] = {}
    if pool.enable_encryption_at_host:
        props["enableEncryptionAtHost"] = True
    kubelet = pool.kubelet_config
    if kubelet is not None:
        values = {"podMaxPids": kubelet.pod_max_pids, "imageGcHighThreshold": kubelet.image_gc_high_threshold,
                  "imageGcLowThreshold": kubelet.image_gc_low_threshold}
        props["kubeletConfig"] = {k: v for k, v in values.items() if v is not None}
    if pool.gpu_instance_profile:
        props["gpuInstanceProfile"] = pool.gpu_instance_profile
    if pool.scale_down_mode:
        props["scaleDownMode"] = pool.scale_down_mode
    return props


def network_options(r: ClusterRequest) -> dict[str, Any]:
    """networkProfile's policy, dataplane and outbound type."""
    n = r.network
    out: dict[str, Any] = {"outboundType": n.outbound_type}
    if n.policy != "none":
        out["networkPolicy"] = n.policy
    if n.dataplane != "azure":
        out["networkDataplane"] = n.dataplane
    return out


def cluster_options(r: ClusterRequest) -> dict[str, Any]:
    """The managed cluster's properties for API server access, Entra ID, OIDC and the monitoring profiles."""
    props: dict[str, Any] = {}
    api = r.api_server
    if api.private:
        props["apiServerAccessProfile"] = {"enablePrivateCluster": True, "privateDNSZone": api.private_dns_zone,
                                           "enablePrivateClusterPublicFQDN": api.public_fqdn}
    elif api.authorized_ip_ranges:
        props["apiServerAccessProfile"] = {"authorizedIPRanges": list(api.authorized_ip_ranges)}
    entra = r.entra_id
    if entra is not None and entra.managed:
        aad: dict[str, Any] = {"managed": True, "enableAzureRBAC": entra.azure_rbac}
        if entra.admin_group_object_ids:
            aad["adminGroupObjectIDs"] = list(entra.admin_group_object_ids)
        props["aadProfile"] = aad
    if entra is not None and entra.disable_local_accounts:
        props["disableLocalAccounts"] = True
    if r.security.oidc_issuer:
        props["oidcIssuerProfile"] = {"enabled": True}
    if r.addons.cost_analysis:
        props["metricsProfile"] = {"costAnalysis": {"enabled": True}}
    if r.addons.managed_prometheus:
        props["azureMonitorProfile"] = {"metrics": {"enabled": True}}
    return props


def security_options(r: ClusterRequest) -> dict[str, Any]:
    """securityProfile's workload identity and image cleaner (Defender is added next to them by aks.py)."""
    out: dict[str, Any] = {}
    if r.security.workload_identity:
        out["workloadIdentity"] = {"enabled": True}
    if r.security.image_cleaner:
        out["imageCleaner"] = {"enabled": True, "intervalHours": r.security.image_cleaner_interval_hours}
    return out


def key_vault_addon(r: ClusterRequest) -> dict[str, Any]:
    """addonProfiles.azureKeyvaultSecretsProvider (the Secrets Store CSI driver); empty when it is off. AKS reads
    its config values as strings."""
    if not r.addons.key_vault_secrets_provider:
        return {}
    rotation = "true" if r.addons.secret_rotation else "false"
    return {"azureKeyvaultSecretsProvider": {"enabled": True, "config": {"enableSecretRotation": rotation}}}


def maintenance_windows(r: ClusterRequest) -> list[tuple[str, MaintenanceWindow]]:
    """The maintenance configurations a request asks for, by name."""
    m = r.maintenance
    named = ((AUTO_UPGRADE_SCHEDULE, m.auto_upgrade_window), (NODE_OS_SCHEDULE, m.node_os_upgrade_window))
    return [(name, window) for name, window in named if window is not None]


def maintenance_body(window: MaintenanceWindow) -> dict[str, Any]:
    """A MaintenanceConfiguration with a maintenanceWindow: weekly on a day, or daily."""
    if window.day_of_week is not None:
        schedule: dict[str, Any] = {"weekly": {"intervalWeeks": window.interval_weeks,
                                               "dayOfWeek": window.day_of_week}}
    else:
        schedule = {"daily": {"intervalDays": window.interval_days}}
    return {"properties": {"maintenanceWindow": {
        "schedule": schedule, "durationHours": window.duration_hours, "utcOffset": window.utc_offset,
        "startTime": window.start_time}}}


MAINTENANCE = ResourceType("Microsoft.ContainerService/managedClusters/maintenanceConfigurations", "2026-08-01",
                           "aks", {"put": 5, "delete": 5}, maintenance_body)

TYPES = (MAINTENANCE,)
