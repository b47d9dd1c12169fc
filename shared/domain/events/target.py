"""Which managed cluster an event is about, the way the event names it: by the cluster's ARM id (AKS system events:
the topic; custom events: `data.clusterId`), by its node resource group (a spot eviction names a VM in
`MC_<rg>_<cluster>_<location>`), or not at all (an event aksvend cannot read).

Each typed event answers `target`; the service finds the cluster with `index_key` in an index built with
`index_keys`, and the policy checks with `foreign` that a decision is about the cluster it was given. Neither
needs to know which kind of event it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.domain import armid
from shared.domain.events.model import ClusterView

IndexKey = tuple[str, ...]
_BY_ID = "id"
_BY_NODE_GROUP = "node-group"


class ClusterTarget(Protocol):
    @property
    def index_key(self) -> IndexKey | None:
        """The key of the cluster in an index of managed clusters; None when the event names no cluster."""

    def unmanaged(self) -> str:
        """Why the event is recorded without reacting, when no managed cluster has that key."""

    def foreign(self, view: ClusterView) -> str | None:
        """Why the event is not about the cluster of `view`, or None when it is."""


def index_keys(cluster_id: str, subscription_id: str, node_resource_group: str) -> tuple[IndexKey, IndexKey]:
    """The keys a managed cluster is found under (ARM ids compare case-insensitively)."""
    return (_BY_ID, armid.key(cluster_id)), (_BY_NODE_GROUP, subscription_id.lower(), node_resource_group.lower())


def cluster_id_of(value: Any) -> str | None:
    """The value when it is a managed cluster's ARM id, else None."""
    parsed = armid.parse(value) if isinstance(value, str) else None
    if parsed is None or parsed.resource_group is None:
        return None
    if parsed.resource_type.lower() != "microsoft.containerservice/managedclusters":
        return None
    return str(parsed)


@dataclass(frozen=True, slots=True)
class ByClusterId:
    cluster_id: str | None  # None: the event's topic (or data.clusterId) is not a managed cluster id
    topic: str  # the event's topic or source, named in the reason when there is no cluster id

    @property
    def index_key(self) -> IndexKey | None:
        return (_BY_ID, armid.key(self.cluster_id)) if self.cluster_id is not None else None

    def unmanaged(self) -> str:
        return self._unknown() or f"cluster {self.cluster_id} is not managed by aksvend"

    def foreign(self, view: ClusterView) -> str | None:
        if self.cluster_id is None:
            return self._unknown()
        if armid.key(self.cluster_id) != armid.key(view.cluster_id):
            return f"the event is about cluster {self.cluster_id}, not {view.cluster_id}"
        return None

    def _unknown(self) -> str | None:
        if self.cluster_id is not None:
            return None
        return f"the topic '{self.topic[:300]}' is not a managed cluster id (unknown cluster)"


@dataclass(frozen=True, slots=True)
class ByNodeGroup:
    subscription_id: str
    node_resource_group: str

    @property
    def index_key(self) -> IndexKey:
        return (_BY_NODE_GROUP, self.subscription_id.lower(), self.node_resource_group.lower())

    def unmanaged(self) -> str:
        return (f"no managed cluster has node resource group '{self.node_resource_group}' in subscription "
                f"{self.subscription_id}")

    def foreign(self, view: ClusterView) -> str | None:
        cluster = armid.parse(view.cluster_id)
        same_sub = cluster is None or cluster.subscription_id.lower() == self.subscription_id.lower()
        if not same_sub or self.node_resource_group.lower() != view.node_resource_group.lower():
            return (f"the evicted VM is in node resource group '{self.node_resource_group}', not this cluster's "
                    f"'{view.node_resource_group}'")
        return None


@dataclass(frozen=True, slots=True)
class NoCluster:
    """An event that names no cluster (it could not be read): recorded with the reason, never reacted to."""

    reason: str

    @property
    def index_key(self) -> None:
        return None

    def unmanaged(self) -> str:
        return self.reason

    def foreign(self, view: ClusterView) -> str:
        return self.reason
