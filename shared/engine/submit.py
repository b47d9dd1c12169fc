"""Submitting an operation: the commit point is the operation row; everything before it can be redone.

Order of writes: for a caller's idempotency key, a row binding the key to the request's fingerprint (so that the
same key with another body is refused before anything else changes); the operation's entry in the active index;
for a change to a managed cluster, its new desired request and the operation's place in the cluster's queue, in
one write of the cluster's row (so operations run in the order their changes were accepted, and each one's
request holds every change accepted before it); its step rows and operation row together (one entity-group
transaction; for operations of more than 99 steps, the steps first and the operation row last); then the
operation joins its cluster's queue (a create) and, when it heads the queue, a start message is sent. A crash
anywhere leaves a state that a second submit (same idempotency key) or the sweeper completes: a present operation
row means "accepted", and the sweeper puts a queued operation that is missing from its cluster's queue back in
line, and drops index rows (and queue places) of operations that never came to be.

A change is either a whole new request computed by the caller (`submit` with `based_on`: refused with
DesiredStateChanged when another change landed first) or a `Change` (`submit_change`): a function of the desired
request, applied to it as it is when the change is accepted, in the registry's compare-and-swap loop (each round
reads again and re-checks the change, so it always converges; docs/engine.md "Concurrent changes").
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain import arm
from shared.domain.operations import OperationKind, steps_for
from shared.domain.pool_steps import edits_targets, pool_subnets
from shared.domain.request import ClusterRequest
from shared.engine.engine import Engine
from shared.engine.lifecycle import accepted_events
from shared.engine.records import (
    ACTIVE_PARTITION,
    OPERATION_ROW,
    ClusterRecord,
    OperationRecord,
    StepRecord,
    cluster_key,
    request_hash,
)
from shared.errors import ConflictError

MAX_TRANSACTION_ROWS = 100  # Table Storage's entity-group transaction limit
KEY_CLAIM_ROW = "idempotency-key"  # in the operation's partition: which request fingerprint the key is bound to
_IDEMPOTENCY_NAMESPACE = uuid.UUID("3f0d7c51-8c0e-4c7a-b1f4-7b0e9d1a2c33")


class ClusterConflict(Exception):
    """A different request already owns this cluster name."""


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request."""


class DesiredStateChanged(Exception):
    """The cluster's desired request changed while a change to it was computed; compute it again."""


class ClusterNotFound(Exception):
    """The operation needs a cluster aksvend manages, and there is none by that name."""


class ClusterBusy(Exception):
    """The cluster's queue holds `MAX_QUEUED` operations: a change waits until some ran (a delete still fits)."""


MAX_QUEUED, DELETE_ROOM = 50, 5  # operations queued on one cluster; a delete of the cluster has `DELETE_ROOM` more


def has_room(queue: tuple[str, ...], op_id: str, kind: str) -> bool:
    """Whether operation `op_id` (of `kind`) may take a place in this cluster queue."""
    return op_id in queue or len(queue) < MAX_QUEUED + (DELETE_ROOM if kind == "delete-cluster" else 0)


@dataclass(frozen=True, slots=True)
class Submitted:
    operation_id: str
    created: bool  # False: the same operation existed already (a retried submit)


@dataclass(frozen=True, slots=True)
class Change:
    """A change to a managed cluster's desired request, as a function of it (`submit_change`).

    `cluster`: the cluster's registry key. `spec`: what was asked (JSON); with the kind and the pool it is the
    operation's fingerprint, so that a retry with the same idempotency key is the same operation however many
    changes landed in between. `apply`: the desired request (JSON) -> the new one, checked against the rules; it
    raises its refusal when the change does not fit the request as it is now (called again each round)."""

    cluster: str
    spec: Mapping[str, Any]
    apply: Callable[[Mapping[str, Any]], ClusterRequest]


def operation_id(caller: str, idempotency_key: str | None, rng_bits: int) -> str:
    if idempotency_key:
        return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{caller}|{idempotency_key}"))
    return str(uuid.UUID(int=rng_bits, version=4))


