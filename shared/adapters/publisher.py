"""The EventPublisher port on an Event Grid topic (azure-eventgrid, async `EventGridPublisherClient`).

Choices, and why:

* CloudEvents 1.0 schema (the topic must be created with input schema CloudEventSchemaV1_0). Events are sent as
  `azure.core.messaging.CloudEvent`, so the client posts one `application/cloudevents-batch+json` request.
* Authentication: a topic access key (`AzureKeyCredential`, header `aeg-sas-key`) or Entra ID (an async
  `TokenCredential`, e.g. the function app's managed identity with the "EventGrid Data Sender" role). The SDK
  sends bearer tokens only over https; keys also over http, which is what the local sink uses.
* Batches are split so that each request stays under Event Grid's 1 MB limit; an event that alone exceeds
  it is refused (`FatalError`) without being sent.
* Errors are mapped here, at the edge. Only 400 and 413 mean "these events can never be accepted"
  (`FatalError`); everything else, including 401/403/404, is `RetryableError`: a wrong key, a missing role
  assignment or a topic not yet created are fixed by an operator, and the outbox must keep the events until
  then rather than give up on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.messaging import CloudEvent
from azure.eventgrid.aio import EventGridPublisherClient

from shared.adapters.sdk_errors import sdk_errors, to_aksvend_error
from shared.domain.lifecycle import LifecycleEvent
from shared.errors import AksvendError, FatalError, RetryableError

__all__ = ["MAX_BATCH_BYTES", "EventGridPublisher", "to_cloud_event"]

# Event Grid accepts up to 1 MB per publish request; keep a margin for the JSON array and headers.
MAX_BATCH_BYTES = 1_000_000 - 16_384
_FATAL_STATUSES = frozenset({400, 413})


def to_cloud_event(event: LifecycleEvent) -> CloudEvent:
    return CloudEvent(
        source=event.source,
        type=event.type,
        data=dict(event.data),
        subject=event.subject or None,
        id=event.id,
        time=event.time,
        datacontenttype="application/json",
        extensions=dict(event.extensions) or None,
    )


class EventGridPublisher:
    """EventPublisher on one Event Grid topic; see the module docstring."""

    def __init__(self, client: EventGridPublisherClient, *, owns_client: bool = True,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        self._client = client
        self._owns_client = owns_client
        self._max_batch_bytes = max_batch_bytes

    @classmethod
    def with_key(cls, endpoint: str, key: str, **client_kwargs: Any) -> EventGridPublisher:
        """Publish with a topic access key (from a Key Vault reference in Azure)."""
        return cls(EventGridPublisherClient(endpoint, AzureKeyCredential(key), **client_kwargs))

    @classmethod
    def with_credential(cls, endpoint: str, credential: AsyncTokenCredential, **client_kwargs: Any,
                        ) -> EventGridPublisher:
        """Publish with Entra ID (managed identity needs "EventGrid Data Sender" on the topic)."""
        return cls(EventGridPublisherClient(endpoint, credential, **client_kwargs))

    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        for batch in self._batches(events):
            with sdk_errors({AzureError: _event_grid_error}):
                await self._client.send([to_cloud_event(e) for e in batch])

    def _batches(self, events: Sequence[LifecycleEvent]) -> Iterator[list[LifecycleEvent]]:
        batch: list[LifecycleEvent] = []
        size = 0
        for event in events:
            event_size = len(json.dumps(event.to_dict(), separators=(",", ":")).encode()) + 1
            if event_size > self._max_batch_bytes:
                raise FatalError("EventTooLarge", f"event {event.id} is {event_size} bytes; Event Grid allows 1 MB")
            if batch and size + event_size > self._max_batch_bytes:
                yield batch
                batch, size = [], 0
            batch.append(event)
            size += event_size
        if batch:
            yield batch

    async def close(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> EventGridPublisher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _event_grid_error(exc: AzureError) -> AksvendError:
    """Event Grid's reading of the general mapping: only 400 and 413 give up on the events (module docstring)."""
    status = exc.status_code if isinstance(exc, HttpResponseError) else None
    if status is not None and status not in _FATAL_STATUSES and 400 <= status < 500:
        return RetryableError(f"HTTP{status}", "Event Grid refused the request; an operator may need to fix the "
                                               "topic or its credential")
    mapped = to_aksvend_error(exc)
    if isinstance(mapped, FatalError) and status not in _FATAL_STATUSES:
        # The SDK refused locally (e.g. https required for a token): configuration, not the events.
        return RetryableError(mapped.code, mapped.message)
    return mapped
