"""What the control API can make happen to resources from outside, as Azure's platform would: spot evictions and
AKS system events."""

from __future__ import annotations

from typing import Any

from .errors import ArmError, invalid, resource_not_found
from .notifications import aks_event, preempted_event
from .providers.aks_common import POOLS, short_hash
from .world import World

AKS_EVENT_TYPES = (
    "NodePoolRollingStarted",
    "NodePoolRollingSucceeded",
    "NodePoolRollingFailed",
    "NewKubernetesVersionAvailable",
    "ClusterSupportEnding",
    "ClusterSupportEnded",
)


def vmss_name(pool_id: str, pool_name: str) -> str:
    """AKS names a pool's scale set `aks-<pool>-<8 digits>-vmss` in the node resource group."""
    return f"aks-{pool_name}-{int(short_hash(pool_id), 16) % 10**8:08d}-vmss"


def evict_spot_nodes(world: World, cluster_id: str, pool_name: str, count: int) -> dict[str, Any]:
    """Evict `count` nodes of a spot pool: with eviction policy Delete the pool's count drops (Deallocate keeps the
    stopped instances, so the count stays); one VirtualMachinePreempted event per instance goes to the webhooks."""
    cluster = world.store.get(cluster_id)
    if cluster is None:
        raise resource_not_found("Microsoft.ContainerService/managedClusters", cluster_id.rsplit("/", 1)[-1], None)
    pool = world.store.get(f"{cluster.id}/agentPools/{pool_name}")
    if pool is None or pool.type != POOLS:
        raise resource_not_found(POOLS, pool_name, None)
    props = pool.properties
    if props.get("scaleSetPriority") != "Spot":
        raise invalid(f"Pool '{pool_name}' is not a spot pool; only spot capacity is evicted.", "pool")
    current = int(props.get("count", 0))
    evicted = max(0, min(count, current))
    group = cluster.properties["nodeResourceGroup"]
    scale_set = vmss_name(pool.id, pool.name)
    vm_ids = [
        f"/subscriptions/{cluster.subscription}/resourceGroups/{group}/providers/Microsoft.Compute/"
        f"virtualMachineScaleSets/{scale_set}/virtualMachines/{instance}"
        for instance in range(current - 1, current - 1 - evicted, -1)
    ]
    if props.get("scaleSetEvictionPolicy", "Delete") == "Delete":
        props["count"] = current - evicted
    events = [preempted_event(cluster.subscription, vm_id) for vm_id in vm_ids]
    targets = world.deliverer.emit(events, f"/subscriptions/{cluster.subscription}") if events else []
    return {
        "evicted": evicted,
        "count": props["count"],
        "virtualMachineScaleSet": scale_set,
        "events": events,
        "deliveredTo": targets,
    }


def emit_aks_event(world: World, cluster_id: str, event_type: str, data: dict[str, Any] | None) -> dict[str, Any]:
    short = event_type.removeprefix("Microsoft.ContainerService.")
    if short not in AKS_EVENT_TYPES:
        raise invalid(f"Unknown AKS event type '{event_type}'; known: {', '.join(AKS_EVENT_TYPES)}.", "eventType")
    cluster = world.store.get(cluster_id)
    if cluster is None:
        raise ArmError(404, "ResourceNotFound", f"Cluster '{cluster_id}' was not found.")
    version = cluster.properties.get("currentKubernetesVersion", "1.33.2")
    defaults: dict[str, dict[str, Any]] = {
        "NewKubernetesVersionAvailable": world.versions.event_data(),
        "ClusterSupportEnding": {"kubernetesVersion": version},
        "ClusterSupportEnded": {"kubernetesVersion": version},
    }
    payload = data if data is not None else defaults.get(short, {"nodePoolName": "nodepool1"})
    event = aks_event(cluster.id, short, payload)
    targets = world.deliverer.emit([event], cluster.id)
    return {"events": [event], "deliveredTo": targets}