async def submit(engine: Engine, kind: OperationKind, request: ClusterRequest, *, pool: str | None = None,
                 idempotency_key: str | None = None, caller: str = "anonymous", source: str = "api",
                 ticket: str | None = None, based_on: str | None = None,
                 skip: Mapping[str, str] | None = None) -> Submitted:
    """`based_on`: the hash of the desired request that `request` was computed from (a pool change). If the
    cluster's desired request changed since, DesiredStateChanged is raised and nothing is written: the caller
    computes the change again on the new state, so two concurrent changes never overwrite each other.
    `skip`: step id -> why it is not sent; those steps are written done, with the reason as their `skipped` output
    (a cleanup's deletes of what the failed create did not make: cleanup.py)."""
    now = engine.clock.now()
    specs = steps_for(kind, request, pool)  # before any write: a request that cannot be planned leaves nothing
    payload = request.model_dump(mode="json", by_alias=True)
    same = request_hash(payload)
    digest = request_hash({"kind": kind, "pool": pool, "request": payload})
    key = cluster_key(request.subscription_id, request.resource_group, request.name)
    if idempotency_key is None and kind == "create-cluster":
        idempotency_key = f"create-cluster:{key}:{same}"  # the same request twice is the same operation
    op_id = operation_id(caller, idempotency_key, engine.rng.getrandbits(128))
    cluster = await engine.registry.get(key)
    existing = await engine.ops.get(op_id, OPERATION_ROW)
    if existing is not None:
        if existing.entity["requestHash"] != digest:
            raise IdempotencyConflict(op_id)
        recreate = kind == "create-cluster" and cluster is not None and cluster.state == "deleted"
        if not recreate:
            await resume(engine, OperationRecord.from_entity(existing.entity, existing.etag))
            return Submitted(op_id, created=False)
        op_id = operation_id(caller, None, engine.rng.getrandbits(128))
    elif idempotency_key is not None:
        await _claim_key(engine, op_id, digest, now)
    edits = [False]  # whether it edits the service endpoint targets (pool_steps.edits_targets)
    if kind == "create-cluster":
        await _index(engine, op_id, key, now)
        await _claim_cluster(engine, request, cluster, now)
    else:
        def unchanged(c: ClusterRecord) -> ClusterRequest:
            if based_on is not None and c.request_hash != based_on:
                raise DesiredStateChanged(key)
            edits[0] = edits_targets(kind, c.request, c.applied, pool)
            return request

        await _adopt(engine, kind, key, op_id, unchanged, now)
    record = OperationRecord(op_id, kind, "queued", key, arm.ids(request)["cluster"], payload, digest, now,
                             pool=pool, source=source, ticket=ticket, edits_targets=edits[0])
    skip = skip or {}
    return await _commit(engine, record, [
        StepRecord(op_id, spec.id, "succeeded", outputs={"skipped": skip[spec.id]}) if spec.id in skip
        else StepRecord(op_id, spec.id) for spec in (record.specs() if record.edits_targets else specs)])


async def submit_change(engine: Engine, kind: OperationKind, change: Change, *, pool: str | None = None,
                        idempotency_key: str | None = None, caller: str = "anonymous", source: str = "api",
                        ticket: str | None = None) -> Submitted:
    """Accept `change` to a managed cluster: it is applied to the desired request as it is at this moment, and
    the operation joins the cluster's queue in the same write, behind every change accepted before it. Never
    refused because another change landed first; refused with what `change.apply` raises when the change does not
    fit the current request, ClusterNotFound, IdempotencyConflict, or PreconditionFailedError when the cluster's
    row kept changing for the registry's whole bound of rounds."""
    now = engine.clock.now()
    # the cluster too: one Idempotency-Key with the same change to another cluster is another request (409)
    digest = request_hash({"kind": kind, "pool": pool, "cluster": change.cluster, "change": dict(change.spec)})
    op_id = operation_id(caller, idempotency_key, engine.rng.getrandbits(128))
    existing = await engine.ops.get(op_id, OPERATION_ROW)
    if existing is not None:
        if existing.entity["requestHash"] != digest:
            raise IdempotencyConflict(op_id)
        await resume(engine, OperationRecord.from_entity(existing.entity, existing.etag))
        return Submitted(op_id, created=False)
    if idempotency_key is not None:
        await _claim_key(engine, op_id, digest, now)
    seen: dict[str, Any] = {}  # when accepted: the pool's subnet ("former"; [] no such pool), and "edits" (below)

    def apply(c: ClusterRecord) -> ClusterRequest:
        seen.update(former=pool_subnets(c.request, pool), edits=edits_targets(kind, c.request, c.applied, pool))
        return change.apply(c.request)

    request = await _adopt(engine, kind, change.cluster, op_id, apply, now)
    payload = request.model_dump(mode="json", by_alias=True)
    record = OperationRecord(op_id, kind, "queued", change.cluster, arm.ids(request)["cluster"], payload, digest,
                             now, pool=pool, source=source, ticket=ticket, edits_targets=seen["edits"],
                             pool_subnet=seen["former"][0] if kind == "delete-pool" and seen["former"] else None)
    return await _commit(engine, record, [StepRecord(op_id, spec.id) for spec in record.specs()])


async def _claim_key(engine: Engine, op_id: str, digest: str, now: datetime) -> None:
    """Bind the idempotency key to this request's fingerprint before anything else is written (the IETF
    Idempotency-Key draft): of two concurrent submits with one key and different bodies, the second is refused
    here, before it could make its body the cluster's desired request while the first one's operation applies."""
    try:
        await engine.ops.insert({"PartitionKey": op_id, "RowKey": KEY_CLAIM_ROW, "requestHash": digest, "at": now})
    except ConflictError:
        claimed = await engine.ops.get(op_id, KEY_CLAIM_ROW)
        if claimed is not None and claimed.entity["requestHash"] != digest:
            raise IdempotencyConflict(op_id) from None


