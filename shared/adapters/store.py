"""The StateStore port on Azure Table Storage (azure-data-tables, async client).

Choices, and why:

* Optimistic concurrency: conditional writes send `If-Match: <etag>` (MatchConditions.IfNotModified); 412, and
  404 on an update, become `PreconditionFailedError` so that a worker that lost a race re-reads instead of
  overwriting. An insert that finds the entity becomes `ConflictError`. Updates replace the whole entity
  (UpdateMode.REPLACE): a merge would keep properties the writer meant to drop.
* Entities go through shared/adapters/table_codec.py (nested values as JSON, Int64, UTC datetimes, keys, names
  and size limits checked before sending). We do not split large values across properties or rows: a step
  record that large is a design error (plans and templates belong in blob storage), and splitting would break
  the atomicity of one conditional write per entity.
* The table is created on first use. Other storage failures go through `shared.adapters.sdk_errors` (transient
  ones become `RetryableError`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from shared.adapters.sdk_errors import Special, error_code, sdk_errors
from shared.adapters.table_codec import (
    JSON_SUFFIX,
    MAX_BATCH,
    check_property_name,
    decode_entity,
    encode_entity,
    entity_size,
    to_sdk,
)
from shared.engine.ports import MAX_KEYS_PER_QUERY, PARTITION_KEY, ROW_KEY, Versioned
from shared.errors import ConflictError, PreconditionFailedError

__all__ = ["JSON_SUFFIX", "AzureTableStateStore", "decode_entity", "encode_entity", "entity_size"]

class AzureTableStateStore:
    """StateStore on one Azure table; see the module docstring for the choices."""

    def __init__(self, client: TableClient, *, owns_client: bool = True) -> None:
        self._client = client
        self._owns_client = owns_client
        self._table_ready = False
        self._table_lock = asyncio.Lock()

    @classmethod
    def from_connection_string(cls, conn_str: str, table_name: str, **client_kwargs: Any) -> AzureTableStateStore:
        return cls(TableClient.from_connection_string(conn_str, table_name, **client_kwargs))

    @property
    def table_name(self) -> str:
        return self._client.table_name

    async def close(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> AzureTableStateStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def get(self, partition_key: str, row_key: str) -> Versioned | None:
        await self._ensure_table()
        with sdk_errors():
            try:
                found = await self._client.get_entity(partition_key, row_key)
            except ResourceNotFoundError:
                return None
        return Versioned(decode_entity(found), _etag(found.metadata))

    async def insert(self, entity: Mapping[str, Any]) -> str:
        flat = encode_entity(entity)
        await self._ensure_table()
        exists = ConflictError(f"entity ({flat[PARTITION_KEY]}, {flat[ROW_KEY]}) already exists")
        with sdk_errors({ResourceExistsError: lambda _: exists}):
            written = await self._client.create_entity(to_sdk(flat))
        return _etag(written)

    async def insert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        await self._transaction(entities, lambda flat: ("create", to_sdk(flat)))

    async def upsert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        await self._transaction(entities, lambda flat: ("upsert", to_sdk(flat), {"mode": UpdateMode.REPLACE}))

    async def _transaction(self, entities: Sequence[Mapping[str, Any]],
                           operation: Callable[[dict[str, Any]], tuple[Any, ...]]) -> None:
        """One entity-group transaction: all written or none. Table Storage takes 1-100 entities of one partition."""
        flats = [encode_entity(e) for e in entities]
        if not flats:
            return
        if len(flats) > MAX_BATCH or len({f[PARTITION_KEY] for f in flats}) != 1:
            raise ValueError(f"a batch holds 1-{MAX_BATCH} entities of one partition")
        await self._ensure_table()
        with sdk_errors({TableTransactionError: _batch_conflict}):
            await self._client.submit_transaction([operation(f) for f in flats])

    async def get_many(self, partition_key: str, row_keys: Sequence[str]) -> dict[str, Versioned]:
        wanted = list(dict.fromkeys(row_keys))
        if not wanted:
            return {}
        await self._ensure_table()
        # Table Storage allows 15 comparisons in a filter: the partition key and up to 14 row keys per query.
        chunks = [wanted[n:n + MAX_KEYS_PER_QUERY] for n in range(0, len(wanted), MAX_KEYS_PER_QUERY)]
        found: dict[str, Versioned] = {}
        for part in await asyncio.gather(*(self._get_chunk(partition_key, chunk) for chunk in chunks)):
            found.update(part)
        return found

    async def _get_chunk(self, partition_key: str, chunk: Sequence[str]) -> dict[str, Versioned]:
        params: dict[str, Any] = {"pk": partition_key, **{f"r{i}": key for i, key in enumerate(chunk)}}
        rows = " or ".join(f"RowKey eq @r{i}" for i in range(len(chunk)))
        found: dict[str, Versioned] = {}
        with sdk_errors():  # the spaces inside the parentheses: the SDK reads a parameter name up to a space
            async for entity in self._client.query_entities(f"PartitionKey eq @pk and ( {rows} )", parameters=params):
                versioned = Versioned(decode_entity(entity), _etag(entity.metadata))
                found[versioned.entity[ROW_KEY]] = versioned
        return found

    async def update_if_match(self, entity: Mapping[str, Any], etag: str) -> str:
        flat = encode_entity(entity)
        await self._ensure_table()
        stale = _stale(flat[PARTITION_KEY], flat[ROW_KEY])
        with sdk_errors({ResourceModifiedError: stale, ResourceNotFoundError: stale}):
            written = await self._client.update_entity(
                to_sdk(flat), mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        return _etag(written)

    async def upsert(self, entity: Mapping[str, Any]) -> str:
        flat = encode_entity(entity)
        await self._ensure_table()
        with sdk_errors():
            written = await self._client.upsert_entity(to_sdk(flat), mode=UpdateMode.REPLACE)
        return _etag(written)

    async def delete_if_match(self, partition_key: str, row_key: str, etag: str) -> None:
        await self._ensure_table()
        # The SDK already treats 404 as success: deleting what is gone is idempotent.
        with sdk_errors({ResourceModifiedError: _stale(partition_key, row_key)}):
            await self._client.delete_entity(
                partition_key, row_key, etag=etag, match_condition=MatchConditions.IfNotModified
            )

    async def query_partition(self, partition_key: str) -> list[Versioned]:
        await self._ensure_table()
        with sdk_errors():
            return [
                Versioned(decode_entity(found), _etag(found.metadata))
                async for found in self._client.query_entities("PartitionKey eq @pk", parameters={"pk": partition_key})
            ]

    async def query_expired(self, partition_key: str, property_name: str, before: datetime,
                            limit: int) -> list[Versioned]:
        check_property_name(property_name)
        await self._ensure_table()
        found: list[Versioned] = []
        with sdk_errors():
            pages = self._client.query_entities(f"PartitionKey eq @pk and {property_name} le @before",
                                                parameters={"pk": partition_key, "before": before},
                                                results_per_page=min(max(limit, 1), 1000))
            async for entity in pages:
                found.append(Versioned(decode_entity(entity), _etag(entity.metadata)))
                if len(found) >= limit:
                    break
        return found

    async def query_range(self, partition_key: str, after: str | None, equal: Mapping[str, str],
                          limit: int) -> list[Versioned]:
        clauses, params = ["PartitionKey eq @pk"], {"pk": partition_key}
        if after is not None:
            clauses.append("RowKey gt @after")
            params["after"] = after
        for i, (name, value) in enumerate(equal.items()):
            check_property_name(name)
            clauses.append(f"{name} eq @v{i}")
            params[f"v{i}"] = value
        await self._ensure_table()
        found: list[Versioned] = []
        with sdk_errors():
            pages = self._client.query_entities(" and ".join(clauses), parameters=params,
                                                results_per_page=min(max(limit, 1), 1000))
            async for entity in pages:
                found.append(Versioned(decode_entity(entity), _etag(entity.metadata)))
                if len(found) >= limit:
                    break
        return found

    async def _ensure_table(self) -> None:
        if self._table_ready:
            return
        async with self._table_lock:
            if self._table_ready:
                return
            with sdk_errors(), contextlib.suppress(ResourceExistsError):
                await self._client.create_table()
            self._table_ready = True


def _stale(partition_key: str, row_key: str) -> Special:
    def stale(_: object) -> PreconditionFailedError:
        return PreconditionFailedError(f"entity ({partition_key}, {row_key}) changed or was deleted since it was read")

    return stale


def _batch_conflict(exc: TableTransactionError) -> ConflictError | None:
    if error_code(exc) == "EntityAlreadyExists":
        return ConflictError("an entity of the batch already exists; none was created")
    return None


def _etag(metadata: Mapping[str, Any]) -> str:
    """The etag the service returned with a write or a read (always present on a success)."""
    return str(metadata["etag"])
