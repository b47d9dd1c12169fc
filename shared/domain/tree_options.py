"""The production options in the plan's tree (issue 18): a line each for node OS, API server access, security,
add-ons, dataplane and maintenance, written only when the request turns the option on, so that a request without
them keeps the tree it had; and a pool's own options at the end of its line."""

from __future__ import annotations

from shared.domain.request import ClusterRequest, Pool
from shared.domain.request_options import MaintenanceWindow


def _label(text: str) -> str:
    return f"{text:<13}"  # the tree's label column


# The labels padded once, not on every plan (planning is hot: bench/bench_plan.py).
NODE_OS, API_SERVER, SECURITY, ADDONS, DATAPLANE, MAINTENANCE = map(
    _label, ("Node OS", "API server", "Security", "Add-ons", "Dataplane", "Maintenance"))


def option_lines(r: ClusterRequest) -> list[str]:
    lines = [(NODE_OS, _node_os(r)), (API_SERVER, _api_server(r)), (SECURITY, _security(r)),
             (ADDONS, _addons(r)), (DATAPLANE, _dataplane(r)), (MAINTENANCE, _maintenance(r))]
    return [label + " · ".join(parts) for label, parts in lines if parts]


def pool_options(p: Pool) -> list[str]:
    # a list, not a generator: most pools have none of these, and a generator costs its frame and its resumption on
    # every pool of every plan (planning is hot: bench/bench_plan.py)
    parts = []
    if p.max_surge:
        parts.append(f"surge {p.max_surge}")
    if p.gpu_instance_profile:
        parts.append(f"MIG {p.gpu_instance_profile}")
    if p.scale_down_mode:
        parts.append(f"scale-down {p.scale_down_mode}")
    if p.enable_encryption_at_host:
        parts.append("encryption at host")
    if p.kubelet_config is not None:
        parts.append("custom kubelet")
    return parts


def _node_os(r: ClusterRequest) -> list[str]:
    """The pools by node OS, when a pool names its OS SKU (one pass over the pools: planning is hot)."""
    by_sku: dict[str, list[str]] = {}
    named = False
    for p in r.pools:
        sku = p.os_sku
        if sku is None:
            sku = "Windows2022" if p.os == "Windows" else "Ubuntu"
        else:
            named = True
        names = by_sku.get(sku)
        if names is None:
            by_sku[sku] = [p.name]
        else:
            names.append(p.name)
    return [f"{sku} ({', '.join(names)})" for sku, names in by_sku.items()] if named else []


def _api_server(r: ClusterRequest) -> list[str]:
    api, entra, parts = r.api_server, r.entra_id, []
    if api.private:
        parts.append(f"private (DNS zone {api.private_dns_zone}{', public FQDN' if api.public_fqdn else ''})")
    elif api.authorized_ip_ranges:
        parts.append(f"public, authorized {', '.join(api.authorized_ip_ranges)}")
    if entra is not None and entra.managed:
        parts.append("Entra ID with Azure RBAC" if entra.azure_rbac else "Entra ID")
    if entra is not None and entra.disable_local_accounts:
        parts.append("local accounts disabled")
    return parts


def _security(r: ClusterRequest) -> list[str]:
    s, parts = r.security, []
    if s.workload_identity:
        parts.append("workload identity")
    if s.oidc_issuer:
        parts.append("OIDC issuer")
    if s.image_cleaner:
        parts.append(f"image cleaner every {s.image_cleaner_interval_hours}h")
    return parts


def _addons(r: ClusterRequest) -> list[str]:
    a, parts = r.addons, []
    if a.key_vault_secrets_provider:
        parts.append("Key Vault secrets provider" + (" (rotation)" if a.secret_rotation else ""))
    if a.cost_analysis:
        parts.append("cost analysis")
    if a.managed_prometheus:
        parts.append("managed Prometheus")
    return parts


def _dataplane(r: ClusterRequest) -> list[str]:
    n = r.network
    if (n.dataplane, n.policy, n.outbound_type) == ("azure", "none", "loadBalancer"):
        return []
    return [f"{n.dataplane} dataplane", f"network policy {n.policy}", f"outbound {n.outbound_type}"]


def _maintenance(r: ClusterRequest) -> list[str]:
    m, parts = r.maintenance, []
    if m.auto_upgrade_window is not None:
        parts.append(f"Kubernetes ({r.reactions.auto_upgrade}) {_window(m.auto_upgrade_window)}")
    if m.node_os_upgrade_window is not None:
        parts.append(f"node OS ({m.node_os_upgrade_channel}) {_window(m.node_os_upgrade_window)}")
    return parts


def _window(w: MaintenanceWindow) -> str:
    when = (f"{w.day_of_week}s" + (f" every {w.interval_weeks} weeks" if w.interval_weeks > 1 else "")
            if w.day_of_week else ("daily" if w.interval_days == 1 else f"every {w.interval_days} days"))
    return f"{when} {w.start_time} UTC{w.utc_offset} {w.duration_hours}h"
