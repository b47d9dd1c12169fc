"""Drift detection and repair: each managed cluster is read back from ARM now and then, compared with its request
(shared/domain/drift.py), and what differs is recorded, published and, when the cluster's request says
`drift: repair`, put back through the engine. docs/drift.md says why it works this way.

- Which clusters: those `ready` with no operation queued (one that runs changes ARM on purpose; a cluster whose
  create failed is not yet what was asked). Each is due at its stable slot within the interval
  (`AKSVEND_DRIFT_INTERVAL_SECONDS`, default 30 min): a hash of its key places it, so checks spread over the
  interval and every instance agrees; a run checks at most `per_run` clusters, the longest waiting first, and
  leaves the rest to the next run. A cluster never checked waits for its first slot after it settled.
- One check is one ARM read: GET of the managed cluster, whose `agentPoolProfiles` carry every pool. A failed read,
  or a cluster that ARM shows in the middle of an operation (`Updating`, `Scaling`, ...), skips the cluster this
  round (it stays due); nothing is recorded from it.
- What it found is kept in the clusters table, partition `drift` (one row per cluster: when, the differences, their
  fingerprint, the repair operations), read by `GET /api/clusters/...` (`drift`, `driftCheckedAt`).
- `aksvend.cluster.drifted` is recorded (the outbox) when drift is found that differs from the previous check's,
  before the row is written: a crash in between records the same event again (its id comes from the cluster, the
  slot and the drift), which the outbox keeps once.
- Repair (`drift: repair`): the desired request submitted again, unchanged: `upgrade` when the control plane is
  behind, one `put-pool` per drifted pool (a missing pool is created again). Idempotency keys name the cluster, the
  slot and the drift, so a check redone finds the same operations; the next slot tries again if drift remains. A
  cluster gone from ARM, a pool no one asked for, a VM size, a network profile or a version ahead are reported,
  never repaired: aksvend never re-creates a cluster deleted outside it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain import arm, lifecycle
from shared.domain.drift import Drift, compare, digest, due, repairs, slot
from shared.domain.operation_source import OperationSource
from shared.domain.request import ClusterRequest
from shared.engine import ClusterNotFound, DesiredStateChanged, Engine, IdempotencyConflict, submit
from shared.engine.ports import PARTITION_KEY, ROW_KEY, StateStore
from shared.engine.records import ClusterRecord
from shared.errors import AksvendError, FatalError, RetryableError

__all__ = ["DRIFT_CALLER", "DRIFT_PARTITION", "Checked", "DriftReport", "DriftService", "DriftSettings", "drift_row",
           "drift_rows"]

log = logging.getLogger("aksvend.drift")
DRIFT_PARTITION = "drift"
MAX_SHOWN = 50  # drifts kept in the row and the event, in the order found (`driftCount` says how many there were)
MAX_SHOWN_CHARS = 24_000
DRIFT_CALLER = "aksvend:drift"  # the caller id of repair operations (their idempotency keys are its own)
REPAIR_RULE = "drift-repair"  # their source: reaction:drift-repair[:<pool>]
_NEVER = datetime(2000, 1, 1, tzinfo=UTC)
_SETTLED = ("Succeeded", "Failed", "Canceled")  # else someone is changing it in ARM: compare when it settles


@dataclass(frozen=True, slots=True)
class DriftSettings:
    interval_seconds: float = 1800.0  # AKSVEND_DRIFT_INTERVAL_SECONDS: how often each cluster is read back
    per_run: int = 50  # clusters checked by one timer run at most (one ARM read each)


@dataclass(frozen=True, slots=True)
class Checked:
    key: str
    drift: tuple[Drift, ...]
    operations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DriftReport:
    checked: tuple[Checked, ...] = ()
    skipped: tuple[str, ...] = ()  # due, but the read failed: due again next run


class DriftService:
    def __init__(self, engine: Engine, settings: DriftSettings | None = None, *, default_subscription_id: str) -> None:
        self.engine = engine
        self.settings = settings or DriftSettings()
        self.table: StateStore = engine.registry.table  # the clusters table, partition `drift`
        self.default_subscription_id = default_subscription_id

    async def reconcile(self, now: datetime | None = None) -> DriftReport:
        """The timer's run: check the clusters due now (at most `per_run`)."""
        now = now or self.engine.clock.now()
        interval = timedelta(seconds=self.settings.interval_seconds)
        settled = {r.key: r for r in await self.engine.registry.all() if r.state == "ready" and not r.queue}
        rows = await drift_rows(self.table)
        last = {key: _last_check(rows.get(key), record) for key, record in settled.items()}
        checked, skipped = [], []
        for key in due(last, now, interval, self.settings.per_run):
            try:
                done = await self.check(settled[key], slot(key, now, interval), previous=rows.get(key))
            except AksvendError as err:  # one cluster's trouble never stops the others' checks
                log.warning("drift check of %s failed: %s", key, type(err).__name__)
                done = None
            if done is None:
                skipped.append(key)
            else:
                checked.append(done)
        return DriftReport(tuple(checked), tuple(skipped))

    async def check(self, record: ClusterRecord, checked_at: datetime, *,
                    previous: Mapping[str, Any] | None = None) -> Checked | None:
        """Read the cluster from ARM, compare, publish, repair if its policy says so, record. None: ARM could not be
        read (nothing recorded; it is due again)."""
        request = ClusterRequest.model_validate(record.request)
        try:
            observed = await self.engine.arm.get(arm.CLUSTER.name, arm.ids(request)["cluster"],
                                                 arm.CLUSTER.api_version)
        except (RetryableError, FatalError) as err:
            log.warning("drift check of %s skipped this round: reading it failed (%s)", record.key, err.code)
            return None
        state = ((observed or {}).get("properties") or {}).get("provisioningState")
        if isinstance(state, str) and state not in _SETTLED:
            log.info("drift check of %s skipped this round: ARM says it is %s", record.key, state)
            return None
        drifts = compare(request, observed)
        fingerprint = digest(drifts) if drifts else ""
        operations = await self._repair(record, request, drifts, checked_at, fingerprint)
        if drifts:
            log.warning("cluster %s drifted from its request: %s", record.key,
                        "; ".join(f"{d.pool or 'cluster'}.{d.field}" for d in drifts)[:500])
        shown = bounded([d.to_dict() for d in drifts[:MAX_SHOWN]])  # a row and an event have size limits
        if drifts and (previous or {}).get("digest") != fingerprint and self.engine.lifecycle is not None:
            await self.engine.lifecycle.record([lifecycle.cluster_drifted(
                lifecycle.ClusterRef.of(request), drift=shown, policy=request.drift,
                operations=operations, checked_at=checked_at, time=self.engine.clock.now())])
        await self.table.upsert({PARTITION_KEY: DRIFT_PARTITION, ROW_KEY: record.key, "checkedAt": checked_at,
                                 "drift": shown, "driftCount": len(drifts), "digest": fingerprint,
                                 "policy": request.drift, "operations": list(operations)[:MAX_SHOWN]})
        return Checked(record.key, drifts, tuple(operations))

    async def _repair(self, record: ClusterRecord, request: ClusterRequest, drifts: Sequence[Drift],
                      checked_at: datetime, fingerprint: str) -> list[str]:
        """Submit the desired request again for each repair (nothing unless the policy is `repair`)."""
        if request.drift != "repair":
            return []
        operations = []
        for kind, pool in repairs(drifts):
            key = f"drift|{record.key}|{kind}|{pool or ''}|{checked_at.isoformat()}|{fingerprint}"
            try:
                done = await submit(self.engine, kind, request, pool=pool, idempotency_key=key, caller=DRIFT_CALLER,
                                    source=OperationSource.reaction(REPAIR_RULE, pool).encode(),
                                    based_on=record.request_hash)
            except (DesiredStateChanged, ClusterNotFound, IdempotencyConflict) as err:
                log.info("drift repair %s of %s not submitted (%s); the next check decides again", kind, record.key,
                         type(err).__name__)
                continue
            operations.append(done.operation_id)
        return operations


def _last_check(row: Mapping[str, Any] | None, record: ClusterRecord) -> datetime:
    """When the cluster was last checked; never: when it last changed (it waits for its first slot after that)."""
    at = (row or {}).get("checkedAt") or record.updated_at
    return at if isinstance(at, datetime) else _NEVER


async def drift_rows(table: StateStore) -> dict[str, Mapping[str, Any]]:
    """Every cluster's last drift check, by cluster key."""
    return {v.entity[ROW_KEY]: v.entity for v in await table.query_partition(DRIFT_PARTITION)}


async def drift_row(table: StateStore, key: str) -> Mapping[str, Any] | None:
    found = await table.get(DRIFT_PARTITION, key)
    return found.entity if found else None


def bounded(drifts: list[dict[str, Any]], limit: int = MAX_SHOWN_CHARS) -> list[dict[str, Any]]:
    """The first drifts whose JSON fits in `limit` characters (a Table property holds 64 KiB of UTF-16)."""
    kept, size = [], 2
    for d in drifts:
        size += len(json.dumps(d, default=str)) + 1
        if size > limit:
            break
        kept.append(d)
    return kept