async def resume(engine: Engine, existing: OperationRecord) -> None:
    """The same submit again: finish what a crash of the first one may have left undone."""
    if existing.state in ("queued", "running"):  # heal a crash between the row and its event
        await record_accepted(engine, existing)
    if existing.state == "queued":
        await _join_queue(engine, existing.cluster, existing.id)


async def _claim_cluster(engine: Engine, request: ClusterRequest, cluster: ClusterRecord | None,
                         now: datetime) -> None:
    """Register the cluster a create names (or take over the row of a deleted one of that name)."""
    payload = request.model_dump(mode="json", by_alias=True)
    same = request_hash(payload)
    key = cluster_key(request.subscription_id, request.resource_group, request.name)
    if cluster is not None and cluster.state != "deleted" and cluster.request_hash != same:
        raise ClusterConflict(key)
    fresh = ClusterRecord(key, request.subscription_id, request.resource_group, request.name, request.location,
                          "provisioning", payload, same, updated_at=now)
    if cluster is None:
        cluster = await engine.registry.create_or_get(fresh)
    elif cluster.state == "deleted":  # its row stays; a create after the deletion may ask for another cluster
        cluster = await engine.registry.change(key, lambda c: fresh.with_(queue=c.queue, last_operation=(
            c.last_operation)) if c.state == "deleted" else None)
    if cluster is None or cluster.request_hash != same:
        raise ClusterConflict(key)


async def _adopt(engine: Engine, kind: OperationKind, key: str, op_id: str,
                 derive: Callable[[ClusterRecord], ClusterRequest], now: datetime) -> ClusterRequest:
    """Make the change the cluster's desired request and give its operation the next place in the cluster's
    queue, in one conditional write of the cluster's row (retried by the registry, `derive` again each round), so
    that the next change builds on it and the operations run in the order their changes were accepted. The
    operation is indexed first: if the submit dies before its operation row, the sweeper frees its place."""
    index_etag = await _index(engine, op_id, key, now)
    adopted: list[ClusterRequest] = []

    def adopt(c: ClusterRecord) -> ClusterRecord:
        if c.state == "deleted":
            raise ClusterNotFound(key)
        if not has_room(c.queue, op_id, kind):
            raise ClusterBusy(key)
        request = derive(c)
        adopted.append(request)
        payload = request.model_dump(mode="json", by_alias=True)
        queue = c.queue if op_id in c.queue else (*c.queue, op_id)  # in line already: an earlier attempt of it
        return c.with_(request=payload, request_hash=request_hash(payload), queue=queue, updated_at=now,
                       state="deleting" if kind == "delete-cluster" else c.state)

    try:
        if await engine.registry.change(key, adopt) is None:
            raise ClusterNotFound(key)
    except Exception:
        with contextlib.suppress(Exception):  # refused: nothing of it stays (else the sweeper drops it later)
            await engine.ops.delete_if_match(ACTIVE_PARTITION, op_id, index_etag)
        raise
    return adopted[-1]


async def _index(engine: Engine, op_id: str, key: str, now: datetime) -> str:
    """The operation's row in the active index, written before the operation exists: the sweeper then always
    sees it (and drops index rows, and queue places, of operations that never came to be)."""
    return await engine.ops.upsert({"PartitionKey": ACTIVE_PARTITION, "RowKey": op_id, "cluster": key,
                                    "since": now})


async def _commit(engine: Engine, record: OperationRecord, steps: list[StepRecord]) -> Submitted:
    """Write (the commit point; the caller indexed it), record and queue a new operation."""
    try:
        await write_operation(engine, [s.to_entity() for s in steps], record)
    except ConflictError:
        return Submitted(record.id, created=False)
    await engine.history.record(record.id, "queued", f"{record.kind} accepted from {record.source}")
    await record_accepted(engine, record)
    await _join_queue(engine, record.cluster, record.id)
    return Submitted(record.id, created=True)


async def write_operation(engine: Engine, steps: list[dict], record: OperationRecord) -> None:
    """The step rows and the operation row: one entity-group transaction (all or nothing, one round trip) when
    they fit in one (100 rows); else the steps one by one first and the operation row last, the commit point.
    Raises ConflictError when the operation exists already (a concurrent identical submit won)."""
    rows = [*steps, record.to_entity()]
    if len(rows) <= MAX_TRANSACTION_ROWS:
        await engine.ops.insert_batch(rows)
        return
    for step in steps:
        with contextlib.suppress(ConflictError):  # written by an earlier attempt of this same submit
            await engine.ops.insert(step)
    await engine.ops.insert(record.to_entity())


async def record_accepted(engine: Engine, record: OperationRecord) -> None:
    if engine.lifecycle is not None:
        await engine.lifecycle.record(accepted_events(record))


async def _join_queue(engine: Engine, key: str, op_id: str) -> None:
    cluster = await engine.registry.enqueue(key, op_id, engine.clock.now())
    if cluster is not None and cluster.queue and cluster.queue[0] == op_id:
        await engine.queue.send({"op": op_id, "start": True})
