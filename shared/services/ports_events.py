"""The port for outbound lifecycle events (see `shared.domain.lifecycle`).

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
from typing import Protocol

from shared.domain.lifecycle import LifecycleEvent

__all__ = ["EventPublisher"]


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        """Publish (or durably record) `events` in order; all of them or raise."""
        ...
