"""Messages that could not become operations or steps (a refused cluster request, the poison queues): kept and
reported, never dropped. One row per message in the `rejected` table, partitioned by queue; the body is kept up to
Table Storage's property limit, the reason is the refusal when there is one.

The dead letters: a message the Functions host cannot bind (not base64, with the triggers' `messageEncoding:
base64`) fails on its queue and again on `<queue>-poison`, whose function cannot bind it either, and ends in
`<queue>-poison-poison`, which no trigger reads. `drain` (a timer) moves those into the same table, as received,
with why; a queue nothing ever reached does not exist and is skipped."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.engine import Engine, poisoned
from shared.engine.ports import Clock, StateStore
from shared.errors import RetryableError

log = logging.getLogger("aksvend.rejected")
MAX_KEPT_CHARS = 30_000  # a Table Storage string property holds 64 KiB of UTF-16
DEAD_SUFFIX = "-poison-poison"
DRAIN_BATCHES = 10  # of 32 messages, per queue and run: a run stays short; the next run takes the rest


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message as the queue holds it: its text is not decoded, since not decoding is why it is here."""

    id: str
    receipt: str
    text: str
    deliveries: int


class DeadLetters(Protocol):
    """A `<queue>-poison-poison` queue, read raw (shared/adapters/dead_letters.py)."""

    @property
    def name(self) -> str: ...

    async def take(self, max_messages: int) -> list[DeadLetter]:
        """Up to `max_messages` messages, hidden for a while; [] when there are none or the queue does not exist."""
        ...

    async def remove(self, letter: DeadLetter) -> None: ...


class RejectedMessages:
    def __init__(self, table: StateStore, clock: Clock, dead_letters: Sequence[DeadLetters] = ()) -> None:
        self.table = table
        self.clock = clock
        self.dead_letters = tuple(dead_letters)

    async def record(self, message_id: str, body: bytes, reason: str, queue: str = "cluster-requests") -> None:
        text = body.decode("utf-8", errors="replace")
        await self.table.upsert({"PartitionKey": queue, "RowKey": message_id.replace("/", "_")[:512],
                                 "body": text[:MAX_KEPT_CHARS], "truncated": len(text) > MAX_KEPT_CHARS,
                                 "reason": reason[:1000], "at": self.clock.now()})
        log.warning("message %s of %s rejected: %s", message_id, queue, reason)

    async def list(self, queue: str = "cluster-requests") -> list[dict]:
        return [v.entity for v in await self.table.query_partition(queue)]

    async def drain(self) -> int:
        """Move the dead letters into the table (partition: the queue they were first sent to), each recorded
        before it is removed: a crash in between records it again under the same row. Returns how many moved."""
        moved = 0
        for dead in self.dead_letters:
            queue = dead.name.removesuffix(DEAD_SUFFIX)
            for _ in range(DRAIN_BATCHES):
                letters = await dead.take(32)
                for letter in letters:
                    await self.record(letter.id, letter.text.encode("utf-8"), (
                        f"moved to {dead.name} after failing every delivery on {queue} and {queue}-poison: the "
                        f"Functions host could not bind it (the triggers read base64 text) or the poison function "
                        f"raised; kept as received"), queue=queue)
                    await dead.remove(letter)
                moved += len(letters)
                if not letters:
                    break
        return moved


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
