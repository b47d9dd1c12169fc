"""How long an AKS operation takes given what it builds: the latency model driven by the work.

A flat table (latency.py) made a 1-node pool and a 1000 x A100 pool take the same time, which flattered anything that
parallelises pools. Here (seconds at time factor 1, before the emulator's time factor):
- a cluster create is the control plane plus the slowest of its pools, which AKS provisions in parallel;
- a pool create is its VM family's base time (GPU and Windows pools slower) plus one node batch per further
  `NODE_BATCH` nodes (VMSS provisions nodes in batches, so large counts are slower but not linearly);
- a scale is by the nodes added (or removed), in batches;
- an upgrade rolls each pool in batches of its `maxSurge` (default 10%, fractions rounded up, at least 1), each batch a
  surge node's provisioning plus its drain plus `nodeSoakDurationInMinutes`; a cluster upgrade does the control plane
  first, then the pools one after another;
- stop and start (`stop_start_seconds`, the hook for the stop/start operations) by their own figures.
Every figure is a row of the latency table (`aks/<figure>:<kind>`), so `PUT /_emulator/latency` overrides it, and its
source is in docs/emulator.md ("Latency model").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

FIGURES: dict[str, float] = {
    "aks/controlPlane:create": 120.0,  # cluster create 360 s with one small pool = 120 + pool 240
    "aks/controlPlane:upgrade": 180.0,
    "aks/controlPlane:stop": 120.0,
    "aks/controlPlane:start": 180.0,
    "aks/pool:create": 240.0,  # node pool create 4-14 min (docs/aks-facts.md)
    "aks/pool:scale": 70.0,  # scale 3 -> 53 nodes P50 100 s = 70 + one batch of 30
    "aks/pool:scaleIn": 60.0,
    "aks/pool:stop": 60.0,
    "aks/nodeBatch:create": 30.0,
    "aks/nodeBatch:delete": 10.0,
    "aks/gpuPool:extra": 180.0,  # GPU driver install: GPU nodes 5-11 min against 4 for general purpose
    "aks/windowsPool:extra": 120.0,
    "aks/surgeNode:upgrade": 180.0,  # ~3 min to add a surge node (gordon.byers.me, 2019)
    "aks/drain:upgrade": 30.0,  # Kubernetes' default terminationGracePeriodSeconds
}
NODE_BATCH = 50  # nodes provisioned together; AKS-Performance-and-Scale scales 50 at a time (3 -> 53)
Figure = Callable[[str], float]
_GPU = re.compile(r"^standard_n", re.IGNORECASE)  # NC, ND, NV: the GPU series


def batches(nodes: int, size: int = NODE_BATCH) -> int:
    return max(0, math.ceil(max(0, nodes) / size))


def pool_create_seconds(figure: Figure, props: dict[str, Any]) -> float:
    """A pool of `count` nodes: its family's base time plus a batch per further NODE_BATCH nodes."""
    count = int(props.get("count") or 0)
    seconds = figure("aks/pool:create") + max(0, batches(count) - 1) * figure("aks/nodeBatch:create")
    if _GPU.match(str(props.get("vmSize") or "")):
        seconds += figure("aks/gpuPool:extra")
    if props.get("osType") == "Windows":
        seconds += figure("aks/windowsPool:extra")
    return seconds


def cluster_create_seconds(figure: Figure, pools: Iterable[dict[str, Any]]) -> float:
    """The control plane, then the pools in parallel: the slowest one decides."""
    return figure("aks/controlPlane:create") + max((pool_create_seconds(figure, p) for p in pools), default=0.0)


def scale_seconds(figure: Figure, before: int, after: int) -> float:
    """Adding nodes: a base plus a batch per NODE_BATCH added; removing them: a smaller base and cheaper batches."""
    if after >= before:
        return figure("aks/pool:scale") + batches(after - before) * figure("aks/nodeBatch:create")
    return figure("aks/pool:scaleIn") + batches(before - after) * figure("aks/nodeBatch:delete")


def surge_nodes(props: dict[str, Any]) -> int:
    """`upgradeSettings.maxSurge` as a node count: an integer, or a percentage of the pool rounded up; default 10%."""
    count = int(props.get("count") or 0)
    raw = str((props.get("upgradeSettings") or {}).get("maxSurge") or "10%").strip()
    try:
        surge = math.ceil(count * float(raw[:-1]) / 100) if raw.endswith("%") else int(raw)
    except ValueError:
        surge = math.ceil(count / 10)
    return max(1, surge)


def upgrade_batches(props: dict[str, Any]) -> int:
    """How many batches of maxSurge nodes a pool's upgrade rolls (0 for a pool of no nodes)."""
    return batches(int(props.get("count") or 0), surge_nodes(props))


def upgrade_batch_seconds(figure: Figure, props: dict[str, Any]) -> float:
    """One batch: a surge node provisioned, the old node drained, then the soak time."""
    soak = float((props.get("upgradeSettings") or {}).get("nodeSoakDurationInMinutes") or 0) * 60.0
    return figure("aks/surgeNode:upgrade") + figure("aks/drain:upgrade") + soak


def pool_upgrade_seconds(figure: Figure, props: dict[str, Any]) -> float:
    """Node batches of maxSurge, each a surge node plus its drain plus the soak time."""
    return upgrade_batches(props) * upgrade_batch_seconds(figure, props)


def cluster_upgrade_seconds(figure: Figure, pools: Iterable[dict[str, Any]]) -> float:
    """Control plane first, then each pool in turn."""
    return figure("aks/controlPlane:upgrade") + sum(pool_upgrade_seconds(figure, p) for p in pools)


def stop_start_seconds(figure: Figure, action: str, pools: Iterable[dict[str, Any]]) -> float:
    """A cluster stop (`action` "stop") or start ("start"): the control plane's figure plus, for a start, the slowest
    pool coming back (a scale from 0 to its count), for a stop the pools deallocating in parallel. For one pool's
    stop/start pass just that pool and use `pool_stop_start_seconds`."""
    pools = list(pools)
    if action == "stop":
        return figure("aks/controlPlane:stop") + (figure("aks/pool:stop") if pools else 0.0)
    return figure("aks/controlPlane:start") + max((pool_stop_start_seconds(figure, "start", p) for p in pools),
                                                  default=0.0)


def pool_stop_start_seconds(figure: Figure, action: str, props: dict[str, Any]) -> float:
    """One pool stopped (its nodes deallocated) or started (scaled from 0 back to its count)."""
    if action == "stop":
        return figure("aks/pool:stop")
    return scale_seconds(figure, 0, int(props.get("count") or 0))
