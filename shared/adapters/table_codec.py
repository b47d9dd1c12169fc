"""How entities are written to Azure Table Storage and read back (the StateStore's codec, shared by the Azure
adapter, shared/adapters/store.py, and the in-memory fake of the tests, so both refuse exactly what Azure refuses).

* Nested values (lists, dicts) are stored as JSON strings in a property named `<name>__json`, decoded on read;
  the suffix is reserved. Integers beyond 32 bits are sent as Edm.Int64 (the SDK refuses them otherwise);
  datetimes must be timezone-aware and read back as UTC.
* Size limits are checked before sending and fail with `PayloadTooLargeError` naming the property, never the
  value: 64 KiB per string property, 1 MiB per entity (sizes as Table Storage counts them: UTF-16), 252
  properties.
* Keys and property names are validated the same way (`ValueError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from azure.data.tables import EdmType, EntityProperty

from shared.engine.ports import PARTITION_KEY, ROW_KEY, Entity
from shared.errors import PayloadTooLargeError

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
        check_property_name(name)
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


def check_property_name(name: str) -> None:
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


def to_sdk(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Mark integers beyond 32 bits as Int64: the SDK would refuse them as Int32."""
    return {
        name: EntityProperty(value, EdmType.INT64)
        if isinstance(value, int) and not isinstance(value, bool) and value not in _INT32
        else value
        for name, value in flat.items()
    }
