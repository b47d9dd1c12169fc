"""The AKS rules the emulator enforces, each with an ARM error (docs/aks-facts.md, "Node pools", "Spot pools", "GPU and
Windows pools"). Pure functions over request dictionaries: the resource types in aks.py call them.

Codes are AKS's where documented (`OperationNotAllowed`, `MustDefineAtLeastOneSystemPool`, `PropertyChangeNotAllowed`,
`ErrCode_InsufficientVCPUQuota`); the
rest use `InvalidParameter` with a `target` naming the field, which is how AKS reports most validation failures.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import ArmError, invalid
from .aks_features import check_pool as check_pool_options
from .compute import vm_size

POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")
MAX_POOLS = 100
MAX_NODES_PER_POOL = 1000
MAX_NODES_PER_CLUSTER = 5000
FIXED_AFTER_CREATE = (
    "scaleSetPriority",
    "scaleSetEvictionPolicy",
    "spotMaxPrice",
    "maxPods",
    "osType",
    "osDiskType",
    "vmSize",
    "availabilityZones",
)
ZERO_IS_UNSET = ("osDiskSizeGB", "maxPods")
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
PENDING_HELP = "See https://aka.ms/aks-pending-operation for more details."
# An operation's kind, or a running provisioningState (the fault plan's `runningOperation`), as AKS names it.
RUNNING_VERBS = {"Creating": "create", "Updating": "update", "Scaling": "scale", "Deleting": "delete",
                 "Upgrading": "upgrade", "Stopping": "stop", "Starting": "start"}


def is_blank(key: str, value: Any) -> bool:
    """A value the CLI sends for "not set" (`vmSize ""`, `orchestratorVersion ""`, `osDiskSizeGB 0`, nulls): AKS
    fills its default in for it, as for an absent one, and it changes nothing on an update (the Azure CLI's recording
    `test_aks_create_default` sends `orchestratorVersion ""` and gets the cluster's version, `osDiskSizeGB` null and
    gets 128)."""
    return value is None or value == "" or (value == 0 and key in ZERO_IS_UNSET)


def check_cluster_name(name: str) -> None:
    if not CLUSTER_NAME.match(name):
        raise invalid(
            f"The cluster name '{name}' is invalid: 1-63 letters, digits, '-' or '_', starting and ending "
            "with a letter or digit.",
            "name",
        )


def default_max_pods(network_profile: dict[str, Any]) -> int:
    plugin = (network_profile.get("networkPlugin") or "azure").lower()
    if plugin == "kubenet":
        return 110
    overlay = (network_profile.get("networkPluginMode") or "").lower() == "overlay"
    return 250 if overlay or plugin == "none" else 30


def check_pool(name: str, props: dict[str, Any], cluster_props: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Raise for the first broken rule of one pool; `old` is the pool's current properties on an update."""
    target = f"agentPoolProfile.{name}"
    windows = (props.get("osType") or "Linux") == "Windows"
    system = props.get("mode") == "System"
    spot = props.get("scaleSetPriority") == "Spot"
    if not POOL_NAME.match(name):
        raise invalid(f"Agent pool name '{name}' is invalid: it must match ^[a-z][a-z0-9]{{0,11}}$.", f"{target}.name")
    if windows and len(name) > 6:
        raise invalid(f"Windows agent pool name '{name}' can not be longer than 6 characters.", f"{target}.name")
    if system and windows:
        raise invalid(f"System pool '{name}' must use Linux: System pools must run Linux.", f"{target}.osType")
    if system and spot:
        raise invalid(f"Spot pool '{name}' can not be a System pool.", f"{target}.mode")
    if system and str(props.get("vmSize", "")).lower().startswith("standard_b"):
        raise invalid(f"System pool '{name}' can not use a B-series size.", f"{target}.vmSize")
    scale_set = (props.get("type") or "VirtualMachineScaleSets") == "VirtualMachineScaleSets"
    if (spot or props.get("availabilityZones")) and not scale_set:
        raise invalid(f"Pool '{name}': spot and availability zones need VirtualMachineScaleSets.", f"{target}.type")
    if spot:
        _check_spot(name, props, target)
    _check_counts(name, props, system, target, resting=_resting(props, old))
    _check_max_pods(name, props, cluster_props, system, target)
    if props.get("osDiskType") == "Ephemeral" and not vm_size(props.get("vmSize", "")).ephemeral_os:
        raise invalid(
            f"Pool '{name}': VM size {props.get('vmSize')} has no cache or temp disk big enough for an "
            "Ephemeral OS disk; use Managed.",
            f"{target}.osDiskType",
        )
    if windows:
        if not cluster_props.get("windowsProfile"):
            raise invalid(
                f"Windows pool '{name}' needs the cluster to be created with windowsProfile.", "windowsProfile"
            )
        plugin = ((cluster_props.get("networkProfile") or {}).get("networkPlugin") or "azure").lower()
        if plugin != "azure":
            raise invalid(
                f"Windows pool '{name}' needs Azure CNI (networkPlugin 'azure'), not '{plugin}'.",
                "networkProfile.networkPlugin",
            )
    check_pool_options(name, props, cluster_props)
    if old is not None:
        for field in FIXED_AFTER_CREATE:
            if not is_blank(field, props.get(field)) and _norm(props.get(field)) != _norm(old.get(field)):
                raise property_change_not_allowed(field)


