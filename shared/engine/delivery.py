"""A step message's delivery when aksvend's own storage fails, and the poison queue (docs/engine.md, "Faults").

`deliver(engine, message)` is what the queue trigger calls. A `RetryableError` that leaves `Engine.handle` comes
from storage or transport (Table Storage 503 `ServerBusy`, a refused connection: ARM's own failures are handled
inside the step), and it says nothing about the step. So it must not burn the message's delivery count, which
host.json's `maxDequeueCount` (5) turns into the poison queue within seconds (`visibilityTimeout` is 0). Instead
the message is sent again with a backoff delay (exponential, jittered, capped at `storage_backoff_cap_seconds`)
and the current one completes; the message carries its retry count and the time its trouble began, because
storage, where the step's record is, may be what is down. Past `step_deadline_seconds` of trouble it raises.

If sending fails too (the queue service is down as well), the original error is raised: the host makes the
message visible again and its delivery count grows. While the queue is down nothing is received either, so only
a flapping outage burns deliveries; what reaches the poison queue is decided by `poisoned` from the saved step,
and a step whose message is lost altogether is sent again by the sweeper once its lease has passed.

`poisoned(engine, message)`: a step message failed every delivery. The operation fails only when the saved state
says the step cannot go on (it is past its deadline); otherwise the step is retried with backoff like any other
retryable failure, and the reason (the last error of the step) is kept in its record and its history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.engine.engine import Engine
from shared.engine.finish import finish_operation
from shared.engine.records import TERMINAL_OPS
from shared.errors import AksvendError, FatalError, RetryableError, backoff_delay

log = logging.getLogger("aksvend.engine.delivery")
RETRIES = "storageRetries"
SINCE = "storageTroubleSince"
MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount (tests/unit/test_delivery.py holds them equal)


async def deliver(engine: Engine, message: Mapping[str, Any]) -> None:
    """Handle one step message; a storage or transport failure sends it again later instead of raising."""
    try:
        await engine.handle(message)
    except RetryableError as err:
        await _later(engine, message, err)


async def _later(engine: Engine, message: Mapping[str, Any], err: RetryableError) -> None:
    now = engine.clock.now()
    counted = message.get(RETRIES)
    retries = counted if isinstance(counted, int) and counted >= 0 else 0
    since = min(_when(message.get(SINCE)) or now, now)  # a time in the future (forged) cannot defer the deadline
    if now - since > timedelta(seconds=engine.settings.step_deadline_seconds):
        raise err  # in trouble for longer than any step may take: the deliveries and the poison queue decide
    delay = backoff_delay(retries, engine.rng.random, base_seconds=engine.settings.backoff_base_seconds,
                          cap_seconds=engine.settings.storage_backoff_cap_seconds, retry_after=err.delay_seconds)
    again = {**message, RETRIES: retries + 1, SINCE: since.isoformat()}
    try:
        await engine.queue.send(again, visibility_timeout=delay)
    except AksvendError:
        log.warning("storage failed (%s) and the message could not be sent again: it comes back", err.code)
        raise err from None
    log.warning("storage failed (%s) handling %s: sent again in %.1f s (retry %d)", err.code,
                message.get("step") or "a start", delay, retries + 1)


def _when(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


async def poisoned(engine: Engine, message: Mapping[str, Any]) -> str | None:
    """A step message failed `MAX_DEQUEUE_COUNT` deliveries. Retry its step, or fail the operation when the saved
    state says the step cannot go on. Returns why nothing could be done when the message names no operation of
    aksvend's (the caller records it as rejected), else None."""
    op_id, step_id = message.get("op"), message.get("step")
    if not isinstance(op_id, str) or not op_id:
        return "the message names no operation (\"op\")"
    loaded = await engine.load(op_id)
    if loaded is None:
        return f"operation {op_id} does not exist"
    if loaded.op.state in TERMINAL_OPS:
        return None  # it ended meanwhile: a stale message
    step = loaded.steps.get(step_id) if isinstance(step_id, str) else None
    reason = (f"the message for step {step_id or '(start)'} failed {MAX_DEQUEUE_COUNT} deliveries "
              f"(host.json maxDequeueCount)")
    if step is None:  # a start message: the sweeper starts the operation; fail it only once it is too old
        if engine.clock.now() - loaded.op.created_at > timedelta(seconds=engine.settings.step_deadline_seconds):
            await finish_operation(engine, loaded, {"code": "PoisonMessage", "message": reason, "step": step_id})
        else:
            await engine.queue.send({"op": op_id, "start": True}, visibility_timeout=engine.settings.lease_seconds)
        return None
    if step.state not in ("ready", "running"):
        return None  # done, cancelled or not yet due: the saved state says there is nothing to do
    now = engine.clock.now()
    if step.sending_until is not None and step.sending_until > now:  # its request is in flight: not a second one
        await engine.send(op_id, step.id, (step.sending_until - now).total_seconds())
        return None
    last = step.last_error or {}
    if last:
        reason += f"; last error {last.get('code')}: {last.get('message')}"
    if step.deadline is not None and engine.clock.now() >= step.deadline:
        await engine.fail_step(loaded, step.tried(),  # the spent round is an attempt, as when it is retried
                               FatalError("PoisonMessage", reason + "; the step is past its deadline"))
    else:
        await engine.retry_step(loaded, step, RetryableError("PoisonMessage", reason))
    return None
