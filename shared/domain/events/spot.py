"""Spot evictions, the two ways aksvend hears of them; both get the on-demand fallback (fallback.py).

- `SpotPreempted`: Health Resources `ResourceAnnotated` with `annotationName: VirtualMachinePreempted` on a VMSS
  instance. It names the subscription, the node resource group, the scale set and the instance; the pool comes from
  the scale set name `aks-<pool>-<digits>-vmss`. The cluster is found by (subscription, node resource group).
  Other annotations, a plain VM, or a scale set not named like an AKS pool are `Unknown`.
- `PreemptNotice` (`aksvend.node.preemptNotice`, custom): the in-cluster agent saw IMDS announce a `Preempt`,
  ~30 s before the eviction. It names the cluster (`data.clusterId`), the pool and the node.
A notice and the later eviction of the same node count once (the node name is the same).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain import armid
from shared.domain.events.envelope import Envelope, parse_time
from shared.domain.events.fallback import eviction_source, on_eviction
from shared.domain.events.kind import EventKind, Keyed, NamesItsCluster, Unknown, addressed_fields
from shared.domain.events.model import ClusterView, Decision, PastReaction
from shared.domain.events.senders import AGENT, AZURE
from shared.domain.events.target import ByNodeGroup
from shared.domain.operation_source import OperationSource

RESOURCE_ANNOTATED = "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated"
PREEMPTED_ANNOTATION = "VirtualMachinePreempted"
PREEMPT_NOTICE = "aksvend.node.preemptNotice"
_AKS_VMSS = re.compile(r"^aks-([a-z][a-z0-9]{0,11})-([0-9]+)-vmss\Z")
_DIGITS = re.compile(r"^[0-9]{1,18}\Z")
_NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\Z")


@dataclass(frozen=True, slots=True)
class SpotPreempted(Keyed):
    """A spot VM of an AKS pool was evicted (Health Resources `ResourceAnnotated`, `VirtualMachinePreempted`)."""

    envelope: Envelope
    subscription_id: str
    node_resource_group: str
    vmss_name: str
    instance_id: str
    pool: str
    occurred: datetime | None = None

    @property
    def node(self) -> str:
        return node_name(self.vmss_name, self.instance_id)

    @property
    def target(self) -> ByNodeGroup:
        return ByNodeGroup(self.subscription_id, self.node_resource_group)


@dataclass(frozen=True, slots=True)
class PreemptNotice(NamesItsCluster):
    """The in-cluster agent saw IMDS announce a `Preempt` (~30 s before the eviction)."""

    envelope: Envelope
    cluster_id: str
    pool: str
    node: str


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


def read_annotated(envelope: Envelope) -> SpotPreempted | Unknown:
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


def from_subscription_topic(envelope: Envelope) -> str | None:
    """A Health Resources annotation comes from the Health Resources system topic of the subscription the annotated
    resource is in: Event Grid schema (whose `topic` Event Grid sets), topic `/subscriptions/<that subscription>`."""
    data = envelope.data if isinstance(envelope.data, dict) else {}
    info = data.get("resourceInfo")
    props = info.get("properties") if isinstance(info, dict) else None
    target = props.get("targetResourceId") if isinstance(props, dict) else None
    parsed = armid.parse(target) if isinstance(target, str) else None
    if envelope.schema != "eventgrid":
        return "a Health Resources event is accepted in the Event Grid schema only, whose topic Event Grid sets"
    if parsed is None or envelope.source.lower() != f"/subscriptions/{parsed.subscription_id}".lower():
        return (f"the topic '{envelope.source[:300]}' is not the subscription of the annotated resource: a Health "
                "Resources event comes from that subscription's system topic")
    return None


def read_notice(envelope: Envelope) -> PreemptNotice | Unknown:
    fields = addressed_fields(envelope)
    if isinstance(fields, Unknown):
        return fields
    data, cluster, pool = fields
    node = data.get("node")
    if not isinstance(node, str) or not _NODE_NAME.match(node):
        return Unknown(envelope, f"{PREEMPT_NOTICE}: data.node must be a Kubernetes node name")
    return PreemptNotice(envelope, cluster, pool, node)


def on_evicted(event: SpotPreempted, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    return on_eviction(view, history, now, key=event.key, pool=event.pool, node=event.node,
                       what=f"spot VM {event.vmss_name}/{event.instance_id} evicted")


def on_notice(event: PreemptNotice, view: ClusterView, history: Sequence[PastReaction], now: datetime) -> Decision:
    return on_eviction(view, history, now, key=event.key, pool=event.pool, node=event.node,
                       what=f"preempt notice for node {event.node}")


def _source(event: SpotPreempted | PreemptNotice) -> OperationSource:
    return eviction_source(event.pool)


EVICTED = EventKind[SpotPreempted](types=(RESOURCE_ANNOTATED,), interpret=read_annotated, react=on_evicted,
                                   source=_source, senders=AZURE, origin=from_subscription_topic)
NOTICE = EventKind[PreemptNotice](types=(PREEMPT_NOTICE,), interpret=read_notice, react=on_notice, source=_source,
                                  senders=AGENT)
