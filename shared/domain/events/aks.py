"""AKS system events (`Microsoft.ContainerService.*`): how they are read, and the reaction to those that only
inform. `NewKubernetesVersionAvailable` is read here too; its reaction (an upgrade) is upgrade.py.

The cluster of an AKS system event is its topic, the cluster's ARM id. `cluster_id` is None when the topic is not
one (the published samples carry placeholders such as `{cluster}` or miss the `/` after `resourceGroups`): the
event is then recorded as about an unknown cluster. A known type whose data misses what aksvend reads is `Unknown`.

Reaction: `ClusterSupportEnding` / `ClusterSupportEnded` / `NodePoolRollingFailed` get no action and an outbound
notice; `NodePoolRollingStarted` / `Succeeded` are informational.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from shared.domain.events.envelope import Envelope
from shared.domain.events.kind import EventKind, NamesItsCluster, Unknown
from shared.domain.events.model import ClusterView, Decision, Notice, PastReaction, nothing
from shared.domain.events.senders import AZURE
from shared.domain.events.target import cluster_id_of
from shared.domain.operation_source import OperationSource

AKS_PREFIX = "Microsoft.ContainerService."
SUPPORT_ENDING = "aksvend.cluster.supportEnding"
SUPPORT_ENDED = "aksvend.cluster.supportEnded"
ROLLING_FAILED = "aksvend.pool.rollingFailed"

AksEventKind = Literal["NewKubernetesVersionAvailable", "ClusterSupportEnding", "ClusterSupportEnded",
                       "NodePoolRollingStarted", "NodePoolRollingSucceeded", "NodePoolRollingFailed"]
_VERSION_FIELDS = ("latestSupportedKubernetesVersion", "latestStableKubernetesVersion",
                   "lowestMinorKubernetesVersion", "latestPreviewKubernetesVersion")


@dataclass(frozen=True, slots=True)
class KubernetesVersions:
    """NewKubernetesVersionAvailable's data (any may be missing)."""

    latest_supported: str | None = None
    latest_stable: str | None = None
    lowest_minor: str | None = None
    latest_preview: str | None = None


@dataclass(frozen=True, slots=True)
class AksSystemEvent(NamesItsCluster):
    envelope: Envelope
    kind: AksEventKind
    cluster_id: str | None
    versions: KubernetesVersions | None = None  # NewKubernetesVersionAvailable
    kubernetes_version: str | None = None  # ClusterSupportEnding / Ended
    node_pool: str | None = None  # NodePoolRolling*


def read(envelope: Envelope) -> AksSystemEvent | Unknown:
    """The typed reading of an AKS system event (the registry hands only `Microsoft.ContainerService.*` types)."""
    kind = cast(AksEventKind, envelope.type.removeprefix(AKS_PREFIX))
    data = envelope.data if isinstance(envelope.data, dict) else {}
    cluster = cluster_id_of(envelope.source)
    if kind == "NewKubernetesVersionAvailable":
        values = [data.get(f) if isinstance(data.get(f), str) else None for f in _VERSION_FIELDS]
        if not any(values):
            return Unknown(envelope, f"{kind} without any version in data")
        return AksSystemEvent(envelope, kind, cluster, versions=KubernetesVersions(*values))
    if kind in ("ClusterSupportEnding", "ClusterSupportEnded"):
        version = data.get("kubernetesVersion")
        if not isinstance(version, str) or not version:
            return Unknown(envelope, f"{kind} without data.kubernetesVersion")
        return AksSystemEvent(envelope, kind, cluster, kubernetes_version=version)
    pool = data.get("nodePoolName")
    if not isinstance(pool, str) or not pool:
        return Unknown(envelope, f"{kind} without data.nodePoolName")
    return AksSystemEvent(envelope, kind, cluster, node_pool=pool)


def from_cluster_topic(envelope: Envelope) -> str | None:
    """An AKS event comes from its cluster's system topic: in the Event Grid schema, whose `topic` Event Grid sets
    (a custom topic's events carry the custom topic's id there), and that topic must be a managed cluster's ARM id.
    A CloudEvents `source` is not accepted: a custom CloudEvents topic lets its publisher write any source."""
    if envelope.schema != "eventgrid":
        return "an AKS event is accepted in the Event Grid schema only, whose topic Event Grid sets"
    if cluster_id_of(envelope.source) is None:
        return (f"the topic '{envelope.source[:300]}' is not a managed cluster's ARM id: an AKS event comes from "
                "its cluster's own system topic")
    return None


def on_notice(event: AksSystemEvent, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    if event.kind == "ClusterSupportEnding":
        message = (f"support for Kubernetes {event.kubernetes_version} is ending on {view.cluster_id}; upgrade "
                   "to a supported minor")
        return nothing(message, notices=[Notice(SUPPORT_ENDING, message)])
    if event.kind == "ClusterSupportEnded":
        message = f"support for Kubernetes {event.kubernetes_version} has ended on {view.cluster_id}"
        return nothing(message, notices=[Notice(SUPPORT_ENDED, message)])
    if event.kind == "NodePoolRollingFailed":
        message = f"rolling upgrade of pool '{event.node_pool}' failed on {view.cluster_id}"
        return nothing(message, notices=[Notice(ROLLING_FAILED, message)])
    return nothing(f"{event.kind} on pool '{event.node_pool}': informational")


def _no_operation(event: AksSystemEvent) -> OperationSource:
    return OperationSource.reaction("notice")  # notices never become operations; named for completeness


NOTICES = EventKind[AksSystemEvent](
    types=tuple(AKS_PREFIX + kind for kind in ("ClusterSupportEnding", "ClusterSupportEnded", "NodePoolRollingStarted",
                                               "NodePoolRollingSucceeded", "NodePoolRollingFailed")),
    interpret=read, react=on_notice, source=_no_operation, senders=AZURE, origin=from_cluster_topic)
