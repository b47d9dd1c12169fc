"""From a decision to engine operations: the cluster view the policy reads, and each action as a submit.

- The view comes from the registry record: the desired request is what aksvend knows (it already holds every
  accepted change, so queued scale-outs count), the observed Kubernetes version and the upgrades ARM offers (the
  cluster's upgrade profile) are read from ARM only for `NewKubernetesVersionAvailable` (the desired version may
  be `1.33`, the policy needs `1.33.2`; the event's versions are only hints, the profile says what exists).
  Pools aksvend added itself (label `aksvend.io/spot-fallback-for`) are left out of the view's requested pools and
  appear only as observed state, so that the policy recognises its own fallback pools.
- ScalePool / CreatePool become `put-pool` with the desired request changed through `pool_change.with_pool`
  (the rules of `PUT /api/clusters/.../pools/{pool}`); UpgradeCluster becomes `upgrade` with the new
  `kubernetesVersion`. Each is a `Change` (applied to the desired request as it is when accepted, queued behind
  the changes before it) submitted with the action's idempotency key and caller `aksvend:events`, so a
  redelivered event finds the same operation (`IdempotencyConflict` also means "already submitted").
- Each operation carries the `OperationSource` the event's kind names (shared/domain/operation_source.py), which
  the lifecycle events read back: `reaction:spot-fallback:<spot pool>` adds `aksvend.spot.replaced`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain import arm
from shared.domain.caller import EVENTS_CALLER_ID
from shared.domain.events import (
    FALLBACK_LABEL,
    ClusterView,
    CreatePool,
    Notice,
    PoolState,
    ScalePool,
    UpgradeCluster,
    default_node_resource_group,
)
from shared.domain.events.model import OfferedVersion
from shared.domain.events.upgrade import offered_versions
from shared.domain.lifecycle import ClusterRef, LifecycleEvent
from shared.domain.operation_source import OperationSource
from shared.domain.operations import OperationKind
from shared.domain.pricing import shipped
from shared.domain.pricing.budget import budget_view
from shared.domain.request import ClusterRequest
from shared.engine import Change, ClusterNotFound, Engine, IdempotencyConflict, operation_id, submit_change
from shared.engine.records import ClusterRecord
from shared.errors import FatalError, PreconditionFailedError, RetryableError
from shared.refusals import Refused
from shared.services.pool_change import revalidate, with_pool

log = logging.getLogger("aksvend.events")
EVENTS_CALLER = EVENTS_CALLER_ID  # the caller id its operations are submitted with (idempotency)
_NOTICE_NAMESPACE = uuid.UUID("0b1c6f4e-5a7d-4e59-9d0a-3c2f1e8b7a64")


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of one action: the operation it became, or why none."""

    operation_id: str | None
    note: str


def view_of(record: ClusterRecord, *, kubernetes_version: str | None = None,
            upgrades: tuple[OfferedVersion, ...] | None = None) -> ClusterView:
    request = ClusterRequest.model_validate(record.request)
    own = tuple(p for p in request.pools if FALLBACK_LABEL not in p.labels)
    return ClusterView(
        cluster_id=arm.ids(request)["cluster"],
        node_resource_group=default_node_resource_group(request),
        kubernetes_version=kubernetes_version or request.kubernetes_version,
        pools=own,
        reactions=request.reactions,
        observed=tuple(PoolState.of(p) for p in request.pools),
        operation_running=bool(record.queue),
        upgrades=upgrades,
        budget=budget_view(request, shipped()),
    )


async def observed_view(engine: Engine, record: ClusterRecord, *, reads_version: bool) -> ClusterView:
    """The view for a reaction; with `reads_version`, the current version and the offered upgrades read from ARM."""
    if not reads_version:
        return view_of(record)
    return view_of(record, kubernetes_version=await observed_version(engine, record),
                   upgrades=await offered_upgrades(engine, record))


async def observed_version(engine: Engine, record: ClusterRecord) -> str | None:
    """The cluster's current Kubernetes version as ARM reports it; None when ARM cannot say now."""
    cluster_id = arm.ids(ClusterRequest.model_validate(record.request))["cluster"]
    try:
        resource = await engine.arm.get(arm.CLUSTER.name, cluster_id, arm.CLUSTER.api_version)
    except (RetryableError, FatalError) as err:
        log.warning("reading the version of %s failed (%s); using the desired version", record.key, err.code)
        return None
    props = (resource or {}).get("properties") or {}
    version = props.get("currentKubernetesVersion") or props.get("kubernetesVersion")
    return version if isinstance(version, str) else None