def property_change_not_allowed(field: str) -> ArmError:
    """AKS's refusal of a property fixed at creation: 400 `PropertyChangeNotAllowed`, "Changing property '<name>' is
    not allowed.", target the property (Azure/azure-cli#24764, AKS troubleshooting "changing property ... not
    allowed")."""
    return ArmError(400, "PropertyChangeNotAllowed", f"Changing property '{field}' is not allowed.", target=field)


def _norm(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    if isinstance(value, int | float):
        return float(value)
    return value


def _check_spot(name: str, props: dict[str, Any], target: str) -> None:
    policy = props.get("scaleSetEvictionPolicy") or "Delete"
    if policy not in ("Delete", "Deallocate"):
        raise invalid(
            f"Spot pool '{name}': scaleSetEvictionPolicy must be Delete or Deallocate.",
            f"{target}.scaleSetEvictionPolicy",
        )
    price = props.get("spotMaxPrice", -1)
    try:
        as_decimal = Decimal(str(price))
    except InvalidOperation as exc:
        raise invalid(f"Spot pool '{name}': spotMaxPrice {price!r} is not a number.", f"{target}.spotMaxPrice") from exc
    if as_decimal != -1 and (as_decimal <= 0 or -as_decimal.as_tuple().exponent > 5):
        raise invalid(
            f"Spot pool '{name}': spotMaxPrice must be -1 or a positive price with at most 5 decimals.",
            f"{target}.spotMaxPrice",
        )


def _resting(props: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """Whether the pool is stopped and the body carries its count 0 as read: a stopped pool has no nodes, whatever its
    autoscale bounds, and can still be updated and upgraded (AKS docs, "Start and stop a node pool": "Stopped node
    pools can be upgraded"); a start brings back the count from before the stop (aks_power.py)."""
    stopped = ((old or {}).get("powerState") or {}).get("code") == "Stopped"
    return stopped and props.get("count") == 0


def _check_counts(name: str, props: dict[str, Any], system: bool, target: str, resting: bool = False) -> None:
    count = props.get("count", 1)
    low = 1 if system else 0
    if resting:
        count = props.get("minCount") if isinstance(props.get("minCount"), int) else low
    if not isinstance(count, int) or not low <= count <= MAX_NODES_PER_POOL:
        raise invalid(
            f"Pool '{name}': count must be within {low}-{MAX_NODES_PER_POOL} for a "
            f"{'System' if system else 'User'} pool.",
            f"{target}.count",
        )
    if props.get("enableAutoScaling"):
        low_count, high_count = props.get("minCount"), props.get("maxCount")
        if not isinstance(low_count, int) or not isinstance(high_count, int):
            raise invalid(f"Pool '{name}': autoscaling needs minCount and maxCount.", f"{target}.minCount")
        if not (low <= low_count <= count <= high_count <= MAX_NODES_PER_POOL):
            raise invalid(
                f"Pool '{name}': need {low} <= minCount <= count <= maxCount <= {MAX_NODES_PER_POOL}.",
                f"{target}.minCount",
            )


def _check_max_pods(name: str, props: dict[str, Any], cluster_props: dict[str, Any], system: bool, target: str) -> None:
    max_pods = props.get("maxPods") or default_max_pods(cluster_props.get("networkProfile") or {})
    if not 10 <= max_pods <= 250:
        raise invalid(f"Pool '{name}': maxPods {max_pods} must be within 10-250.", f"{target}.maxPods")
    if system and max_pods < 30:
        raise invalid(f"System pool '{name}' must hold at least 30 pods (maxPods {max_pods}).", f"{target}.maxPods")


def check_pool_set(pools: list[dict[str, Any]]) -> None:
    """Rules over all pools of a cluster at creation."""
    if not pools:
        raise invalid("agentPoolProfiles must hold at least one pool.", "agentPoolProfiles")
    names = [p.get("name", "") for p in pools]
    if len({n.lower() for n in names}) != len(names):
        raise invalid("Agent pool names must be unique.", "agentPoolProfiles")
    if len(pools) > MAX_POOLS:
        raise invalid(f"A cluster can have at most {MAX_POOLS} pools.", "agentPoolProfiles")
    if (pools[0].get("osType") or "Linux") != "Linux":
        raise invalid("The first agent pool must be Linux.", "agentPoolProfiles[0].osType")
    if not any(p.get("mode") == "System" for p in pools):
        raise ArmError(
            400, "MustDefineAtLeastOneSystemPool", "Must define at least one system pool.", target="agentPoolProfiles"
        )
    check_total_nodes(sum(int(p.get("count", 1) or 0) for p in pools))


def check_total_nodes(total: int) -> None:
    if total > MAX_NODES_PER_CLUSTER:
        raise invalid(
            f"A cluster can have at most {MAX_NODES_PER_CLUSTER} nodes; the request asks for {total}.",
            "agentPoolProfiles",
        )


def check_windows_profile(profile: dict[str, Any] | None) -> None:
    if not profile:
        return
    if not profile.get("adminUsername"):
        raise invalid("windowsProfile.adminUsername is required.", "windowsProfile.adminUsername")
    password = profile.get("adminPassword") or ""
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^a-zA-Z\d]"))
    if len(password) < 14 or classes < 3:
        raise invalid(
            "windowsProfile.adminPassword must be at least 14 characters and meet 3 of: lower case, upper "
            "case, digit, special character.",
            "windowsProfile.adminPassword",
        )


def not_allowed_busy(kind: str, pool: str | None, op_id: str = "", started: str = "") -> ArmError:
    """409 OperationNotAllowed while another operation holds the cluster, worded as current AKS words it (Terraform
    and gpu-provisioner reports of real answers, 2024-2026): "Operation is not allowed because there's an in progress
    update node pool operation (operation ID: ...) on the agent pool system started on UTC ....Z. Please wait ..."."""
    verb = RUNNING_VERBS.get(kind, kind.lower())
    op_id, started = op_id or str(uuid.uuid4()), started or datetime.now(UTC).isoformat()
    what = f"{verb} node pool" if pool else f"{verb} managed cluster"
    where = f" on the agent pool {pool}" if pool else ""
    abort = "az aks nodepool operation-abort" if pool else "az aks operation-abort"
    return ArmError(
        409,
        "OperationNotAllowed",
        f"Operation is not allowed because there's an in progress {what} operation (operation ID: {op_id})"
        f"{where} started on UTC {started[:19]}Z. Please wait for it to finish "
        f"before starting a new operation. You can also use '{abort} ...' to abort the ongoing operation. "
        f"{PENDING_HELP}",
    )
