"""Retrying a failed operation: a new operation that runs the same request again, linked to the failed one.

`POST /api/operations/{id}/retry` (docs/decisions/0008-retry.md). The retry is a new operation (a new id, its own
steps and history) with `retryOf` naming the failed one; its steps adopt what ARM already has (adopt.py). Its id is
a function of the failed operation's, so the same retry asked twice is the same operation (`created: false`), and
a failed operation has at most one retry: a retry that fails is retried in its turn. A step the failed operation
skipped (a delete limited to what a failed create made) is skipped by its retry too.

Refused with `RetryRefused` and a stable code when it would not be the same operation again:
`OperationNotFailed` (queued, running or succeeded), `ClusterNameTaken` (a create that ARM refused because it has
a cluster of that name that aksvend did not make: the retry would be that cluster's), `ClusterDeleted`,
`DesiredRequestChanged` (a change was accepted since: the retry would undo it) or `ClusterMovedOn` (another
operation was accepted after it).

Order of writes: the active index row; the claim, one etag-conditioned write of the cluster row that checks the
refusals above and puts the retry in the cluster's queue, so that no change can slip in between the check and the
queue (a pool change accepted after the claim queues behind the retry, on the same desired request); then the step
rows and the operation row (the commit point); then its history, its accepted event and its start message. A crash
after the claim leaves a queue entry without an operation: the same retry again finishes it, else the sweeper drops
the entry once the index row is older than the lease (sweeper.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.engine.engine import Engine
from shared.engine.records import (
    ACTIVE_PARTITION,
    NAME_TAKEN,
    OPERATION_ROW,
    ClusterRecord,
    OperationRecord,
    StepRecord,
    request_hash,
)
from shared.engine.submit import Submitted, has_room, record_accepted, resume, write_operation
from shared.errors import ConflictError

_RETRY_NAMESPACE = uuid.UUID("8b6f1d0e-5a3c-4e27-9c41-2d7a9e3b6f15")


class RetryRefused(Exception):
    """The operation cannot be retried: `code` says why (stable, for clients), `detail` in words."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def retry_id(failed_id: str) -> str:
    """The id of the retry of `failed_id`: the same on every ask, so asking twice is one retry."""
    return str(uuid.uuid5(_RETRY_NAMESPACE, f"retry|{failed_id}"))


async def retry(engine: Engine, failed: OperationRecord) -> Submitted:
    """Accept a retry of `failed` (the caller checked that it may), or answer the retry accepted before."""
    new_id = retry_id(failed.id)
    existing = await engine.ops.get(new_id, OPERATION_ROW)
    if existing is not None:  # the same retry again: the same answer (and finish what a crash left undone)
        await resume(engine, OperationRecord.from_entity(existing.entity, existing.etag))
        return Submitted(new_id, created=False)
    if failed.state != "failed":
        raise RetryRefused("OperationNotFailed", f"operation {failed.id} is {failed.state}: only a failed "
                                                 f"operation can be retried")
    if failed.kind == "create-cluster" and (failed.error or {}).get("code") == NAME_TAKEN:
        raise RetryRefused(NAME_TAKEN, f"ARM's cluster '{failed.cluster_id.rsplit('/', 1)[-1]}' is not one aksvend "
                                       "made (it appeared after the create was accepted): it is never overwritten. "
                                       "Create the cluster under another name, or have an admin adopt it (POST "
                                       ".../adopt)")
    now = engine.clock.now()
    cluster = await engine.registry.get(failed.cluster)
    refusal = moved_on(cluster, failed, new_id)  # checked before anything is written, and again in the claim
    if refusal is not None:
        raise refusal
    await engine.ops.upsert({"PartitionKey": ACTIVE_PARTITION, "RowKey": new_id, "cluster": failed.cluster,
                             "since": now})
    claimed = await engine.registry.change(failed.cluster, lambda c: _claim(c, failed, new_id, now))
    if claimed is None:
        raise _deleted(failed)
    record = failed.with_(id=new_id, state="queued", created_at=now, started_at=None, ended_at=None, error=None,
                          retry_of=failed.id, etag=None)
    skipped = await _skipped(engine, failed.id) if failed.kind == "delete-cluster" else {}  # a create's: tried again
    steps = [(StepRecord(new_id, spec.id, "succeeded", outputs={"skipped": skipped[spec.id]}) if spec.id in skipped
              else StepRecord(new_id, spec.id)).to_entity() for spec in failed.specs()]
    try:
        await write_operation(engine, steps, record)
    except ConflictError:  # a concurrent ask of the same retry won
        return Submitted(new_id, created=False)
    await engine.history.record(new_id, "queued", f"{record.kind} accepted from {record.source}: a retry of "
                                                  f"{failed.id}")
    await engine.history.record(failed.id, "retried", f"retried as {new_id}")
    await record_accepted(engine, record)
    if claimed.queue and claimed.queue[0] == new_id:
        await engine.queue.send({"op": new_id, "start": True})
    return Submitted(new_id, created=True)


def moved_on(cluster: ClusterRecord | None, failed: OperationRecord, new_id: str) -> RetryRefused | None:
    """Why retrying `failed` on the cluster as it is now would not run the same operation again; None: it would.
    The failed operation may still be in the queue (its release pending after a crash), and so may this retry (a
    claim whose commit crashed)."""
    if cluster is None or cluster.state == "deleted":
        return _deleted(failed)
    newer = [o for o in cluster.queue if o not in (failed.id, new_id)]
    if newer or (failed.id not in cluster.queue and cluster.last_operation != failed.id):
        after = newer[0] if newer else cluster.last_operation
        return RetryRefused("ClusterMovedOn", f"operation {after} on the cluster came after {failed.id}; retry "
                                              f"that one if it failed, or ask for the change again")
    if cluster.request_hash != request_hash(failed.request):
        return RetryRefused("DesiredRequestChanged", f"the cluster's desired request changed since {failed.id} "
                                                     f"was accepted: retrying it would undo that change")
    return None


def _claim(cluster: ClusterRecord, failed: OperationRecord, new_id: str, now: datetime) -> ClusterRecord | None:
    refusal = moved_on(cluster, failed, new_id)
    if refusal is not None:
        raise refusal
    if not has_room(cluster.queue, new_id, failed.kind):
        raise RetryRefused("ClusterBusy", f"{len(cluster.queue)} operations are queued on the cluster; retry later")
    if new_id in cluster.queue:
        return None
    return cluster.with_(queue=(*cluster.queue, new_id), updated_at=now,
                         state="deleting" if failed.kind == "delete-cluster" else cluster.state)


async def _skipped(engine: Engine, op_id: str) -> dict[str, str]:
    """The steps of `op_id` written done unsent (`skipped`: a delete limited to what a failed create made,
    cleanup.py): its retry skips them too, so that it deletes no more than the operation it runs again."""
    loaded = await engine.load(op_id)
    steps = loaded.steps.values() if loaded is not None else ()
    return {s.id: str(s.outputs["skipped"]) for s in steps if s.state == "succeeded" and "skipped" in s.outputs}


def _deleted(failed: OperationRecord) -> RetryRefused:
    return RetryRefused("ClusterDeleted", f"the cluster of operation {failed.id} was deleted")
