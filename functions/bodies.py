"""Request bodies and the 202 answer of the HTTP routes, in one place: the size limits, reading a body within one,
parsing JSON, and answering "accepted" for a queued operation.

Every refusal here is a domain refusal (shared/refusals.py) that the app's handler turns into RFC 9457 problem+json:
413 past the limit (by the declared length before reading, and while reading, as a chunked body declares none), 415
for anything but JSON, 400 for malformed JSON. The ticketing webhooks read raw bytes (their signatures are over
them) and the API and the Event Grid webhook read JSON, all through `read_body`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from shared.refusals import MalformedInput, TooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024  # the API's requests; the ticket intake says its own (shared/services/tickets.py)
# Event Grid delivers batches of up to about 1 MB, and a single event of up to 1 MB alone: room for the array
# around the largest event. The parser then holds each event to 1 MB and a batch to 5,000 events.
MAX_DELIVERY_BYTES = 2 * 1024 * 1024
RETRY_AFTER_SECONDS = "5"  # how soon a client should look at a queued or running operation again


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused past `limit` bytes: by the declared length before reading, and while reading."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge("PayloadTooLarge", f"request bodies are limited to {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge("PayloadTooLarge", f"request bodies are limited to {limit} bytes")
    return bytes(body)


async def json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """The body as JSON: application/json or a +json media type, within `limit` bytes, well formed."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("UnsupportedMediaType", "send the body as application/json")
    body = await read_body(request, limit)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise MalformedInput("MalformedJson", f"the body is not valid JSON{where}") from None


def accepted(operation_id: str, **fields: Any) -> JSONResponse:
    """202 for a queued operation: where to watch it (`Location`, also `status` in the body), when to look
    (`Retry-After`), and the route's own `fields`."""
    location = f"/api/operations/{operation_id}"
    return JSONResponse({"operationId": operation_id, "status": location, **fields}, status_code=202,
                        headers={"Location": location, "Retry-After": RETRY_AFTER_SECONDS})
