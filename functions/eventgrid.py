"""Event Grid intake: the webhook (`POST`/`OPTIONS /api/events`, an APIRouter of the FastAPI app) and the Event
Grid trigger function `events` (Azure-native subscriptions; infra/ names it so). Both feed the event intake
(`Runtime.event_intake`, an `EventService`); this module only reads the request, calls the service, and maps
the outcome.

Answers: 200 with the validation code (Event Grid handshake) or a summary of what was recorded; 200 with
`WebHook-Allowed-Origin` / `WebHook-Allowed-Rate` for the CloudEvents `OPTIONS` handshake; 400 problem+json for
a malformed delivery (Event Grid dead-letters it), 401 without a sender's credentials (shared/services/events/
auth.py: Event Grid's Entra token, an agent's signature, the shared secret in local mode only), 403 for a token
without the Event Grid role or an event that sender may not deliver, 413/415 as for any body, 503 when storage or
the signing keys are unreachable or the cluster is busy with another decider (Event Grid retries). The Event Grid
trigger's events come from Event Grid (the Functions host checked its system key).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import azure.functions as func
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from functions import runtime
from functions.bodies import MAX_DELIVERY_BYTES, json_media, parse_json, read_body
from shared.domain.events.senders import EventGrid
from shared.refusals import Refused

if TYPE_CHECKING:
    from shared.services.events import EventService

log = logging.getLogger("aksvend.events")

router = APIRouter(tags=["events"])
bp = func.Blueprint()


async def service() -> EventService:
    return (await runtime.runtime()).event_intake


@router.options("/api/events", summary="CloudEvents webhook handshake")
async def events_handshake(request: Request) -> Response:
    """Event Grid's CloudEvents abuse-protection check: 200 with `WebHook-Allowed-Origin` and `-Rate`."""
    intake = await service()
    await intake.authenticate(request.headers, request.query_params, b"")
    return Response(status_code=200, headers=intake.webhook_handshake(request.headers))


@router.post("/api/events", summary="Receive Event Grid events")
async def events_webhook(request: Request) -> JSONResponse:
    """Cluster events (Event Grid or CloudEvents schema, or the subscription validation handshake) feed the
    reaction policy: 200 with what was recorded; 400 for a malformed delivery; 503 to be retried later."""
    from shared.services.events import Validation

    intake = await service()
    json_media(request)
    raw = await read_body(request, MAX_DELIVERY_BYTES)
    sender = await intake.authenticate(request.headers, request.query_params, raw)  # an agent signs the raw body
    outcome = await intake.handle_events(parse_json(raw), request.headers, intake.engine.clock.now(), sender=sender)
    if isinstance(outcome, Validation):
        return JSONResponse(outcome.body)
    return JSONResponse(outcome.to_dict())


@bp.event_grid_trigger(arg_name="event")
async def events(event: func.EventGridEvent) -> None:
    """One event of an Azure-native Event Grid subscription (the host answers the handshake itself)."""
    intake = await service()
    try:
        now = intake.engine.clock.now()
        outcome = await intake.handle_events([eventgrid_dict(event, now)], {}, now, sender=EventGrid())
    except Refused as refusal:  # retrying a malformed event cannot help: log the codes, never the payload
        codes = ", ".join(f"{v.path} {v.code}" for v in refusal.violations[:20])
        log.warning("Event Grid event %s refused: %s %s", event.id, refusal.code, codes)
        return
    log.info("Event Grid event %s: %s", event.id, getattr(outcome, "to_dict", lambda: outcome)())


def eventgrid_dict(event: func.EventGridEvent, now: datetime) -> dict[str, Any]:
    """The trigger's event back in Event Grid schema, as the webhook receives it."""
    time = event.event_time or now
    return {"id": event.id, "topic": event.topic, "subject": event.subject, "eventType": event.event_type,
            "eventTime": time.isoformat(), "data": event.get_json(),
            "dataVersion": event.data_version, "metadataVersion": "1"}
