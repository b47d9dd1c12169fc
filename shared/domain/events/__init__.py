"""Inbound events, pure: envelopes of both schemas (envelope.py), the kinds of event aksvend reads and its reaction to
each (one module per kind: aks.py, upgrade.py, spot.py with fallback.py, pressure.py), and the registry that maps
an event's type to its kind (registry.py). docs/events.md describes them; docs/architecture.md says how to add one.

`interpret(envelope)` never raises: an event that cannot be read as one of the typed kinds, including a known type
with data missing or of the wrong type, becomes `Unknown` with the reason (recorded and acknowledged, never
retried). `react(event, cluster, history, now)` and `sweep_all(cluster, history, now)` (the fallbacks' `sweep` and
the pressure raises' `decay`) are the reaction policy, within the bounds of bounds.py.
"""

from shared.domain.events.aks import AksEventKind, AksSystemEvent, KubernetesVersions
from shared.domain.events.bounds import REFUSED, acted
from shared.domain.events.decay import decay, sweep_all, sweep_source
from shared.domain.events.envelope import (
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
from shared.domain.events.fallback import FALLBACK_LABEL, fallback_pool, fallback_pool_name, scale_down_source, sweep
from shared.domain.events.kind import DomainEvent, EventKind, Unknown
from shared.domain.events.model import (
    Action,
    ClusterView,
    CreatePool,
    Decision,
    NoAction,
    Notice,
    PastReaction,
    PoolState,
    ScalePool,
    UpgradeCluster,
    default_node_resource_group,
    history_key,
)
from shared.domain.events.pressure import PENDING_PODS_PER_NODE, PoolPressure, raised_pools, scales_on_pressure
from shared.domain.events.registry import REGISTRY, KindRegistry, interpret, react
from shared.domain.events.spot import PreemptNotice, SpotPreempted, node_name, pool_of_vmss
from shared.domain.events.target import ClusterTarget, index_keys

__all__ = [
    "FALLBACK_LABEL", "MAX_EVENTS_PER_BATCH", "MAX_EVENT_BYTES", "PENDING_PODS_PER_NODE", "REFUSED", "REGISTRY",
    "Action", "AksEventKind", "AksSystemEvent", "Batch", "ClusterTarget", "ClusterView", "CreatePool", "Decision",
    "DomainEvent", "Envelope", "EventKind", "Inbound", "KindRegistry", "KubernetesVersions", "NoAction", "Notice",
    "PastReaction", "PoolPressure", "PoolState", "PreemptNotice", "Problem", "ScalePool", "SpotPreempted",
    "SubscriptionValidation", "Unknown", "UpgradeCluster", "WebHookHandshake", "acted", "decay",
    "default_node_resource_group", "fallback_pool", "fallback_pool_name", "history_key", "index_keys", "interpret",
    "node_name",
    "parse_cloudevents", "parse_eventgrid_batch", "parse_time", "parse_webhook_handshake", "pool_of_vmss",
    "raised_pools", "react", "scale_down_source", "scales_on_pressure", "sweep", "sweep_all", "sweep_source",
]
