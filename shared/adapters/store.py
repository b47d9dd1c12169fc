"""The StateStore port on Azure Table Storage (azure-data-tables, async client).

Choices, and why:

* Optimistic concurrency: conditional writes send `If-Match: <etag>` (MatchConditions.IfNotModified); 412, and
  404 on an update, become `PreconditionFailedError` so that a worker that lost a race re-reads instead of
  overwriting. An insert that finds the entity becomes `ConflictError`. Updates replace the whole entity
  (UpdateMode.REPLACE): a merge would keep properties the writer meant to drop.
* Nested values (lists, dicts) are stored as JSON strings in a property named `<name>__json`, decoded on read;
  the suffix is reserved. Integers beyond 32 bits are sent as Edm.Int64 (the SDK refuses them otherwise);
  datetimes must be timezone-aware and read back as UTC.
* Size limits are checked before sending and fail with `PayloadTooLargeError` naming the property, never the
  value: 64 KiB per string property, 1 MiB per entity (sizes as Table Storage counts them: UTF-16), 252
  properties. We do not split large values across properties or rows: a step record that large is a design
  error (plans and templates belong in blob storage), and splitting would break the atomicity of one
  conditional write per entity.
* Keys and property names are validated the same way (`ValueError`), so the in-memory fake, which uses the
  same codec, refuses exactly what Azure refuses.
* The table is created on first use. Other storage failures go through `shared.adapters.sdk_errors` (transient
  ones become `RetryableError`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import EdmType, EntityProperty, TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from shared.adapters.sdk_errors import Special, error_code, sdk_errors
from shared.engine.ports import PARTITION_KEY, ROW_KEY, Entity, Versioned
from shared.errors import ConflictError, PayloadTooLargeError, PreconditionFailedError

__all__ = ["JSON_SUFFIX", "AzureTableStateStore", "decode_entity", "encode_entity", "entity_size"]

JSON_SUFFIX = "__json"
MAX_PROPERTY_BYTES = 64 * 1024
MAX_ENTITY_BYTES = 1024 * 1024
MAX_CUSTOM_PROPERTIES = 252
MAX_KEY_CHARS = 512  # 1 KiB in UTF-16
_INT32 = range(-(2**31), 2**31)
_INT64 = range(-(2**63), 2**63)
_PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}\Z")
_FORBIDDEN_KEY_CHARS = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
_RESERVED_NAMES = frozenset({PARTITION_KEY, ROW_KEY, "Timestamp"})

MAX_BATCH = 100  # Table Storage: at most 100 operations per entity-group transaction


def encode_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `entity` and flatten it into Table Storage property values (nested values become JSON)."""
    _check_key(entity, PARTITION_KEY)
    _check_key(entity, ROW_KEY)
    flat: dict[str, Any] = {PARTITION_KEY: entity[PARTITION_KEY], ROW_KEY: entity[ROW_KEY]}
    for name, value in entity.items():
        if name in (PARTITION_KEY, ROW_KEY) or value is None:
            continue
        _check_property_name(name)
        if isinstance(value, list | tuple | dict):
            flat[name + JSON_SUFFIX] = _check_scalar(name, json.dumps(value, separators=(",", ":"), allow_nan=False))
        else:
            flat[name] = _check_scalar(name, value)
    properties = len(flat) - 2
    if properties > MAX_CUSTOM_PROPERTIES:
        raise PayloadTooLargeError(f"entity has {properties} properties; Table Storage allows {MAX_CUSTOM_PROPERTIES}")
    size = entity_size(flat)
    if size > MAX_ENTITY_BYTES:
        raise PayloadTooLargeError(f"entity is {size} bytes; Table Storage allows {MAX_ENTITY_BYTES}")
    return flat


