"""Rolling upgrades as AKS runs them: the control plane first, then each pool in turn, batch by batch.

A cluster PUT that moves `kubernetesVersion` upgrades the control plane; the pools it names with a new
`orchestratorVersion` (what `az aks upgrade` sends for every pool; without `--control-plane-only`) follow one after
another. A cluster PUT that names no pool version upgrades the control plane only (AKS since 2022: "An empty or
partial PUT ... without any agent pool specified will no longer upgrade all the agent pools", Azure/AKS#2889). An
agentPools PUT with a new `orchestratorVersion` upgrades that pool alone.

Each upgrade is an operation in stages (lro.py): `controlPlane`, then `pool:<name> batch i/n` per batch of
`maxSurge` nodes (workmodel.py). The versions shown change when their stage ends, not when the PUT is accepted:
`currentKubernetesVersion` when the control plane's stage ends (pools still show their old
`currentOrchestratorVersion` meanwhile), a pool's `currentOrchestratorVersion` when its last batch ends. The stages'
seconds are the operation's planned duration, so the latency model and the stages never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..lro import Effect
from ..store import Resource
from ..versions import VersionTable
from ..workmodel import Figure, upgrade_batch_seconds, upgrade_batches

Stages = list[tuple[str, float, Effect]]


def target(versions: VersionTable, wanted: Any, current: Any) -> str | None:
    """The version a PUT moves something to, or None when it stays where it is (an alias of its own minor, the
    same version, or nothing known to move from)."""
    if not wanted or not current:
        return None
    moved = versions.running(str(wanted), str(current))
    return moved if moved != current else None


def pool_moves(versions: VersionTable, props: dict[str, Any], current: Any) -> bool:
    return target(versions, props.get("orchestratorVersion"), current) is not None


def _set(props: dict[str, Any], key: str, value: str) -> Effect:
    return lambda: props.__setitem__(key, value)


def pool_stages(figure: Figure, versions: VersionTable, pool: Resource) -> Stages:
    """One stage per batch of maxSurge nodes; the last one moves `currentOrchestratorVersion`."""
    props = pool.properties
    moved = target(versions, props.get("orchestratorVersion"), props.get("currentOrchestratorVersion"))
    if moved is None:
        return []
    n = upgrade_batches(props)
    seconds = upgrade_batch_seconds(figure, props) if n else 0.0
    n = max(1, n)  # a stopped pool (count 0) still moves its version, in one stage of no nodes
    done = _set(props, "currentOrchestratorVersion", moved)
    return [(f"pool:{pool.name} batch {i}/{n}", seconds, done if i == n else None) for i in range(1, n + 1)]


def cluster_stages(figure: Figure, versions: VersionTable, cluster: Resource, pools: Iterable[Resource]) -> Stages:
    """The control plane (if its version moves), then each pool that moves, in order."""
    props = cluster.properties
    stages: Stages = []
    moved = target(versions, props.get("kubernetesVersion"), props.get("currentKubernetesVersion"))
    if moved is not None:
        stages.append(("controlPlane", figure("aks/controlPlane:upgrade"),
                       _set(props, "currentKubernetesVersion", moved)))
    for pool in pools:
        stages += pool_stages(figure, versions, pool)
    return stages
