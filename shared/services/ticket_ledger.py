"""The ticket ledger: which revision of each ticket aksvend acted on, kept after the ticket's cluster is deleted,
so that neither a replay nor a status change nor a late delivery acts again (shared/domain/tickets/revision.py
decides; this module reads and writes).

Layout, in the `clusters` table beside the registry's rows (which are never removed either, so the ledger lives
as long as what it protects, and needs no table of its own):

  PartitionKey "ticket-<system>"  RowKey sha256(ticket key)  `ticket` (the key), `revision` (the ticket's `updated`
                                  time or sequence last acted on, or seen by a status change after it), `fields`
                                  (hash of the requested fields acted on), `operationId`, `cluster` (the engine's
                                  cluster key), `at`.

A row is written after its operation was submitted: a crash in between leaves no row, and the sender's retry
submits again, which the engine answers with the same operation (the idempotency key is the fields' hash). Every
write is etag-conditioned; of two concurrent writers the newer revision stays.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from shared.domain.tickets import TicketRef
from shared.domain.tickets.revision import BEFORE_DELETION, UNCHANGED, Processed, is_newer, judge, older_than_deletion
from shared.engine.ports import PARTITION_KEY, ROW_KEY, Clock, Entity, StateStore
from shared.engine.records import ClusterRecord
from shared.errors import ConflictError, PreconditionFailedError

__all__ = ["LEDGER_PREFIX", "ClusterLookup", "Known", "TicketLedger", "ledger_address"]

LEDGER_PREFIX = "ticket-"
MAX_WRITE_ATTEMPTS = 5
_GONE = ("deleting", "deleted")


class ClusterLookup(Protocol):
    """The registry's read of one cluster (`ClusterRegistry.get`)."""

    async def __call__(self, key: str) -> ClusterRecord | None: ...


@dataclass(frozen=True, slots=True)
class Known:
    """Why a delivery is a no-op, and what is known: the operation acted on and its cluster's state."""

    reason: str
    operation_id: str | None
    cluster: Mapping[str, str] | None


def ledger_address(ref: TicketRef) -> tuple[str, str]:
    """(PartitionKey, RowKey) of a ticket's row: ticket keys hold characters Table keys refuse (`/`, `#`)."""
    return f"{LEDGER_PREFIX}{ref.system}", hashlib.sha256(ref.key.encode()).hexdigest()


class TicketLedger:
    """One row per (system, ticket): the revision acted on. `judge` before acting, `acted` after."""

    def __init__(self, store: StateStore, clusters: ClusterLookup, clock: Clock) -> None:
        self.store = store
        self.clusters = clusters
        self.clock = clock

    async def judge(self, ref: TicketRef, fields: str) -> Known | None:
        """None: act on this delivery. Known: a no-op. A status change (newer, same fields) moves the row's
        revision on, so that an older delivery arriving later is still older."""
        row, etag = await self._read(ref)
        reason = judge(row, ref.revision, fields)
        if reason is None or row is None:
            return None
        if reason == UNCHANGED and etag is not None:
            # Lost to another delivery of this ticket that moved it on meanwhile: either way this one is a no-op.
            with contextlib.suppress(PreconditionFailedError):
                await self.store.update_if_match(self._entity(ref, Processed(
                    ref.revision, row.fields, row.operation_id, row.cluster)), etag)
        return Known(reason, row.operation_id, await self._cluster(row.cluster))

    async def deleted_since(self, ref: TicketRef, cluster_key: str) -> Known | None:
        """Known when the cluster this delivery asks for was deleted (or is being deleted) after the ticket's
        revision was written: such a delivery never creates it again."""
        cluster = await self.clusters(cluster_key)
        if cluster is None or cluster.state not in _GONE or not older_than_deletion(ref.revision,
                                                                                   cluster.updated_at):
            return None
        row, _ = await self._read(ref)
        return Known(BEFORE_DELETION, row.operation_id if row else None, _view(cluster))

    async def acted(self, ref: TicketRef, fields: str, operation_id: str | None, cluster_key: str) -> None:
        """Record that this revision was acted on (`operation_id` None: refused, and the ticket told so); a newer
        revision recorded meanwhile is left as it is."""
        entity = self._entity(ref, Processed(ref.revision, fields, operation_id, cluster_key))
        for _ in range(MAX_WRITE_ATTEMPTS):
            row, etag = await self._read(ref)
            try:
                if etag is None:
                    await self.store.insert(entity)
                elif row is not None and row.revision != ref.revision and not is_newer(ref.revision, row.revision):
                    return
                else:
                    await self.store.update_if_match(entity, etag)
                return
            except (ConflictError, PreconditionFailedError):
                continue
        raise PreconditionFailedError(f"ticket {ref.system}: too many concurrent deliveries")

    async def _read(self, ref: TicketRef) -> tuple[Processed | None, str | None]:
        found = await self.store.get(*ledger_address(ref))
        if found is None:
            return None, None
        e = found.entity
        return Processed(str(e["revision"]), str(e["fields"]), e.get("operationId"), e.get("cluster")), found.etag

    async def _cluster(self, key: str | None) -> Mapping[str, str] | None:
        cluster = await self.clusters(key) if key else None
        return _view(cluster) if cluster is not None else None

    def _entity(self, ref: TicketRef, processed: Processed) -> Entity:
        partition, row = ledger_address(ref)
        return {PARTITION_KEY: partition, ROW_KEY: row, "ticket": ref.key, "revision": processed.revision,
                "fields": processed.fields, "operationId": processed.operation_id, "cluster": processed.cluster,
                "at": self.clock.now()}


def _view(cluster: ClusterRecord) -> dict[str, str]:
    return {"subscriptionId": cluster.subscription_id, "resourceGroup": cluster.resource_group,
            "name": cluster.name, "state": cluster.state}