def decode_entity(flat: Mapping[str, Any]) -> Entity:
    """The inverse of `encode_entity`, also unwrapping what the SDK returns (Int64, datetime subclasses)."""
    entity: Entity = {}
    for name, value in flat.items():
        if isinstance(value, EntityProperty):
            value = value.value
        if isinstance(value, datetime):
            value = datetime.combine(value.date(), value.timetz()).astimezone(UTC)
        if name.endswith(JSON_SUFFIX):
            entity[name.removesuffix(JSON_SUFFIX)] = json.loads(value)
        else:
            entity[name] = value
    return entity


def entity_size(flat: Mapping[str, Any]) -> int:
    """Bytes the entity takes by Table Storage's own formula (strings count as UTF-16)."""
    size = 4 + 2 * (len(flat[PARTITION_KEY]) + len(flat[ROW_KEY]))
    for name, value in flat.items():
        if name not in (PARTITION_KEY, ROW_KEY):
            size += 8 + 2 * len(name) + _value_size(value)
    return size


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return 4 + len(value.encode("utf-16-le"))
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 4 if value in _INT32 else 8
    return 8  # float, datetime


def _check_key(entity: Mapping[str, Any], name: str) -> None:
    key = entity.get(name)
    if not isinstance(key, str):
        raise ValueError(f"{name} must be a string")
    if len(key) > MAX_KEY_CHARS or _FORBIDDEN_KEY_CHARS.search(key):
        raise ValueError(f"{name} must be at most {MAX_KEY_CHARS} characters without / \\ # ? or control characters")


def _check_property_name(name: str) -> None:
    if not isinstance(name, str) or not _PROPERTY_NAME.match(name) or name in _RESERVED_NAMES:
        raise ValueError(f"invalid property name {name!r}: letters, digits and _ only, not a reserved name")
    if name.endswith(JSON_SUFFIX):
        raise ValueError(f"property names ending in {JSON_SUFFIX!r} are reserved")


def _check_scalar(name: str, value: Any) -> Any:
    if isinstance(value, str):
        if len(value.encode("utf-16-le")) > MAX_PROPERTY_BYTES:
            raise PayloadTooLargeError(f"property {name!r} exceeds {MAX_PROPERTY_BYTES} bytes")
        return value
    if isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        if value not in _INT64:
            raise ValueError(f"property {name!r} does not fit a 64-bit integer")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"property {name!r} is a naive datetime; use a timezone-aware one")
        return value.astimezone(UTC)
    raise TypeError(f"property {name!r} has unsupported type {type(value).__name__}")


def _to_sdk(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Mark integers beyond 32 bits as Int64: the SDK would refuse them as Int32."""
    return {
        name: EntityProperty(value, EdmType.INT64)
        if isinstance(value, int) and not isinstance(value, bool) and value not in _INT32
        else value
        for name, value in flat.items()
    }


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
            written = await self._client.create_entity(_to_sdk(flat))
        return _etag(written)

    async def insert_batch(self, entities: Sequence[Mapping[str, Any]]) -> None:
        flats = [encode_entity(e) for e in entities]
        if not flats:
            return
        if len(flats) > MAX_BATCH or len({f[PARTITION_KEY] for f in flats}) != 1:
            raise ValueError(f"a batch holds 1-{MAX_BATCH} entities of one partition")
        await self._ensure_table()
        with sdk_errors({TableTransactionError: _batch_conflict}):
            await self._client.submit_transaction([("create", _to_sdk(f)) for f in flats])

    async def update_if_match(self, entity: Mapping[str, Any], etag: str) -> str:
        flat = encode_entity(entity)
        await self._ensure_table()
        stale = _stale(flat[PARTITION_KEY], flat[ROW_KEY])
        with sdk_errors({ResourceModifiedError: stale, ResourceNotFoundError: stale}):
            written = await self._client.update_entity(
                _to_sdk(flat), mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        return _etag(written)

    async def upsert(self, entity: Mapping[str, Any]) -> str:
        flat = encode_entity(entity)
        await self._ensure_table()
        with sdk_errors():
            written = await self._client.upsert_entity(_to_sdk(flat), mode=UpdateMode.REPLACE)
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
        _check_property_name(property_name)
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
