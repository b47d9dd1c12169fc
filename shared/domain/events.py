"""The events aksvend reacts to, as typed domain objects: `interpret(envelope)` never raises.

Parsing the envelope (both schemas, limits, handshakes) lives in `events_envelope` and is re-exported here.
An event that cannot be read as one of the typed kinds, including a known type with data missing or of the
wrong type, becomes `Unknown` with the reason: it is recorded and acknowledged, never retried.

Clusters: an AKS system event's topic is the cluster's ARM id; `cluster_id` is None when it is not one
(the published samples carry placeholders such as `{cluster}` or miss the `/` after `resourceGroups`), and
the service then records the event as for an unknown cluster. A spot eviction names a VMSS instance in the
node resource group; the registry maps (node resource group, pool) back to the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.domain import armid
from shared.domain.events_envelope import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_BATCH,
    Batch,
    Envelope,
    Inbound,
    Problem,
    SubscriptionValidation,
    WebHookHandshake,
    parse_cloudevents,
    parse_eventgrid_batch,
    parse_time,
    parse_webhook_handshake,
)

__all__ = [
    "MAX_EVENTS_PER_BATCH", "MAX_EVENT_BYTES", "AksEventKind", "AksSystemEvent", "Batch", "DomainEvent", "Envelope",
    "Inbound", "KubernetesVersions", "PoolPressure", "PreemptNotice", "Problem", "SpotPreempted",
    "SubscriptionValidation", "Unknown", "WebHookHandshake", "interpret", "node_name", "parse_cloudevents",
    "parse_eventgrid_batch", "parse_webhook_handshake", "pool_of_vmss",
]

AKS_PREFIX = "Microsoft.ContainerService."
RESOURCE_ANNOTATED = "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated"
PREEMPTED_ANNOTATION = "VirtualMachinePreempted"
PREEMPT_NOTICE = "aksvend.node.preemptNotice"
POOL_PRESSURE = "aksvend.pool.pressure"
MAX_PENDING_PODS = 100_000

AksEventKind = Literal["NewKubernetesVersionAvailable", "ClusterSupportEnding", "ClusterSupportEnded",
                       "NodePoolRollingStarted", "NodePoolRollingSucceeded", "NodePoolRollingFailed"]
_AKS_KINDS: tuple[AksEventKind, ...] = ("NewKubernetesVersionAvailable", "ClusterSupportEnding",
                                        "ClusterSupportEnded", "NodePoolRollingStarted",
                                        "NodePoolRollingSucceeded", "NodePoolRollingFailed")
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_AKS_VMSS = re.compile(r"^aks-([a-z][a-z0-9]{0,11})-([0-9]+)-vmss$")
_DIGITS = re.compile(r"^[0-9]{1,18}$")
_NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class KubernetesVersions:
    """NewKubernetesVersionAvailable's data (any may be missing)."""

    latest_supported: str | None = None
    latest_stable: str | None = None
    lowest_minor: str | None = None
    latest_preview: str | None = None


@dataclass(frozen=True, slots=True)
class AksSystemEvent:
    envelope: Envelope
    kind: AksEventKind
    cluster_id: str | None
    versions: KubernetesVersions | None = None  # NewKubernetesVersionAvailable
    kubernetes_version: str | None = None  # ClusterSupportEnding / Ended
    node_pool: str | None = None  # NodePoolRolling*

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key


@dataclass(frozen=True, slots=True)
class SpotPreempted:
    """A spot VM of an AKS pool was evicted (Health Resources `ResourceAnnotated`, `VirtualMachinePreempted`)."""

    envelope: Envelope
    subscription_id: str
    node_resource_group: str
    vmss_name: str
    instance_id: str
    pool: str
    occurred: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key

    @property
    def node(self) -> str:
        return node_name(self.vmss_name, self.instance_id)


@dataclass(frozen=True, slots=True)
class PreemptNotice:
    """The in-cluster agent saw IMDS announce a `Preempt` (~30 s before the eviction)."""

    envelope: Envelope
    cluster_id: str
    pool: str
    node: str

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key


@dataclass(frozen=True, slots=True)
class PoolPressure:
    """The in-cluster agent saw pods that the pool could not place."""

    envelope: Envelope
    cluster_id: str
    pool: str
    pending_pods: int

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key


@dataclass(frozen=True, slots=True)
class Unknown:
    envelope: Envelope
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        return self.envelope.dedupe_key


DomainEvent = AksSystemEvent | SpotPreempted | PreemptNotice | PoolPressure | Unknown


def interpret(envelope: Envelope) -> DomainEvent:
    """The typed reading of an event, or Unknown with the reason."""
    kind = envelope.type
    if kind.startswith(AKS_PREFIX) and kind[len(AKS_PREFIX):] in _AKS_KINDS:
        return _aks(envelope, kind[len(AKS_PREFIX):])  # type: ignore[arg-type]
    if kind == RESOURCE_ANNOTATED:
        return _annotated(envelope)
    if kind == PREEMPT_NOTICE:
        return _preempt_notice(envelope)
    if kind == POOL_PRESSURE:
        return _pool_pressure(envelope)
    return Unknown(envelope, f"event type '{kind[:200]}' is not one aksvend reacts to")


