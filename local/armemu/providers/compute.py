"""Compute facts the emulator needs: a small VM size catalog, vCPU quota per family and location, and
`GET /subscriptions/<s>/providers/Microsoft.Compute/locations/<loc>/usages` computed from the node pools.

Usage counts every node pool's current `count` times the size's vCPUs; spot pools count against `lowPriorityCores`,
as Azure's spot quota does. Default limits are generous (1,000 vCPUs per family, 5,000 regional) so demos fit; set
them with `PUT /_emulator/quota` to test `ErrCode_InsufficientVCPUQuota`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ArmError
from ..world import Call, Reply, World

AKS_CLUSTERS = "Microsoft.ContainerService/managedClusters"
AKS_POOLS = "Microsoft.ContainerService/managedClusters/agentPools"
DEFAULT_FAMILY_LIMIT = 1000
DEFAULT_REGIONAL_LIMIT = 5000
DEFAULT_LOW_PRIORITY_LIMIT = 1000
QUOTA_CODE = "ErrCode_InsufficientVCPUQuota"
QUOTA_HELP = "https://learn.microsoft.com/en-us/azure/quotas/view-quotas"


@dataclass(frozen=True, slots=True)
class VmSize:
    vcpus: int
    memory_gib: float
    family: str
    ephemeral_os: bool
    arm64: bool = False


CATALOG: dict[str, VmSize] = {
    "standard_d2s_v5": VmSize(2, 8, "standardDSv5Family", False),
    "standard_d4s_v5": VmSize(4, 16, "standardDSv5Family", False),
    "standard_d8s_v5": VmSize(8, 32, "standardDSv5Family", False),
    "standard_d16s_v5": VmSize(16, 64, "standardDSv5Family", False),
    "standard_e8s_v5": VmSize(8, 64, "standardESv5Family", False),
    "standard_nc4as_t4_v3": VmSize(4, 28, "Standard NCASv3_T4 Family", True),
    "standard_nc24ads_a100_v4": VmSize(24, 220, "StandardNCADSA100v4Family", True),
    "standard_nc6s_v3": VmSize(6, 112, "standardNCSv3Family", True),
    # Dsv6: the usages API spells this family `StandardDsv6Family`, which the name guess below would not.
    "standard_d4s_v6": VmSize(4, 16, "StandardDsv6Family", False),
    "standard_d8s_v6": VmSize(8, 32, "StandardDsv6Family", False),
    "standard_d16s_v6": VmSize(16, 64, "StandardDsv6Family", False),
    # Arm64 and H100 sizes of docs/examples (arm64-cost-optimised.json, h100-mig-training.json), with the quota
    # family the usages API names them by (the Resource SKUs' `family`); the H100s' local disk is NVMe only.
    "standard_d4ps_v6": VmSize(4, 16, "StandardDpsv6Family", False, arm64=True),
    "standard_d8ps_v6": VmSize(8, 32, "StandardDpsv6Family", False, arm64=True),
    "standard_d16ps_v6": VmSize(16, 64, "StandardDpsv6Family", False, arm64=True),
    "standard_e8ps_v5": VmSize(8, 64, "standardEPSv5Family", False, arm64=True),
    "standard_nc40ads_h100_v5": VmSize(40, 320, "StandardNCadsH100v5Family", False),
    "standard_nd96isr_h100_v5": VmSize(96, 1900, "standardNDSH100v5Family", False),
}
_SIZE = re.compile(r"^standard_([a-z]+)(\d+)([a-z]*)(?:_([a-z0-9]+))?(?:_(v\d+))?$")


def vm_size(name: str) -> VmSize:
    """The catalog entry, or a guess from the size name: vCPUs from its digits, a local (ephemeral-capable) disk when
    the suffix has a `d` (Ddsv5 has one, Dsv5 has none), Arm64 when a B, D or E size's suffix starts with `p`
    (Dpsv5, Dpdsv5, Epsv5, Bpsv2)."""
    known = CATALOG.get(name.lower())
    if known is not None:
        return known
    match = _SIZE.match(name.lower())
    if not match:
        return VmSize(2, 8, "standardUnknownFamily", False)
    series, digits, suffix, _, version = match.groups()
    family = f"standard{series.upper()}{suffix.upper()}{version or ''}Family"
    return VmSize(int(digits), int(digits) * 4, family, "d" in suffix, series in ("b", "d", "e") and suffix[:1] == "p")


def pool_cores(props: dict[str, Any]) -> tuple[str, int]:
    size = vm_size(props.get("vmSize", "Standard_D2s_v5"))
    family = "lowPriorityCores" if props.get("scaleSetPriority") == "Spot" else size.family
    return family, size.vcpus * int(props.get("count") or 0)


def usage_by_family(
    world: World, subscription: str, location: str, skip_pool_ids: set[str] | None = None
) -> dict[str, int]:
    used: dict[str, int] = {}
    skip = skip_pool_ids or set()
    for cluster in world.store.in_subscription(subscription, AKS_CLUSTERS):
        if cluster.body.get("location") != location:
            continue
        for pool in world.store.children(cluster.id, AKS_POOLS):
            if pool.id.lower() in skip:
                continue
            family, cores = pool_cores(pool.properties)
            used[family] = used.get(family, 0) + cores
            if family != "lowPriorityCores":
                used["cores"] = used.get("cores", 0) + cores
    return used


def limit_for(world: World, location: str, family: str) -> int:
    limits = world.quota_limits.get(location, {}) or world.quota_limits.get("*", {})
    default = {"cores": DEFAULT_REGIONAL_LIMIT, "lowPriorityCores": DEFAULT_LOW_PRIORITY_LIMIT}.get(
        family, DEFAULT_FAMILY_LIMIT
    )
    return int(limits.get(family, default))


def check_quota(
    world: World, subscription: str, location: str, pools: list[dict[str, Any]], replacing: set[str]
) -> None:
    """400 ErrCode_InsufficientVCPUQuota if `pools` (new or changed pool properties) would exceed a limit;
    `replacing` are the pool ids whose current usage the new values replace. A family's limit is checked first, then
    the regional total, as AKS reports them."""
    before = usage_by_family(world, subscription, location)
    after = usage_by_family(world, subscription, location, replacing)
    for props in pools:
        family, cores = pool_cores(props)
        after[family] = after.get(family, 0) + cores
        if family != "lowPriorityCores":
            after["cores"] = after.get("cores", 0) + cores
    for family in sorted(after, key=lambda name: name == "cores"):
        limit = limit_for(world, location, family)
        if after[family] > limit:
            requested = after[family] - before.get(family, 0)
            raise quota_exceeded(family, location, max(0, limit - before.get(family, 0)), max(1, requested))


def quota_exceeded(family: str, location: str, remaining: int, requested: int) -> ArmError:
    """AKS's preflight refusal (Azure CLI and Terraform reports of real AKS answers, 2024-2026): 400
    `ErrCode_InsufficientVCPUQuota`, one message for a VM family's quota and one for the regional total."""
    if family == "cores":
        message = (
            f"Insufficient regional vcpu quota left for location {location}. left regional vcpu quota {remaining}, "
            f"requested quota {requested}. If you want to increase the quota, please follow this instruction: "
            f"{QUOTA_HELP}"
        )
    else:
        message = (
            f"Insufficient vcpu quota requested {requested}, remaining {remaining} for family {family} for region "
            f"{location}."
        )
    return ArmError(400, QUOTA_CODE, message)


def usages(world: World, call: Call) -> Reply:
    location = call.path.names[0].replace(" ", "").lower()
    used = usage_by_family(world, call.path.subscription, location)
    families = {s.family for s in CATALOG.values()} | set(used) | {"cores", "lowPriorityCores"}
    families |= set(world.quota_limits.get(location, {})) | set(world.quota_limits.get("*", {}))
    value = []
    for family in sorted(families):
        localized = {"cores": "Total Regional vCPUs", "lowPriorityCores": "Total Regional Low-priority vCPUs"}.get(
            family, f"{family} vCPUs"
        )
        value.append(
            {
                "unit": "Count",
                "currentValue": used.get(family, 0),
                "limit": limit_for(world, location, family),
                "name": {"value": family, "localizedValue": localized},
            }
        )
    return Reply(200, {"value": value})
