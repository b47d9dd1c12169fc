"""The engine's persisted records: how operations, steps and clusters look in Table Storage.

Table `operations`, one partition per operation (PartitionKey = operation id):
  RowKey "operation"        kind, state, cluster, request, timestamps, error
  RowKey "step:<step id>"   state, phase (begin | monitor), attempts, poll URL, lease, outputs, last error
Partition "<operation id>:history": one row per transition (an append-only audit trail, see `history.py`),
kept apart so that reading an operation to act on it never parses its history.
Partition "active" of the same table lists the operations not yet finished (RowKey = operation id): the
sweeper's work list, so that it never scans the whole table.

Table `clusters`, PartitionKey "cluster", RowKey = the cluster key ("<subscription>:<group>:<name>", lower case;
ARM ids hold '/', which Table keys refuse): the registry (desired request, observed pools, state) and the
cluster's FIFO of operations, whose head is the one allowed to run.

Records are frozen. How a step or an operation moves on is a method of its record that returns the next
record (`step.began(...)`, `step.succeeded(...)`, `op.ended(...)`): the engine decides *when* a record moves
and saves it with its etag; the record says *what* moving means, so that every place that moves a step moves
it the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from shared.domain.armid import fold_case
from shared.domain.operations import OperationKind, StepSpec, steps_for
from shared.domain.request import ClusterRequest
from shared.engine.ports import PARTITION_KEY, ROW_KEY, Entity
from shared.errors import FatalError, RetryableError

OpState = Literal["queued", "running", "succeeded", "failed"]
StepState = Literal["waiting", "ready", "running", "succeeded", "failed", "cancelled"]
Phase = Literal["begin", "monitor"]
TERMINAL_OPS = ("succeeded", "failed")
TERMINAL_STEPS = ("succeeded", "failed", "cancelled")
OPERATION_ROW = "operation"
STEP_PREFIX = "step:"
ACTIVE_PARTITION = "active"
CLUSTER_PARTITION = "cluster"
NAME_TAKEN = "ClusterNameTaken"  # a create's cluster PUT refused: ARM has a cluster of the name it did not make
NOT_CREATED = "ClusterNotCreated"  # a change refused as it starts: the cluster's create never succeeded


def cluster_key(subscription_id: str, resource_group: str, name: str) -> str:
    return fold_case(f"{subscription_id}:{resource_group}:{name}")


def request_hash(request: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OperationRecord:
    id: str
    kind: OperationKind
    state: OpState
    cluster: str
    cluster_id: str
    request: Mapping[str, Any]
    request_hash: str
    created_at: datetime
    pool: str | None = None
    source: str = "api"
    ticket: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: Mapping[str, Any] | None = None
    retry_of: str | None = None  # the failed operation this one runs again (retrying.py)
    # a delete-pool's: the pool's `subnet` as the desired request had it ("" none), whose grant it deletes
    pool_subnet: str | None = None
    # a put-pool that adds the pool, or a delete-pool: it edits the service endpoint targets' rules for the pool's own
    # subnet (shared/domain/pool_steps.py). Recorded when accepted, never derived: a change or reaction to a pool that
    # exists leaves the targets as their owners keep them, and an operation accepted before this field existed keeps
    # the steps it was written with.
    edits_targets: bool = False
    etag: str | None = field(default=None, compare=False)

    def to_entity(self) -> Entity:
        return {PARTITION_KEY: self.id, ROW_KEY: OPERATION_ROW, "kind": self.kind, "state": self.state,
                "cluster": self.cluster, "clusterId": self.cluster_id, "request": dict(self.request),
                "requestHash": self.request_hash, "createdAt": self.created_at, "pool": self.pool,
                "source": self.source, "ticket": self.ticket, "startedAt": self.started_at,
                "endedAt": self.ended_at, "error": dict(self.error) if self.error else None,
                "retryOf": self.retry_of, "poolSubnet": self.pool_subnet,
                "editsTargets": self.edits_targets}

    @classmethod
    def from_entity(cls, e: Mapping[str, Any], etag: str | None) -> OperationRecord:
        return cls(id=e[PARTITION_KEY], kind=e["kind"], state=e["state"], cluster=e["cluster"],
                   cluster_id=e["clusterId"], request=e["request"], request_hash=e["requestHash"],
                   created_at=e["createdAt"], pool=e.get("pool"), source=e.get("source", "api"),
                   ticket=e.get("ticket"), started_at=e.get("startedAt"), ended_at=e.get("endedAt"),
                   error=e.get("error"), retry_of=e.get("retryOf"), pool_subnet=e.get("poolSubnet"),
                   edits_targets=e.get("editsTargets") is True, etag=etag)

    def with_(self, **changes: Any) -> OperationRecord:
        return replace(self, **changes)

    def started(self, now: datetime) -> OperationRecord:
        """It heads its cluster's queue and runs from now on."""
        return replace(self, state="running", started_at=now)

    def ended(self, now: datetime, error: Mapping[str, Any] | None) -> OperationRecord:
        """Every step succeeded (`error` None), or one failed with `error` ({code, message, step})."""
        return replace(self, state="failed" if error else "succeeded", ended_at=now, error=error)

    def specs(self) -> tuple[StepSpec, ...]:
        """Its steps as planned: a function of its kind, request and pool alone, so never stored."""
        return steps_for(self.kind, ClusterRequest.model_validate(self.request), self.pool, self.pool_subnet,
                         edits_targets=self.edits_targets)


