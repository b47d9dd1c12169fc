"""An operation's history: one row per transition, an append-only audit trail shown with the operation.

Table `operations`, partition "<operation id>:history" (apart from the operation's own partition, so that
reading an operation to act on it never parses its history), RowKey "history:<time>:<random>": rows sort by
time, and two transitions in the same microsecond never overwrite each other. Writes are unconditional
upserts: a transition redone after a crash may be recorded twice, which an audit trail tolerates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from shared.engine.ports import Clock, StateStore

HISTORY_PREFIX = "history:"
MAX_MESSAGE_CHARS = 1000


def history_partition(op_id: str) -> str:
    return f"{op_id}:history"


@dataclass(frozen=True, slots=True)
class Transition:
    at: datetime | None
    kind: str | None  # queued | running | step | retry | adopted | retried | succeeded | failed
    message: str | None


class History:
    def __init__(self, table: StateStore, clock: Clock, rng: random.Random) -> None:
        self.table = table
        self.clock = clock
        self.rng = rng

    async def record(self, op_id: str, kind: str, message: str, at: datetime | None = None) -> None:
        """One transition, at `at` (when it happened; default now): rows sort by it, not by when they were written."""
        now = at or self.clock.now()
        row = f"{HISTORY_PREFIX}{now.strftime('%Y%m%dT%H%M%S.%f')}:{self.rng.randrange(16**6):06x}"
        await self.table.upsert({"PartitionKey": history_partition(op_id), "RowKey": row, "kind": kind,
                                 "message": message[:MAX_MESSAGE_CHARS], "at": now})

    async def read(self, op_id: str, newest: int) -> list[Transition]:
        """The `newest` latest transitions of the operation, oldest first."""
        rows = await self.table.query_partition(history_partition(op_id))
        return [Transition(r.entity.get("at"), r.entity.get("kind"), r.entity.get("message"))
                for r in rows[-newest:]]
