"""Messages that could not become operations (the poison queue of cluster-requests): kept and reported, never
dropped. One row per message in the `rejected` table; the body is kept up to Table Storage's property limit."""

from __future__ import annotations

import logging

from shared.engine.ports import Clock, StateStore

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
