"""Ticketing webhooks: `POST /api/webhooks/{system}` (jira, github, servicenow, generic).

Thin: read the raw body (bounded, functions/bodies.py), hand it with the headers to the runtime's `TicketIntake`
(`shared.services.tickets.handle_ticket`), map the outcome. The signature is over the exact bytes received, so
the body is read raw, never parsed by FastAPI. Every refusal is RFC 9457 problem+json (the app's handler maps a
refusal raised here or by the service, shared/refusals.py). A 401 says which check failed in the service's fixed
sentence; neither a secret nor an expected signature ever reaches a log line or a response.

| outcome | status |
|---|---|
| accepted | 202, `Location: /api/operations/{id}`, `Retry-After` |
| ignored (a ping, a comment) | 200 |
| unchanged (a retry, a replay, an older delivery, a status change; docs/integrations.md "Revisions") | 200 |
| a body that is not JSON aksvend reads (jsontext: its code) | 400 |
| bad, missing or stale signature; system not configured | 401 |
| unknown system | 404 |
| body over 1 MiB | 413 |
| no usable or an invalid request | 422 with `errors` (the ticket is told through an event) |
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from functions import runtime
from functions.bodies import accepted, read_body
from functions.paths import path_parameters
from shared.domain.tickets import SYSTEMS
from shared.refusals import InvalidInput, MalformedInput, NotAuthenticated, NotFound, TooLarge

__all__ = ["router"]

log = logging.getLogger("aksvend.webhooks")
router = APIRouter(tags=["webhooks"])


@router.post("/api/webhooks/{system}", status_code=202, responses={
    200: {"description": "not about a ticket, or nothing new in it: acknowledged, nothing done"},
    400: {"description": "the body is not JSON aksvend reads"},
    401: {"description": "missing, wrong or stale signature"},
    404: {"description": "unknown ticketing system"},
    422: {"description": "the ticket carries no valid cluster request"}}, openapi_extra=path_parameters("system"),
    summary="Receive a ticketing webhook")
async def ticket_webhook(request: Request) -> JSONResponse:
    """A signed delivery from Jira, ServiceNow, GitHub or a generic system: a ticket asking for a cluster is
    turned into a cluster request and queued (202); anything else is acknowledged and ignored (200)."""
    system = request.path_params["system"]
    if system not in SYSTEMS:
        raise NotFound("UnknownTicketSystem", f"no ticketing webhook here; use one of {', '.join(SYSTEMS)}")
    intake = (await runtime.runtime()).tickets
    outcome = await intake.handle(system, dict(request.headers), await read_body(request, intake.max_body_bytes))
    return _respond(system, outcome)


def _respond(system: str, outcome: Any) -> JSONResponse:
    from shared.services import tickets as t

    if isinstance(outcome, t.TicketAccepted):
        return accepted(outcome.operation_id, ticket=outcome.ticket_ref.to_dict(),
                        warnings=[w.to_dict() for w in outcome.warnings])
    if isinstance(outcome, t.TicketIgnoredOutcome):
        return JSONResponse({"status": "ignored", "reason": outcome.reason}, status_code=200)
    if isinstance(outcome, t.TicketUnchanged):
        return JSONResponse({"status": "unchanged", "reason": outcome.reason, "ticket": outcome.ticket_ref.to_dict(),
                             "operationId": outcome.operation_id, "cluster": outcome.cluster}, status_code=200)
    if isinstance(outcome, t.TicketUnauthorized):
        # The reason is one of the verifier's fixed sentences: nothing secret, nothing the sender sent.
        raise NotAuthenticated("InvalidSignature", f"the {system} delivery is not authenticated: {outcome.reason}")
    if isinstance(outcome, t.TicketInvalid):
        raise InvalidInput("InvalidRequest", "the ticket carries no valid cluster request; see `errors`",
                           outcome.violations)
    if isinstance(outcome, t.TicketMalformed):
        raise MalformedInput(outcome.code, outcome.message)
    if isinstance(outcome, t.TicketTooLarge):
        raise TooLarge("PayloadTooLarge", f"request bodies are limited to {outcome.limit_bytes} bytes")
    if isinstance(outcome, t.TicketUnknownSystem):
        raise NotFound("UnknownTicketSystem", f"no mapping for '{system}' is configured")
    raise TypeError(f"unexpected ticket outcome {type(outcome).__name__}")