@dataclass(frozen=True, slots=True)
class StepRecord:
    op_id: str
    id: str
    state: StepState = "waiting"
    phase: Phase = "begin"
    attempts: int = 0
    polls: int = 0
    poll_url: str | None = None
    lease_until: datetime | None = None
    deadline: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    arm_id: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    last_error: Mapping[str, Any] | None = None
    sending_until: datetime | None = None  # a delivery's PUT/DELETE is in flight until then: nobody else sends
    etag: str | None = field(default=None, compare=False)

    def to_entity(self) -> Entity:
        return {PARTITION_KEY: self.op_id, ROW_KEY: STEP_PREFIX + self.id, "state": self.state,
                "phase": self.phase, "attempts": self.attempts, "polls": self.polls, "pollUrl": self.poll_url,
                "leaseUntil": self.lease_until, "deadline": self.deadline, "startedAt": self.started_at,
                "endedAt": self.ended_at, "armId": self.arm_id, "outputs": dict(self.outputs) or None,
                "lastError": dict(self.last_error) if self.last_error else None, "sendingUntil": self.sending_until}

    @classmethod
    def from_entity(cls, e: Mapping[str, Any], etag: str | None) -> StepRecord:
        return cls(op_id=e[PARTITION_KEY], id=e[ROW_KEY].removeprefix(STEP_PREFIX), state=e["state"],
                   phase=e.get("phase", "begin"), attempts=e.get("attempts", 0), polls=e.get("polls", 0),
                   poll_url=e.get("pollUrl"), lease_until=e.get("leaseUntil"), deadline=e.get("deadline"),
                   started_at=e.get("startedAt"), ended_at=e.get("endedAt"), arm_id=e.get("armId"),
                   outputs=e.get("outputs") or {}, last_error=e.get("lastError"),
                   sending_until=e.get("sendingUntil"), etag=etag)

    def with_(self, **changes: Any) -> StepRecord:
        return replace(self, **changes)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STEPS

    # ---- how a step moves on: each returns the next record, which the engine saves with this one's etag -------
    def ready(self, lease_until: datetime, deadline: datetime) -> StepRecord:
        """Its dependencies are done: a message is on its way, due by `lease_until`; it fails at `deadline`."""
        return replace(self, state="ready", lease_until=lease_until, deadline=deadline)

    def sending(self, until: datetime) -> StepRecord:
        """Its request is about to go out: no other delivery sends it before `until` (or before this one ends);
        the sweeper leaves it alone until then too."""
        return replace(self, sending_until=until, lease_until=max(until, self.lease_until or until))

    def began(self, poll_url: str | None, arm_id: str, now: datetime,
              outputs: Mapping[str, Any] | None = None) -> StepRecord:
        """ARM accepted its request; from now on it is monitored (through `poll_url`, else the resource).
        `outputs`: what it ends with besides ARM's (a skipped edit's `skipped`)."""
        return replace(self, state="running", phase="monitor", attempts=self.attempts + 1, poll_url=poll_url,
                       started_at=self.started_at or now, arm_id=arm_id, last_error=None, sending_until=None,
                       outputs=self.outputs if outputs is None else outputs)

    def adopted(self, arm_id: str, now: datetime) -> StepRecord:
        """A retry's step that ARM already has as the failed attempt left it (adopt.py): done after a GET, no request
        sent, so no attempt counted."""
        return replace(self, state="running", phase="monitor", started_at=self.started_at or now, arm_id=arm_id,
                       last_error=None)

    def rescheduled(self, lease_until: datetime) -> StepRecord:
        """Its next message is sent (or sent again): the sweeper resends it if it has not moved by `lease_until`."""
        return replace(self, lease_until=lease_until)

    def polled(self, err: RetryableError | None = None) -> StepRecord:
        """One more status read that did not end it (`err`: the read itself failed and is retried)."""
        return replace(self, polls=self.polls + 1, last_error=error_of(err) if err else self.last_error)

    def errored(self, err: RetryableError | FatalError) -> StepRecord:
        """A failure that is retried without counting as an attempt (reading outputs after success)."""
        return replace(self, last_error=error_of(err))

    def retried(self, err: RetryableError, counted: bool = False) -> StepRecord:
        """A retryable failure: one more attempt, with the error it met kept (a request it sent is over).
        `counted`: the attempt that failed was counted already (ARM accepted its request: `began`)."""
        return replace(self, attempts=self.attempts + (0 if counted else 1), last_error=error_of(err),
                       sending_until=None)

    def tried(self) -> StepRecord:
        """A request sent that ARM refused for good: an attempt too, so a failed step never shows 0 for it."""
        return replace(self, attempts=self.attempts + 1)

    def restarted(self) -> StepRecord:
        """ARM's operation failed in a way worth retrying: the next attempt sends the request again."""
        return replace(self, phase="begin", poll_url=None)

    @property
    def lease_token(self) -> str | None:
        """The lease as a poll's message names it (engine.handle drops a copy whose lease is not the step's)."""
        return self.lease_until.isoformat() if self.lease_until is not None else None

    def succeeded(self, now: datetime, outputs: Mapping[str, Any]) -> StepRecord:
        return replace(self, state="succeeded", ended_at=now, outputs=outputs, poll_url=None, lease_until=None,
                       sending_until=None)

    def failed(self, now: datetime, err: FatalError) -> StepRecord:
        return replace(self, state="failed", ended_at=now, last_error=error_of(err), lease_until=None,
                       sending_until=None)

    def cancelled(self, now: datetime) -> StepRecord:
        """Its operation failed elsewhere: it will not run (or go on)."""
        return replace(self, state="cancelled", ended_at=now, lease_until=None)