def cluster_id_of(value: Any) -> str | None:
    """The value when it is a managed cluster's ARM id, else None."""
    parsed = armid.parse(value) if isinstance(value, str) else None
    if parsed is None or parsed.resource_group is None:
        return None
    if parsed.resource_type.lower() != "microsoft.containerservice/managedclusters":
        return None
    return str(parsed)


def pool_of_vmss(vmss_name: str) -> str | None:
    """`aks-<pool>-<digits>-vmss` -> `<pool>`; None for any other scale set."""
    match = _AKS_VMSS.match(vmss_name.lower())
    return match.group(1) if match else None


def node_name(vmss_name: str, instance_id: str) -> str:
    """The Kubernetes node name AKS gives a VMSS instance: the scale set name, then the instance id in base 36
    padded to 6 characters (instance 3 of aks-batch-123-vmss is aks-batch-123-vmss000003)."""
    n, digits = int(instance_id), ""
    while True:
        n, r = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
        if n == 0:
            break
    return f"{vmss_name.lower()}{digits.rjust(6, '0')}"


def _aks(envelope: Envelope, kind: AksEventKind) -> DomainEvent:
    data = envelope.data if isinstance(envelope.data, dict) else {}
    cluster = cluster_id_of(envelope.source)
    if kind == "NewKubernetesVersionAvailable":
        fields = ("latestSupportedKubernetesVersion", "latestStableKubernetesVersion",
                  "lowestMinorKubernetesVersion", "latestPreviewKubernetesVersion")
        values = [data.get(f) if isinstance(data.get(f), str) else None for f in fields]
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


def _annotated(envelope: Envelope) -> DomainEvent:
    data = envelope.data if isinstance(envelope.data, dict) else {}
    info = data.get("resourceInfo")
    props = info.get("properties") if isinstance(info, dict) else None
    if not isinstance(props, dict):
        return Unknown(envelope, "ResourceAnnotated without data.resourceInfo.properties")
    annotation = props.get("annotationName")
    if annotation != PREEMPTED_ANNOTATION:
        return Unknown(envelope, f"annotation '{str(annotation)[:100]}' is not a spot eviction")
    target = props.get("targetResourceId")
    parsed = armid.parse(target) if isinstance(target, str) else None
    if (parsed is None or parsed.resource_group is None or parsed.namespace is None
            or parsed.namespace.lower() != "microsoft.compute"
            or tuple(t.lower() for t in parsed.types) != ("virtualmachinescalesets", "virtualmachines")
            or not _DIGITS.match(parsed.names[1])):
        return Unknown(envelope, f"preempted resource '{str(target)[:300]}' is not a VMSS instance")
    vmss, instance = parsed.names
    pool = pool_of_vmss(vmss)
    if pool is None:
        return Unknown(envelope, f"scale set '{vmss}' is not named like an AKS pool (aks-<pool>-<digits>-vmss)")
    occurred = props.get("occurredTime")
    return SpotPreempted(envelope, parsed.subscription_id, parsed.resource_group, vmss.lower(), instance, pool,
                         parse_time(occurred) if isinstance(occurred, str) else None)


def _custom_fields(envelope: Envelope) -> tuple[dict[str, Any], str | None, str | None]:
    """(data, cluster id, pool) of a custom event; None for a cluster id or pool that is not valid."""
    data = envelope.data if isinstance(envelope.data, dict) else {}
    cluster = cluster_id_of(data.get("clusterId"))
    pool = data.get("pool")
    return data, cluster, pool if isinstance(pool, str) and _POOL_NAME.match(pool) else None


def _preempt_notice(envelope: Envelope) -> DomainEvent:
    data, cluster, pool = _custom_fields(envelope)
    node = data.get("node")
    if cluster is None:
        return Unknown(envelope, f"{PREEMPT_NOTICE}: data.clusterId must be a managed cluster's ARM id")
    if pool is None:
        return Unknown(envelope, f"{PREEMPT_NOTICE}: data.pool must be a pool name (^[a-z][a-z0-9]{{0,11}}$)")
    if not isinstance(node, str) or not _NODE_NAME.match(node):
        return Unknown(envelope, f"{PREEMPT_NOTICE}: data.node must be a Kubernetes node name")
    return PreemptNotice(envelope, cluster, pool, node)


def _pool_pressure(envelope: Envelope) -> DomainEvent:
    data, cluster, pool = _custom_fields(envelope)
    pending = data.get("pendingPods")
    if cluster is None:
        return Unknown(envelope, f"{POOL_PRESSURE}: data.clusterId must be a managed cluster's ARM id")
    if pool is None:
        return Unknown(envelope, f"{POOL_PRESSURE}: data.pool must be a pool name (^[a-z][a-z0-9]{{0,11}}$)")
    if isinstance(pending, bool) or not isinstance(pending, int) or not 0 <= pending <= MAX_PENDING_PODS:
        return Unknown(envelope, f"{POOL_PRESSURE}: data.pendingPods must be an integer 0-{MAX_PENDING_PODS}")
    return PoolPressure(envelope, cluster, pool, pending)
