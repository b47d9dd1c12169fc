"""Changes real AKS refuses, with AKS's status, code and message shape (issue 16, item 3). Pure functions over request
dictionaries, called by the AKS resource types (aks.py, agentpools.py) next to the rules of aks_rules.py.

Sources (docs/emulator.md, "AKS behaviour", lists them again):
- properties fixed at creation, `PropertyChangeNotAllowed` "Changing property 'X' is not allowed."
  (Azure/azure-cli#24764);
- Kubernetes versions: `K8sVersionNotSupported` / `AgentPoolK8sVersionNotSupported`, `OperationNotAllowed` "Upgrading
  Kubernetes version A to B is not allowed. Available upgrades: [...]", `NodePoolMcVersionIncompatible` (AKS
  troubleshooting "upgrade not allowed ... version skew", 2025);
- VM sizes: `BadRequest` "The VM size of X is not allowed in your subscription in location 'L'. The available VM sizes
  are '...'", `SystemPoolSkuTooLow` "System node pool must use VM sku with more than 2 cores and 4GB memory. Nodepool
  name: N." (az CLI and Terraform reports of real answers);
- api-version: `NoRegisteredProviderFound` "No registered resource provider found for location 'L' and API version
  'V' for type 'managedClusters'. The supported api-versions are '...'" (Azure/azure-cli#28368, #23985).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..errors import ArmError
from ..versions import VersionTable, parse
from .aks_rules import is_blank, property_change_not_allowed
from .compute import vm_size

VERSIONS_HELP = "For more information, please check https://aka.ms/supported-version-list"
SKEW_HELP = "For more information, see [AKS upgrade version skew policy](https://aka.ms/aks/UpgradeVersionRules)."
UPGRADE_HELP = "For more information, see [AKS supported Kubernetes versions](https://aka.ms/aks-supported-k8s-ver) " \
    "for version details."
FIRST_API = "2017-08-31"  # the first managedClusters api-version
_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?\Z")
LISTED_APIS = ("2017-08-31", "2024-09-01", "2025-01-01", "2025-05-01", "2025-08-01", "2026-01-01", "2026-05-01",
               "2026-08-01")
# VM series Azure sells (standard_<series><vCPUs>...): a name outside them is no size at all.
_SERIES = re.compile(r"^standard_(a|b|dc?|ds|e[bc]?|fx?|gs?|h[bcx]?|l|m|mc|nc|ncc|nd|ng|nv)\d+[a-z-]*(_[a-z0-9]+)*\Z")
# Retired sizes: NC, NCv2, ND, NV (v1) on 2023-09-06; Av1 (and Basic_A) on 2024-08-31; H and HBv1 on 2024-09-28.
_RETIRED = re.compile(
    r"^(basic_a\d+|standard_a\d+|standard_nc\d+r?|standard_nc\d+r?s_v2|standard_nd\d+r?s|standard_nv\d+"
    r"|standard_h\d+[a-z]*|standard_hb60rs)\Z"
)
FIXED_CLUSTER = (("dnsPrefix", "dnsPrefix"), ("nodeResourceGroup", "nodeResourceGroup"))


def check_api_version(version: str, location: str, type_name: str) -> None:
    """400 NoRegisteredProviderFound for an api-version the provider does not have: not `YYYY-MM-DD[-preview]`,
    before the first one, or dated after today (no provider serves a version from the future)."""
    match = _API_VERSION.match(version)
    today = datetime.now(UTC).date().isoformat()
    if match and FIRST_API <= match[1] <= today:
        return
    short = type_name.split("/", 1)[-1]
    raise ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{version}' for type "
        f"'{short}'. The supported api-versions are '{', '.join(LISTED_APIS)}'. The supported locations are "
        "'westeurope, northeurope, eastus, eastus2, westus2, westus3, swedencentral, uksouth'.",
    )


def check_vm_size(name: str, pool: str, system: bool, location: str) -> None:
    """An unknown or retired size: 400 BadRequest; a System pool under 2 vCPUs or 4 GiB: 400 SystemPoolSkuTooLow."""
    if is_blank("vmSize", name):
        return
    lowered = str(name).lower()
    if not _SERIES.match(lowered) or _RETIRED.match(lowered):
        raise ArmError(
            400,
            "BadRequest",
            f"The VM size of {name} is not allowed in your subscription in location '{location}'. The available VM "
            "sizes are 'standard_d2s_v5,standard_d4ds_v5,standard_d4s_v5,standard_d8s_v5,standard_e8s_v5,"
            "standard_nc24ads_a100_v4,standard_nc4as_t4_v3,...'",
        )
    size = vm_size(lowered)
    if system and (size.vcpus < 2 or size.memory_gib < 4):
        raise ArmError(
            400,
            "SystemPoolSkuTooLow",
            f"System node pool must use VM sku with more than 2 cores and 4GB memory. Nodepool name: {pool}.",
        )


def check_spot_surge(pool: str, props: dict[str, Any]) -> None:
    """Spot pools do not surge: a `maxSurge` on one is 400 InvalidParameter (AKS "Add a spot node pool": spot pools
    can't be upgraded with surge; the field is refused, not ignored)."""
    surge = (props.get("upgradeSettings") or {}).get("maxSurge")
    if props.get("scaleSetPriority") == "Spot" and not is_blank("maxSurge", surge) and str(surge) not in ("0", "0%"):
        raise ArmError(
            400,
            "InvalidParameter",
            f"The value of parameter agentPoolProfile.upgradeSettings.maxSurge is invalid. Error details: Spot node "
            f"pool '{pool}' does not support max surge.",
            target="agentPoolProfile.upgradeSettings.maxSurge",
        )


def check_cluster_change(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Properties AKS fixes at creation: dnsPrefix, nodeResourceGroup; the network plugin may not go azure ->
    kubenet."""
    for field, target in FIXED_CLUSTER:
        if not is_blank(field, new.get(field)) and old.get(field) and str(new[field]) != str(old[field]):
            raise property_change_not_allowed(target)
    before = ((old.get("networkProfile") or {}).get("networkPlugin") or "azure").lower()
    after = ((new.get("networkProfile") or {}).get("networkPlugin") or before).lower()
    if after != before and not (before == "kubenet" and after == "azure"):  # kubenet -> azure is the one migration
        raise property_change_not_allowed("networkProfile.networkPlugin")


def check_version(versions: VersionTable, requested: Any, *, pool: bool) -> None:
    """A `kubernetesVersion`/`orchestratorVersion` must be in the region's table: a `M.m` alias needs a GA patch."""
    if is_blank("version", requested):
        return
    text = str(requested)
    full = parse(text) is not None
    known = text in versions.versions if full else any(
        v.startswith(f"{text}.") and not preview for v, preview in versions.versions.items())
    if not known:
        raise ArmError(
            400,
            "AgentPoolK8sVersionNotSupported" if pool else "K8sVersionNotSupported",
            f"Version {text} is not supported in this region. Please use [az aks get-versions] command to get the "
            f"supported version list in this region. {VERSIONS_HELP}",
        )


def check_upgrade(versions: VersionTable, current: str | None, target: str) -> None:
    """A move of the control plane (or a pool) from `current` to `target` must be one AKS offers: the same version,
    a newer patch of the minor, or the next minor; never a skipped minor nor a downgrade."""
    now, then = parse(current), parse(target)
    if now is None or then is None or now == then or (then[:2] == now[:2] and then > now):
        return
    offered = [u["kubernetesVersion"] for u in versions.upgrades(current or "")]
    if target not in offered:
        raise ArmError(
            400,
            "OperationNotAllowed",
            f"Upgrading Kubernetes version {current} to {target} is not allowed. Available upgrades: "
            f"[{' '.join(reversed(offered))}]. {UPGRADE_HELP}",
        )


def check_skew(pool_version: str, control_plane: str) -> None:
    """A pool may not run newer than the control plane, nor more than 3 minors behind it."""
    pool, plane = parse(pool_version), parse(control_plane)
    if pool is None or plane is None:
        return
    if pool[:2] > plane[:2]:
        reason = "Minor version of node pool cannot be newer than control plane's version"
    elif plane[1] - pool[1] > 3:
        reason = "Minor version of node pool cannot be more than 3 versions less than control plane's version"
    else:
        return
    raise ArmError(
        400,
        "NodePoolMcVersionIncompatible",
        f"Node pool version {pool_version} and control plane version {control_plane} is incompatible. {reason}. "
        f"Minor version of node pool is {pool[1]} and control plane is {plane[1]}. {SKEW_HELP}",
    )


def check_profile_versions(profiles: list[dict[str, Any]], pools: dict[str, dict[str, Any]], plane: str) -> None:
    """A cluster PUT on an existing cluster names every pool's orchestratorVersion or none, and a named one is either
    unchanged or the control plane's (AKS: per-pool version changes go through the agentPools API)."""
    named = [p for p in profiles if not is_blank("orchestratorVersion", p.get("orchestratorVersion"))]
    if not named:
        return
    changed = [p for p in named if str(p["orchestratorVersion"]) not in (
        pools.get(str(p.get("name", "")).lower(), {}).get("orchestratorVersion"),
        pools.get(str(p.get("name", "")).lower(), {}).get("currentOrchestratorVersion"), plane)]
    if len(named) != len(profiles) or changed:
        raise ArmError(
            400,
            "NotAllAgentPoolOrchestratorVersionSpecifiedAndUnchanged",
            "Using managed cluster api, all Agent pools' OrchestratorVersion must be all specified or all "
            "unspecified. If all specified, they must be stay unchanged or the same with control plane. For agent "
            "pool specific change, please use per agent pool operations: https://aka.ms/agent-pool-rest-api",
        )


def check_pool_request(versions: VersionTable, name: str, props: dict[str, Any], location: str) -> None:
    """The refusals that depend on one pool's request only: its VM size, spot surge and version."""
    check_vm_size(props.get("vmSize", ""), name, props.get("mode") == "System", location)
    check_spot_surge(name, props)
    check_version(versions, props.get("orchestratorVersion"), pool=True)