async def fallback_counts(engine: Engine, record: ClusterRecord, pools: list[str]) -> dict[str, int | None]:
    """The node counts ARM reports for these pools (one GET each through the engine's ARM port): 0 for a pool ARM
    does not have, None when the read failed (the sweeper skips that pool this round)."""
    cluster_id = arm.ids(ClusterRequest.model_validate(record.request))["cluster"]
    counts: dict[str, int | None] = {}
    for pool in pools:
        try:
            body = await engine.arm.get(arm.AGENT_POOL.name, f"{cluster_id}/agentPools/{pool}",
                                        arm.AGENT_POOL.api_version)
        except (RetryableError, FatalError) as err:
            log.warning("reading pool %s of %s failed (%s); its sweep waits a round", pool, record.key, err.code)
            counts[pool] = None
            continue
        count = ((body or {}).get("properties") or {}).get("count", 0)
        counts[pool] = count if isinstance(count, int) else None
    return counts


async def offered_upgrades(engine: Engine, record: ClusterRecord) -> tuple[OfferedVersion, ...] | None:
    """The upgrades ARM's upgrade profile offers the cluster (`.../upgradeProfiles/default`, one GET with the cluster's
    client and api-version); None when ARM cannot say now (the reaction then upgrades nothing)."""
    profile_id = arm.ids(ClusterRequest.model_validate(record.request))["cluster"] + "/upgradeProfiles/default"
    try:
        body = await engine.arm.get(arm.CLUSTER.name, profile_id, arm.CLUSTER.api_version)
    except (RetryableError, FatalError) as err:
        log.warning("reading the upgrade profile of %s failed (%s); no upgrade", record.key, err.code)
        return None
    offered = offered_versions(body)
    if offered is None:
        log.warning("the upgrade profile of %s is missing or unreadable; no upgrade", record.key)
    return offered


async def apply(engine: Engine, record: ClusterRecord, action: ScalePool | CreatePool | UpgradeCluster, *,
                default_subscription_id: str, source: OperationSource) -> Applied:
    """Submit one action as an engine operation: a change applied to the desired request as it is when accepted
    (concurrent changes queue, none is lost). Refusals (a change that breaks the rules, a cluster that is gone)
    are reported, not raised: the event is acknowledged with the reason, never retried for ever."""
    kind: OperationKind = "upgrade" if isinstance(action, UpgradeCluster) else "put-pool"
    pool = None if isinstance(action, UpgradeCluster) else action.pool_name
    spec = {"kubernetesVersion": action.version} if isinstance(action, UpgradeCluster) else {"pool": _raw_pool(action)}

    def change(desired: Mapping[str, Any]) -> ClusterRequest:
        today = engine.clock.now().date()
        if isinstance(action, UpgradeCluster):
            return revalidate({**desired, "kubernetesVersion": action.version}, prefix="/kubernetesVersion",
                              default_subscription_id=default_subscription_id, today=today)
        return with_pool(dict(desired), action.pool_name, _raw_pool(action),
                         default_subscription_id=default_subscription_id, today=today)

    try:
        change(record.request)  # refused on the request as read: nothing is written
        done = await submit_change(engine, kind, Change(record.key, spec, change), pool=pool,
                                   idempotency_key=action.key, caller=EVENTS_CALLER, source=source.encode())
    except IdempotencyConflict:
        return Applied(operation_id(EVENTS_CALLER, action.key, 0), "already submitted for this event")
    except ClusterNotFound:
        return Applied(None, "the cluster is no longer managed")
    except PreconditionFailedError:
        return Applied(None, "refused: the cluster kept changing while this reaction was applied")
    except Refused as refusal:
        codes = ", ".join(f"{v.path} {v.code}" for v in refusal.violations[:5])
        return Applied(None, f"refused: {refusal.code} {refusal.detail} {codes}".strip())
    return Applied(done.operation_id, "submitted" if done.created else "already submitted for this event")


def _raw_pool(action: ScalePool | CreatePool) -> dict[str, Any]:
    if isinstance(action, CreatePool):
        spec = action.pool.model_dump(mode="json", by_alias=True, exclude_none=True)
        spec.pop("name", None)
        return spec
    raw: dict[str, Any] = {}
    if action.count is not None:
        raw["count"] = action.count
    if action.max_count is not None:
        raw["autoscale"] = {"max": action.max_count}
    return raw


def notice_event(record: ClusterRecord, notice: Notice, key: tuple[str, str], now: datetime) -> LifecycleEvent:
    """An outbound CloudEvent for a policy notice; its id derives from (type, event key), so a redelivered event
    records the same one."""
    cluster = ClusterRef(record.subscription_id, record.resource_group, record.name)
    event_id = str(uuid.uuid5(_NOTICE_NAMESPACE, "\x00".join((notice.type, key[0], key[1]))))
    data: dict[str, Any] = {"cluster": cluster.to_dict(), "message": notice.message,
                            "cause": {"source": key[0], "id": key[1]}}
    if notice.bound is not None:
        data["bound"] = {"name": notice.bound, "pool": notice.pool}
    return LifecycleEvent(event_id, notice.type, cluster.source, cluster.resource_id, now, data)
