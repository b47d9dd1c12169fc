"""The ports of the events use cases: outbound lifecycle events (see `shared.domain.lifecycle`), and the versioned
secrets the in-cluster agents' keys are kept in.

`EventPublisher.publish(events)` sends or durably records the events, in order, or raises. Implementations:

* `shared.services.outbox.Outbox`: records them in Table Storage in the same request that caused them; the
  sweeper drains the outbox to the real publisher. Services are given this one.
* `shared.adapters.publisher.EventGridPublisher`: sends them to an Event Grid topic (the outbox's target).

Errors (see `shared.errors`): `RetryableError` when trying again later can succeed (the topic is down,
throttled, or refuses our credential until someone fixes it), `FatalError` when these events can never be
accepted (too large, malformed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from shared.domain.lifecycle import LifecycleEvent

__all__ = ["EventPublisher", "SecretVersion", "VersionedSecrets"]


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        """Publish (or durably record) `events` in order; all of them or raise."""
        ...


@dataclass(frozen=True, slots=True)
class SecretVersion:
    """One version of a secret: its id and when it was created (never its value)."""

    version: str
    created: datetime


@runtime_checkable
class VersionedSecrets(Protocol):
    """Secrets with versions (Key Vault; the local stack's table): a new version rotates a secret, and earlier ones
    stay readable. Implementations: `shared.adapters.keyvault.KeyVaultSecretStore`,
    `shared.adapters.clock.TableSecretStore`. Values are never logged, returned by the API or put in an exception."""

    async def versions(self, scope: str, name: str) -> list[SecretVersion]:
        """Every enabled version of the secret `name` of `scope`, oldest first; [] when there is none."""
        ...

    async def value(self, scope: str, name: str, version: str) -> str | None:
        """The value of one version; None when it is gone or disabled."""
        ...

    async def add(self, scope: str, name: str, value: str) -> SecretVersion:
        """A new version with `value`: the latest from now on."""
        ...
