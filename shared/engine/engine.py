"""The provisioning engine: operations as DAGs of durable, idempotent, retried steps.

Time: no invocation ever waits for Azure. A step is *begin* (send the idempotent PUT/DELETE once and save the
polling URL) or *monitor* (read the operation's status once); which one is chosen from the saved step record
alone. A running operation re-enqueues its step message with the server's Retry-After (else the configured
poll interval) as visibility delay and returns.

Retries: `shared.errors.classify` decides. Retryable failures back off (honouring Retry-After) until the step's
deadline; fatal ones fail the step with ARM's code and message, fail the operation and cancel its other steps.
Short transport retries happen inside azure-core; long waits use the queue.

Idempotency: an operation's id comes from the caller's idempotency key, so submitting twice returns the same
operation. Every state change is an etag-conditioned write: of two workers holding the same step (a message
delivered twice), one write wins and the other stops. ARM writes are idempotent PUTs of the same body, so a
crash between sending and saving re-sends the same request. A message is acted on only after its state was
saved, and saved state is enqueued again by the sweeper if its message was lost (see `sweeper.py`).

Order: operations on one cluster run one after another (`registry.ClusterRegistry`); inside an operation, steps
whose dependencies are done run in parallel, at most one mutating the cluster at a time (the planner chains them).
A create or pool change whose new nodes do not fit the region's quota fails before its first write (quota.py).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.operations import StepSpec, extract, needed_outputs, resolve, runnable, secret_names
from shared.engine.adopt import adoptable, current_body, put_once
from shared.engine.finish import finish_operation
from shared.engine.history import History
from shared.engine.lifecycle import LifecycleSink
from shared.engine.ports import ArmPort, Clock, SecretStore, StateStore, StepQueue
from shared.engine.records import (
    ACTIVE_PARTITION,
    OPERATION_ROW,
    STEP_PREFIX,
    TERMINAL_OPS,
    Loaded,
    OperationRecord,
    StepRecord,
)
from shared.engine.registry import ClusterRegistry
from shared.engine.start_checks import start_refusal
from shared.engine.target_rules import delete_resource, edit_target, skipped_edit
from shared.errors import FatalError, PreconditionFailedError, RetryableError, backoff_delay, classify
from shared.failpoints import hit

log = logging.getLogger("aksvend.engine")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    poll_interval_seconds: float = 15.0  # AKS sends no Retry-After; the SDK's own default is 30 s
    lease_seconds: float = 300.0  # a step not heard of this long after its due time is re-enqueued
    step_deadline_seconds: float = 3 * 3600.0
    backoff_base_seconds: float = 2.0
    max_backoff_seconds: float = 300.0
    min_delay_seconds: float = 0.0
    storage_backoff_cap_seconds: float = 60.0  # a message sent again while aksvend's storage fails (delivery.py)


class Engine:
    def __init__(self, *, operations: StateStore, clusters: StateStore, queue: StepQueue, arm: ArmPort,
                 clock: Clock, secrets: SecretStore, settings: EngineSettings | None = None,
                 rng: random.Random | None = None, lifecycle: LifecycleSink | None = None) -> None:
        self.ops = operations
        self.registry = ClusterRegistry(clusters)
        self.queue = queue
        self.arm = arm
        self.clock = clock
        self.secrets = secrets
        self.settings = settings or EngineSettings()
        self.rng = rng or random.Random()
        self.history = History(operations, clock, self.rng)
        self.lifecycle = lifecycle  # lifecycle events of its transitions (the outbox); None: not recorded
        self.after_failure: Callable[[OperationRecord], Awaitable[None]] | None = None  # cleanup.py sets it

    async def load(self, op_id: str) -> Loaded | None:
        rows = await self.ops.query_partition(op_id)
        op_row = next((r for r in rows if r.entity["RowKey"] == OPERATION_ROW), None)
        if op_row is None:
            return None
        return Loaded.from_rows(OperationRecord.from_entity(op_row.entity, op_row.etag),
                                [StepRecord.from_entity(r.entity, r.etag) for r in rows
                                 if r.entity["RowKey"].startswith(STEP_PREFIX)])

    # ---- messages ------------------------------------------------------------------------------------------
    async def handle(self, message: Mapping[str, Any]) -> None:
        """A provisioning-steps message: {"op", "step"} (a poll's also names the step's lease: a copy is dropped
        once the step moved on, so duplicates never multiply the polls) or {"op", "start": true}."""
        op_id = message.get("op")
        if not isinstance(op_id, str):
            log.warning("dropping a step message without an operation id")
            return
        if message.get("start"):
            await self.start(op_id)
            return
        loaded = await self.load(op_id)
        step_id = message.get("step")
        if loaded is None or loaded.op.state in TERMINAL_OPS or not isinstance(step_id, str):
            return
        step = loaded.steps.get(step_id)
        if (step is None or step.state not in ("ready", "running") or loaded.op.state != "running"
                or message.get("lease", step.lease_token) != step.lease_token):
            return  # a duplicate or stale message: the saved state says there is nothing to do
        if step.phase == "begin":
            await self._begin(loaded, step)
        else:
            await self._monitor(loaded, step)

    async def send(self, op_id: str, step_id: str, delay: float = 0.0, lease: datetime | None = None) -> None:
        message = {"op": op_id, "step": step_id, **({"lease": lease.isoformat()} if lease is not None else {})}
        await self.queue.send(message, visibility_timeout=max(delay, 0.0))

    async def active_operations(self) -> list[str]:
        """The ids of the operations not yet finished (the sweeper's work list)."""
        return [v.entity["RowKey"] for v in await self.ops.query_partition(ACTIVE_PARTITION)]

    # ---- starting an operation -------------------------------------------------------------------------------
    async def start(self, op_id: str) -> None:
        """Run the operation if it heads its cluster's queue, then make its runnable steps ready and send them.
        Safe to repeat: a crash between the two halves is finished by the next start or sweep."""
        loaded = await self.load(op_id)
        if loaded is None or loaded.op.state not in ("queued", "running"):
            return
        if loaded.op.state == "queued":
            cluster = await self.registry.get(loaded.op.cluster)
            if cluster is None or not cluster.queue or cluster.queue[0] != op_id:
                return  # it waits; the operation ahead of it starts it when it ends
            op = loaded.op.started(self.clock.now())
            try:
                await self.ops.update_if_match(op.to_entity(), loaded.op.etag or "*")
            except PreconditionFailedError:
                return
            hit("engine.operation.started")
            await self.history.record(op.id, "running", "operation started")
        if (refusal := await start_refusal(self, loaded)) is not None and (fresh := await self.load(op_id)):
            await finish_operation(self, fresh, refusal)  # nothing was made (start_checks.py)
            return
        await self.advance(op_id)

    async def advance(self, op_id: str) -> None:
        """Make waiting steps whose dependencies are done ready and send them, or finish the operation when every
        step succeeded. Idempotent: after a step ends, at start, and from the sweeper (a crash between saving a
        step and advancing would otherwise leave its dependents waiting forever)."""
        loaded = await self.load(op_id)
        if loaded is None or loaded.op.state != "running":
            return
        succeeded = {s for s, r in loaded.steps.items() if r.state == "succeeded"}
        if succeeded == set(loaded.specs):
            await finish_operation(self, loaded, None)
            return
        waiting = {s for s, r in loaded.steps.items() if r.state == "waiting"}
        now = self.clock.now()
        for step_id in runnable(loaded.specs.values(), succeeded, waiting):
            ready = loaded.steps[step_id].ready(self._lease_from(now),
                                                now + timedelta(seconds=self.settings.step_deadline_seconds))
            if await self.save_step(ready) is not None:
                hit("engine.step.ready")
                await self.send(op_id, step_id)

    async def fail_step(self, loaded: Loaded, step: StepRecord, err: FatalError) -> None:
        """The step failed for good: so does its operation, whose other steps are cancelled."""
        failed = await self.save_step(step.failed(self.clock.now(), err))
        if failed is None:
            return
        await self.history.record(step.op_id, "step", f"{step.id} failed: {err.code}")
        fresh = await self.load(step.op_id)
        if fresh is not None:
            await finish_operation(self, fresh, {"code": err.code, "message": err.message or err.code,
                                                 "step": step.id})

    async def save_step(self, step: StepRecord) -> StepRecord | None:
        """Write the step if nobody moved it since it was read (its etag); None: someone did, and their state wins."""
        try:
            return step.with_(etag=await self.ops.update_if_match(step.to_entity(), step.etag or "*"))
        except PreconditionFailedError:
            return None

    def _lease_from(self, now: datetime, delay: float = 0.0) -> datetime:
        """When the sweeper resends a step whose message is due `delay` seconds after `now` and was not heard of."""
        return now + timedelta(seconds=delay + self.settings.lease_seconds)

    # ---- begin and monitor -------------------------------------------------------------------------------------
    async def _begin(self, loaded: Loaded, step: StepRecord) -> None:
        now = self.clock.now()
        if step.sending_until is not None and step.sending_until > now:  # another delivery's request is in flight
            await self.send(step.op_id, step.id, (step.sending_until - now).total_seconds())
            return
        claimed = await self.save_step(step.sending(now + timedelta(seconds=self.settings.lease_seconds)))
        if claimed is None:
            return  # another delivery moved it first
        step, spec, unsent = claimed, loaded.specs[step.id], step.attempts == 0 and step.sending_until is None
        try:
            if (found := await adoptable(self, loaded, spec)) is not None:  # a retry adopts what ARM has (adopt.py)
                await self._succeed(loaded, step.adopted(spec.resource_id, now), found)
                return
            if spec.edit is not None:  # a service endpoint target's VNet rules: edited, never PUT or deleted
                result = await edit_target(self, loaded, spec)
            elif spec.action == "put":  # a create's first cluster PUT only if ARM has none (adopt.py)
                result = await put_once(self, loaded, spec, unsent, await self._resolved_body(loaded, spec))
            else:
                result = await delete_resource(self, loaded, spec)  # a shared DNS zone and link: guarded
        except RetryableError as err:
            await self.retry_step(loaded, step, err)
            return
        except FatalError as err:
            await self.fail_step(loaded, step.tried(), err)
            return
        hit("engine.begin.sent")
        running = step.began(result.poll_url, spec.resource_id, now, skipped_edit(result))
        if result.poll_url is None and result.provisioning_state in (None, "Succeeded"):
            await self._succeed(loaded, running)
            return
        await self._wait(running, result.retry_after)
        hit("engine.begin.saved")

    async def _monitor(self, loaded: Loaded, step: StepRecord) -> None:
        spec = loaded.specs[step.id]
        try:
            if step.poll_url:
                polled = await self.arm.poll(spec.resource_type, step.poll_url)
                status, retry_after = polled.status, polled.retry_after
                code, message = polled.error_code, polled.error_message
            else:  # no operation URL: watch the resource's own provisioningState
                resource = await self.arm.get(spec.resource_type, spec.resource_id, spec.api_version)
                state = ((resource or {}).get("properties") or {}).get("provisioningState", "Succeeded")
                gone = resource is None and spec.action == "delete"
                status = "Succeeded" if gone or state == "Succeeded" else state if state in (
                    "Failed", "Canceled") else "InProgress"
                retry_after, code, message = None, state, f"provisioningState {state}"
        except RetryableError as err:
            await self._wait(step.polled(err), err.delay_seconds)
            return
        except FatalError as err:
            await self.fail_step(loaded, step, err)
            return
        if status == "InProgress":
            await self._wait(step.polled(), retry_after)
            hit("engine.monitor")
        elif status == "Succeeded":
            await self._succeed(loaded, step)
        else:
            outcome = classify(200, code or "OperationFailed", message, None)
            if isinstance(outcome, RetryableError):
                await self.retry_step(loaded, step.restarted(), outcome, counted=True)
            else:
                await self.fail_step(loaded, step, outcome)

    async def _resolved_body(self, loaded: Loaded, spec: StepSpec) -> Any:
        outputs = {loaded.specs[s].resource_key: rec.outputs for s, rec in loaded.steps.items()
                   if rec.state == "succeeded"}
        secret_values: dict[str, str] = {}
        for name in secret_names(spec.body):
            secret_values[name] = await self.secrets.get_or_create(loaded.op.cluster, name)
        return await current_body(self.arm, spec, resolve(spec.body, outputs, secret_values.__getitem__))

    async def _wait(self, step: StepRecord, retry_after: float | None) -> None:
        delay = max(retry_after if retry_after is not None else self.settings.poll_interval_seconds,
                    self.settings.min_delay_seconds)
        if saved := await self.save_step(step.rescheduled(self._lease_from(self.clock.now(), delay))):
            await self.send(step.op_id, step.id, delay, lease=saved.lease_until)

    async def retry_step(self, loaded: Loaded, step: StepRecord, err: RetryableError,
                         counted: bool = False) -> None:
        """Try the step again after a backoff, or fail it at its deadline; the failed try is one attempt either
        way (`counted`: already counted, an accepted request whose ARM operation failed)."""
        now = self.clock.now()
        retried = step.retried(err, counted)
        if step.deadline and now >= step.deadline:
            await self.fail_step(loaded, retried, FatalError("StepDeadlineExceeded",
                                                             f"still failing at the step deadline: {err}"))
            return
        delay = backoff_delay(retried.attempts - 1, self.rng.random, base_seconds=self.settings.backoff_base_seconds,
                              cap_seconds=self.settings.max_backoff_seconds, retry_after=err.delay_seconds)
        await self.history.record(step.op_id, "retry",
                                  f"{step.id}: {err.code} (attempt {retried.attempts}, in {delay:.0f} s)")
        await self._wait(retried, delay)

    async def _succeed(self, loaded: Loaded, step: StepRecord, resource: Mapping[str, Any] | None = None) -> None:
        spec = loaded.specs[step.id]
        outputs: dict[str, Any] = dict(step.outputs)  # a skipped edit's (target_rules.py)
        wanted = needed_outputs(loaded.specs.values()).get(spec.resource_key)
        if wanted and spec.action == "put":
            try:  # `resource`: as ARM answered the GET that adopted it
                resource = resource or await self.arm.get(spec.resource_type, spec.resource_id, spec.api_version)
            except (RetryableError, FatalError) as err:
                await self._wait(step.errored(err), None)
                return
            outputs = extract(resource or {}, wanted)
        if (done := await self.save_step(step.succeeded(self.clock.now(), outputs))) is None:
            return
        hit("engine.step.done")  # the history at the step's end: a parallel step's finish can be written before it
        await self.history.record(step.op_id, "step", f"{step.id} succeeded", at=done.ended_at)
        await self.advance(step.op_id)
