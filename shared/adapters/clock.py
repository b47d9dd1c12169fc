"""The real clock and a local secret store (generated secrets, and versioned ones: the agents' keys)."""

from __future__ import annotations

import contextlib
import secrets
import string
import uuid
from datetime import UTC, datetime

from shared.engine.ports import StateStore
from shared.errors import ConflictError
from shared.services.ports_events import SecretVersion


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


_ALPHABET = string.ascii_letters + string.digits + "!@#%^*-_=+"


def generate_password(length: int = 24) -> str:
    """A password meeting Windows complexity: >= 14 characters with upper, lower, digit and symbol."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (any(c.isupper() for c in candidate) and any(c.islower() for c in candidate)
                and any(c.isdigit() for c in candidate) and any(not c.isalnum() for c in candidate)):
            return candidate


class TableSecretStore:
    """Secrets kept in a storage table, for the local stack only: in Azure they belong in Key Vault (see
    docs/deploy.md). Values are generated here, returned to the engine to put in one request body, and never
    logged, returned by the API or put in an exception."""

    def __init__(self, table: StateStore) -> None:
        self.table = table

    async def get_or_create(self, scope: str, name: str) -> str:
        row = f"{scope}|{name}".replace("/", "_")
        found = await self.table.get("secrets", row)
        if found is not None:
            return str(found.entity["value"])
        with contextlib.suppress(ConflictError):  # another worker made it first; use theirs
            await self.table.insert({"PartitionKey": "secrets", "RowKey": row, "value": generate_password()})
        found = await self.table.get("secrets", row)
        assert found is not None
        return str(found.entity["value"])

    # ---- VersionedSecrets (the agents' keys): one partition per secret, a row per version ----------------------
    @staticmethod
    def _partition(scope: str, name: str) -> str:
        return f"versions|{scope}|{name}".replace("/", "_")

    async def versions(self, scope: str, name: str) -> list[SecretVersion]:
        rows = await self.table.query_partition(self._partition(scope, name))
        return [SecretVersion(str(r.entity["RowKey"]), datetime.fromisoformat(str(r.entity["created"]))) for r in rows]

    async def value(self, scope: str, name: str, version: str) -> str | None:
        found = await self.table.get(self._partition(scope, name), version)
        return str(found.entity["value"]) if found is not None else None

    async def add(self, scope: str, name: str, value: str) -> SecretVersion:
        now = datetime.now(UTC)
        version = f"{int(now.timestamp() * 1_000_000):020d}-{uuid.uuid4().hex[:8]}"  # row keys sort by time
        await self.table.insert({"PartitionKey": self._partition(scope, name), "RowKey": version,
                                 "value": value, "created": now.isoformat()})
        return SecretVersion(version, now)