def error_of(err: RetryableError | FatalError) -> dict[str, str]:
    """An error as a record keeps it: ARM's code and message, the message capped for Table Storage."""
    return {"code": err.code, "message": (err.message or err.code)[:2000]}


@dataclass(frozen=True, slots=True)
class Loaded:
    """An operation as read to act on it: its record, its step records and its steps as planned, by step id."""

    op: OperationRecord
    steps: dict[str, StepRecord]
    specs: dict[str, StepSpec]

    @classmethod
    def from_rows(cls, op: OperationRecord, steps: list[StepRecord]) -> Loaded:
        """The steps are derived from the code, their rows were written when the operation was accepted: an
        operation accepted by an earlier version of the code runs the steps it has rows for (a step this version
        derives without a row would never be started, and the operation never end), and waits for no other."""
        rows = {s.id: s for s in steps}
        specs = {s.id: s for s in op.specs()}
        if rows and not specs.keys() <= rows.keys():
            specs = {k: replace(v, depends_on=tuple(d for d in v.depends_on if d in rows))
                     for k, v in specs.items() if k in rows}
        return cls(op, rows, specs)


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    key: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    state: str  # provisioning | ready | failed | deleting | deleted
    request: Mapping[str, Any]  # desired: the create request with every accepted change since
    request_hash: str
    queue: tuple[str, ...] = ()
    last_operation: str | None = None
    updated_at: datetime | None = None
    applied: Mapping[str, Any] | None = None  # the request as the last successful operation left the cluster
    etag: str | None = field(default=None, compare=False)

    def to_entity(self) -> Entity:
        return {PARTITION_KEY: CLUSTER_PARTITION, ROW_KEY: self.key, "subscriptionId": self.subscription_id,
                "resourceGroup": self.resource_group, "name": self.name, "location": self.location,
                "state": self.state, "request": dict(self.request), "requestHash": self.request_hash,
                "queue": list(self.queue), "lastOperation": self.last_operation, "updatedAt": self.updated_at,
                "applied": dict(self.applied) if self.applied else None}

    @classmethod
    def from_entity(cls, e: Mapping[str, Any], etag: str | None) -> ClusterRecord:
        return cls(key=e[ROW_KEY], subscription_id=e["subscriptionId"], resource_group=e["resourceGroup"],
                   name=e["name"], location=e["location"], state=e["state"], request=e["request"],
                   request_hash=e["requestHash"], queue=tuple(e.get("queue") or ()),
                   last_operation=e.get("lastOperation"), updated_at=e.get("updatedAt"), applied=e.get("applied"),
                   etag=etag)

    def with_(self, **changes: Any) -> ClusterRecord:
        return replace(self, **changes)
