"""Drift: how a cluster as ARM reports it differs from the request aksvend was asked for, field by field; which
operations would repair it; and when each cluster is due for its next check. Pure: the service
(shared/services/drift.py) reads ARM, the registry and the clock, and acts.

What is compared (docs/drift.md), from one GET of the managed cluster (its `agentPoolProfiles` carry every pool):

* the cluster itself: gone from ARM is drift `cluster` (reported, never re-created);
* the control plane's Kubernetes version (`currentKubernetesVersion`) and the network profile (the keys aksvend
  sends: plugin, mode, service and pod CIDRs, DNS IP, load balancer and outbound type);
* the pool set: a requested pool missing in ARM, a pool in ARM that no one asked aksvend for;
* per pool: the count (only of running pools outside autoscale: the autoscaler moves the others, and a pool stopped
  through `POST .../pools/{pool}/stop` has none), the autoscale bounds, the
  VM size, the version, the taints and the labels.

What AKS sets itself is ignored: labels and taints under `kubernetes.azure.com/` (the spot ones), every property
aksvend does not send, and versions the cluster's `autoUpgrade` channel lets AKS move to (a newer patch under
`patch`, anything newer under `stable` and `rapid`). A version is compared at the precision the request gives it:
"1.33" is met by 1.33.5.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.domain import arm
from shared.domain.request import ClusterRequest, Pool

AKS_PREFIX = "kubernetes.azure.com/"
RepairKind = Literal["put-pool", "upgrade"]
PUT_POOL: RepairKind = "put-pool"
UPGRADE: RepairKind = "upgrade"
# pool properties compared besides count, autoscale and version; AKS refuses to change a pool's VM size in place
_REPAIRABLE_POOL_FIELDS = ("count", "autoscale", "nodeTaints", "nodeLabels", "pool")


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference: `field` of the cluster (`pool` None) or of pool `pool`, as asked and as ARM has it.
    `repair`: the operation that would restore it, or None when aksvend only reports it (docs/drift.md)."""

    field: str
    desired: Any
    observed: Any
    pool: str | None = None
    repair: RepairKind | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pool": self.pool, "field": self.field, "desired": self.desired, "observed": self.observed,
                "repairable": self.repair is not None}


def compare(request: ClusterRequest, observed: Mapping[str, Any] | None) -> tuple[Drift, ...]:
    """Every difference between `request` and the managed cluster ARM returned (None: ARM has no such cluster)."""
    if observed is None:
        return (Drift("cluster", "present", "absent"),)
    props = _mapping(observed.get("properties"))
    drifts: list[Drift] = []
    channel = request.reactions.auto_upgrade
    current = props.get("currentKubernetesVersion") or props.get("kubernetesVersion")
    if (where := version_drift(request.kubernetes_version, current, channel)) is not None:
        drifts.append(Drift("kubernetesVersion", request.kubernetes_version, current,
                            repair=UPGRADE if where == "behind" else None))
    network = _mapping(props.get("networkProfile"))
    for key, value in arm.managed_cluster_body(request)["properties"]["networkProfile"].items():
        if not _same(value, network.get(key)):
            drifts.append(Drift(f"networkProfile.{key}", value, network.get(key)))
    profiles = {str(p.get("name")): p for p in props.get("agentPoolProfiles") or () if isinstance(p, Mapping)}
    for i, pool in enumerate(request.pools):
        found = profiles.pop(pool.name, None)
        if found is None:
            drifts.append(Drift("pool", "present", "absent", pool.name, PUT_POOL))
        else:
            drifts.extend(_pool_drift(request, pool, found, system=i == 0))
    drifts.extend(Drift("pool", "absent", "present", name) for name in sorted(profiles))
    return tuple(drifts)


