"""Messages that could not become operations or steps (a refused cluster request, the poison queues): kept and
reported, never dropped. One row per message in the `rejected` table, partitioned by queue; the body is kept up to
Table Storage's property limit, the reason is the refusal when there is one."""

from __future__ import annotations

import json
import logging
from typing import Any

from shared.engine import Engine, poisoned
from shared.engine.ports import Clock, StateStore
from shared.errors import RetryableError

log = logging.getLogger("aksvend.rejected")
MAX_KEPT_CHARS = 30_000  # a Table Storage string property holds 64 KiB of UTF-16


class RejectedMessages:
    def __init__(self, table: StateStore, clock: Clock) -> None:
        self.table = table
        self.clock = clock

    async def record(self, message_id: str, body: bytes, reason: str, queue: str = "cluster-requests") -> None:
        text = body.decode("utf-8", errors="replace")
        await self.table.upsert({"PartitionKey": queue, "RowKey": message_id.replace("/", "_")[:512],
                                 "body": text[:MAX_KEPT_CHARS], "truncated": len(text) > MAX_KEPT_CHARS,
                                 "reason": reason[:1000], "at": self.clock.now()})
        log.warning("message %s of %s rejected: %s", message_id, queue, reason)

    async def list(self, queue: str = "cluster-requests") -> list[dict]:
        return [v.entity for v in await self.table.query_partition(queue)]


STEPS_QUEUE = "provisioning-steps"


def step_message(body: bytes) -> dict[str, Any]:
    """A provisioning-steps message as the engine reads it; {} when it is not a JSON object (the engine drops it)."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def step_poisoned(engine: Engine, rejected: RejectedMessages, message_id: str, body: bytes) -> None:
    """provisioning-steps-poison: retry or fail the step its saved state says (`shared.engine.poisoned`). A message
    that is not JSON or names no operation is recorded as rejected with why, never raised: raising would move it
    to `provisioning-steps-poison-poison`, which nothing reads. A storage fault sends the message back to
    provisioning-steps with a delay (its handling decides from the saved state again); only if that fails too
    does it raise, and then the sweeper still sends the step again once its lease has passed."""
    message = step_message(body)
    try:
        why = await poisoned(engine, message) if message else "the message is not a JSON object"
    except RetryableError as err:
        await engine.queue.send(message, visibility_timeout=engine.settings.lease_seconds)
        log.warning("poisoned step message %s: storage failed (%s); sent back to %s", message_id, err.code, STEPS_QUEUE)
        return
    if why is not None:
        await rejected.record(message_id, body, f"poisoned on {STEPS_QUEUE}: {why}", queue=STEPS_QUEUE)
