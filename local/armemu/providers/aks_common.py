"""What the AKS resource types share: names, pool defaults (AKS fills these in on every pool, and adds
the spot label and taint itself), and the cluster lock (one mutating operation per cluster, pools included)."""

from __future__ import annotations

import hashlib
from typing import Any

from ..lro import Operation
from ..store import Resource
from ..versions import VersionTable
from ..world import Call
from . import aks_rules as rules
from .aks_upgrades import Stages
from .base import Props, ResourceType, normalize_location
from .compute import vm_size

CLUSTERS = "Microsoft.ContainerService/managedClusters"
POOLS = "Microsoft.ContainerService/managedClusters/agentPools"
NODE_IMAGE = "AKSUbuntu-2204gen2containerd-202608.01.0"
# AKS picks a size by quota and capacity when none is given (az CLI >= 2.73 and Az.Aks 7 send none: "dynamically
# selected by the AKS resource provider"); a 4-vCPU Ddsv5 is what it commonly picks for a System pool.
DEFAULT_VM_SIZE = "Standard_D4ds_v5"


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.lower().encode()).hexdigest()[:length]


def pool_defaults(
    name: str,
    props: dict[str, Any],
    cluster_props: dict[str, Any],
    versions: VersionTable,
    previous: str | None = None,
) -> dict[str, Any]:
    """A pool's properties as AKS returns them: defaults filled (its current version from the version table, given
    the one it ran before), spot label and taint added by AKS itself."""
    out = {k: v for k, v in props.items()
           if k not in ("name", "provisioningState", "powerState") and not rules.is_blank(k, v)}
    version = cluster_props.get("kubernetesVersion") or versions.default()
    out.setdefault("count", 1)
    out.setdefault("mode", "User")
    out.setdefault("osType", "Linux")
    out.setdefault("osSKU", "Ubuntu" if out["osType"] == "Linux" else "Windows2022")
    out.setdefault("type", "VirtualMachineScaleSets")
    out.setdefault("maxPods", rules.default_max_pods(cluster_props.get("networkProfile") or {}))
    out.setdefault("vmSize", DEFAULT_VM_SIZE)
    out.setdefault("osDiskSizeGB", 128)
    out.setdefault("osDiskType", "Ephemeral" if vm_size(out.get("vmSize", "")).ephemeral_os else "Managed")
    out.setdefault("orchestratorVersion", version)
    out["currentOrchestratorVersion"] = versions.running(out["orchestratorVersion"], previous)
    out.setdefault("nodeImageVersion", NODE_IMAGE)
    out.setdefault("enableNodePublicIP", False)
    spot = out.get("scaleSetPriority") == "Spot"
    # AKS's defaults as its answers show them (Azure CLI recording test_aks_nodepool_stop_and_start, 2025): merged
    # into what the request gives; spot pools do not surge, so they get none.
    given = out.get("upgradeSettings") or {}
    out["upgradeSettings"] = given if spot else {"maxSurge": "10%", "maxUnavailable": "0", **given}
    out.setdefault("kubeletDiskType", "OS")
    out.setdefault("scaleDownMode", "Delete")
    out["powerState"] = {"code": "Running"}
    if spot:
        out.setdefault("scaleSetEvictionPolicy", "Delete")
        out.setdefault("spotMaxPrice", -1)
        out["nodeLabels"] = {**(out.get("nodeLabels") or {}), rules.SPOT_LABEL: "spot"}
        taints = list(out.get("nodeTaints") or [])
        out["nodeTaints"] = taints if rules.SPOT_TAINT in taints else [*taints, rules.SPOT_TAINT]
    return out


class AksType(ResourceType):
    lro_put = "async"
    lro_delete = "async"

    def cluster_of(self, resource_or_id: Resource | str) -> Resource | None:
        rid = resource_or_id.id if isinstance(resource_or_id, Resource) else resource_or_id
        return self.world.store.get(rid.split("/agentPools/")[0].split("/agentpools/")[0])

    def guard_cluster(self, cluster: Resource | None) -> None:
        if cluster is None or cluster.busy is None or cluster.busy.done:
            return
        op: Operation = cluster.busy
        pool = op.resource_id.rsplit("/", 1)[-1] if "/agentpools/" in op.resource_id.lower() else None
        raise rules.not_allowed_busy(op.kind, pool, op.id, op.start_time)

    def planned_seconds(self, resource: Resource, kind: str, before: dict[str, Any] | None) -> float:
        """An override of exactly this type and kind wins; otherwise the work decides (workmodel.py)."""
        fixed = self.world.latency.override_for(self.type_name, kind)
        return fixed if fixed is not None else self.work_seconds(resource, kind, before)

    def work_seconds(self, resource: Resource, kind: str, before: dict[str, Any] | None) -> float:
        """What this operation's work takes at time factor 1: an upgrade its stages; else the latency table's row."""
        if kind == "upgrade":
            return sum(seconds for _, seconds, _ in self.upgrade_stages(resource))
        return super().planned_seconds(resource, kind, before)

    def upgrade_stages(self, resource: Resource) -> Stages:
        """The stages of an upgrade of this resource (aks_upgrades.py). Default: none."""
        return []

    def start(self, call: Call, resource: Resource, kind: str, running: str, finish, before: Props = None) -> Operation:
        """An upgrade runs in stages, so that its versions move control plane first, then pool by pool."""
        op = super().start(call, resource, kind, running, finish, before)
        if kind == "upgrade":
            self.world.ops.stage(op, self.upgrade_stages(resource))
        return op

    def lock_holder(self, resource: Resource) -> Resource:
        return self.cluster_of(resource) or resource

    def op_location(self, resource: Resource) -> str:
        return normalize_location(self.lock_holder(resource).body.get("location") or "global")