def _pool_drift(request: ClusterRequest, pool: Pool, observed: Mapping[str, Any], *, system: bool) -> list[Drift]:
    desired = arm.agent_pool_properties(request, pool, system=system)
    out: list[Drift] = []

    def differs(name: str, want: Any, have: Any) -> None:
        if not _same(want, have):
            out.append(Drift(name, want, have, pool.name, PUT_POOL if name in _REPAIRABLE_POOL_FIELDS else None))

    if pool.autoscale is None and (observed.get("powerState") or {}).get("code") != "Stopped":  # stopped: 0 nodes
        differs("count", pool.count, observed.get("count"))
    differs("autoscale", _autoscale(desired), _autoscale(observed))
    differs("vmSize", desired["vmSize"], observed.get("vmSize"))
    version = observed.get("currentOrchestratorVersion") or observed.get("orchestratorVersion")
    if (where := version_drift(request.kubernetes_version, version, request.reactions.auto_upgrade)) is not None:
        out.append(Drift("orchestratorVersion", request.kubernetes_version, version, pool.name,
                         PUT_POOL if where == "behind" else None))
    differs("nodeTaints", sorted(_own(desired.get("nodeTaints") or ())),
            sorted(_own(observed.get("nodeTaints") or ())))
    differs("nodeLabels", _own_labels(desired.get("nodeLabels")), _own_labels(observed.get("nodeLabels")))
    return out


def version_drift(desired: str, observed: Any, channel: str) -> Literal["behind", "ahead"] | None:
    """Whether `observed` is behind `desired` (at the precision `desired` is written in) or ahead of it further
    than the auto-upgrade `channel` lets AKS go; None when it meets the request. An unreadable version is drift."""
    want, have = _parts(desired), _parts(observed)
    if want is None or have is None:
        return "behind" if want != have else None
    cut = have[:len(want)]
    if cut < want:
        return "behind"
    if cut == want:
        return None
    allowed = channel in ("stable", "rapid") or (channel == "patch" and have[:2] == want[:2])
    return None if allowed else "ahead"


def repairs(drifts: Iterable[Drift]) -> list[tuple[RepairKind, str | None]]:
    """The operations that restore the repairable drift, in order: the control plane's upgrade first (it rolls
    every pool too), then one put-pool per drifted pool. Nothing for a cluster gone from ARM."""
    wanted: set[tuple[RepairKind, str | None]] = {
        (d.repair, d.pool if d.repair == PUT_POOL else None) for d in drifts if d.repair is not None}
    return sorted(wanted, key=lambda r: (r[0] != UPGRADE, r[1] or ""))


def digest(drifts: Sequence[Drift]) -> str:
    """A short fingerprint of a set of drift: a new event only when it changes."""
    text = json.dumps([d.to_dict() for d in drifts], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# ---- when each cluster is due -----------------------------------------------------------------------------------
def offset(key: str, interval: timedelta) -> timedelta:
    """The cluster's stable place within the interval (a hash of its key), so that checks spread evenly over it and
    every instance agrees on it."""
    seconds = max(1, int(interval.total_seconds()))
    return timedelta(seconds=int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % seconds)


def slot(key: str, now: datetime, interval: timedelta) -> datetime:
    """The cluster's latest check time at or before `now`: its offset plus a whole number of intervals."""
    interval = max(interval, timedelta(seconds=1))
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    since = now - epoch - offset(key, interval)
    return now - since % interval


def due(last: Mapping[str, datetime], now: datetime, interval: timedelta, limit: int) -> list[str]:
    """The clusters not checked since their latest slot (`last`: key -> the last check, else when the cluster
    settled), the longest waiting first, at most `limit` of them: the rest are due on the next run."""
    waiting = [(slot(key, now, interval), key) for key, at in last.items() if at < slot(key, now, interval)]
    return [key for _, key in sorted(waiting)[:limit]]


# ---- helpers ----------------------------------------------------------------------------------------------------
def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, str) and isinstance(have, str):
        return want.lower() == have.lower()
    return bool(want == have)


def _autoscale(props: Mapping[str, Any]) -> dict[str, Any] | None:
    if not props.get("enableAutoScaling"):
        return None
    return {"min": props.get("minCount"), "max": props.get("maxCount")}


def _own(items: Iterable[Any]) -> list[str]:
    return [str(t) for t in items if not str(t).startswith(AKS_PREFIX)]


def _own_labels(labels: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(labels).items() if not str(k).startswith(AKS_PREFIX)}


def _parts(version: Any) -> tuple[int, ...] | None:
    if not isinstance(version, str):
        return None
    try:
        return tuple(int(p) for p in version.strip().split("."))
    except ValueError:
        return None
