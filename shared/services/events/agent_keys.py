"""The in-cluster agents' keys: one HMAC key per cluster, issued when the cluster is requested, kept in Key Vault
(the `VersionedSecrets` port), rotated by adding a version. Verification reads them through a small cache.

- `issue(cluster_id)`: a key unless the cluster has one (idempotent; `Clusters.create` calls it on every create,
  so a retried request issues what a failed attempt did not).
- `rotate(cluster_id)`: a new version; the earlier ones stay valid for `grace_seconds` after it (24 h by default),
  so agents can be rolled onto the new key. Returns the version id and time, never the value.
- `revoke(cluster_id)`: when the cluster is deleted: no earlier key verifies anything any more, at once (a
  marker version); a cluster created again under the name gets a new key from `issue`.
- `valid(cluster_id)`: the values that verify an agent's signature now: the latest version, and every earlier one
  whose successor is younger than the grace period. Cached per cluster for `cache_seconds` (a rotation is seen
  within that time; this instance's own rotation at once), so that ingest does not read Key Vault per request.

The secret of a cluster is `agent-key` in the scope of its cluster key (Key Vault name: shared/adapters/keyvault.py
`secret_name`, which docs/events.md shows how to find). Values are 256-bit random, base64url; never logged.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from shared.domain import armid
from shared.engine.ports import Clock
from shared.engine.records import cluster_key
from shared.services.ports_events import SecretVersion, VersionedSecrets

AGENT_KEY = "agent-key"
REVOKED = "revoked:"  # the value of a revocation marker (never a key: keys are base64url, without ':')
MAX_CACHED = 10_000


def cluster_id_of(subscription_id: str, resource_group: str, name: str) -> str:
    """The managed cluster's ARM id."""
    return armid.resource_id(subscription_id, resource_group, "Microsoft.ContainerService", "managedClusters", name)


def scope_of(cluster_id: str) -> str:
    """The secret scope of a cluster: its cluster key (the engine's, as for its other generated secrets)."""
    parsed = armid.parse(cluster_id)
    if parsed is None or parsed.resource_group is None:
        raise ValueError("not a cluster's ARM id")
    return cluster_key(parsed.subscription_id, parsed.resource_group, parsed.name)


class AgentKeys:
    def __init__(self, store: VersionedSecrets, clock: Clock, *, grace_seconds: float = 24 * 3600.0,
                 cache_seconds: float = 60.0) -> None:
        self.store = store
        self.clock = clock
        self.grace = timedelta(seconds=grace_seconds)
        self.cache_for = timedelta(seconds=cache_seconds)
        self._cache: dict[str, tuple[datetime, tuple[str, ...]]] = {}

    async def issue(self, cluster_id: str) -> None:
        scope = scope_of(cluster_id)
        versions = await self.store.versions(scope, AGENT_KEY)
        if not versions or _revoked(await self.store.value(scope, AGENT_KEY, versions[-1].version)):
            await self.store.add(scope, AGENT_KEY, secrets.token_urlsafe(32))
            self._cache.pop(scope, None)

    async def revoke(self, cluster_id: str) -> None:
        """No key of the cluster verifies anything any more, without a grace period (the cluster is being
        deleted): a revocation marker becomes the latest version, and versions before a marker are never valid.
        A cluster created again under the name gets a new key (`issue`)."""
        scope = scope_of(cluster_id)
        if await self.store.versions(scope, AGENT_KEY):
            await self.store.add(scope, AGENT_KEY, REVOKED + secrets.token_urlsafe(16))
        self._cache.pop(scope, None)

    async def rotate(self, cluster_id: str) -> SecretVersion:
        scope = scope_of(cluster_id)
        added = await self.store.add(scope, AGENT_KEY, secrets.token_urlsafe(32))
        self._cache.pop(scope, None)
        return added

    async def valid(self, cluster_id: str) -> tuple[str, ...]:
        scope = scope_of(cluster_id)
        now = self.clock.now()
        cached = self._cache.get(scope)
        if cached is not None and cached[0] > now:
            return cached[1]
        versions = await self.store.versions(scope, AGENT_KEY)
        cutoff = now - self.grace
        live = [v for i, v in enumerate(versions) if i == len(versions) - 1 or versions[i + 1].created > cutoff]
        values: list[str] = []
        for v in reversed(live):  # newest first: the key agents are most likely to sign with
            value = await self.store.value(scope, AGENT_KEY, v.version)
            if _revoked(value):
                break  # revoked: this version and every earlier one
            if value is not None:
                values.append(value)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[scope] = (now + self.cache_for, tuple(values))
        return tuple(values)


def _revoked(value: str | None) -> bool:
    return value is not None and value.startswith(REVOKED)
