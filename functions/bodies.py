"""Request bodies and the 202 answer of the HTTP routes, in one place: the size limits, reading a body within one,
parsing JSON, and answering "accepted" for a queued operation.

Every refusal here is a domain refusal (shared/refusals.py) that the app's handler turns into RFC 9457 problem+json:
413 past the limit (by the declared length before reading, and while reading, as a chunked body declares none), 415
for anything but JSON, 400 for JSON aksvend does not read (shared/domain/jsontext.py: not UTF-8, malformed, a
duplicate key, nested deeper than 64 levels), with the reader's code (`NotUtf8`, `MalformedJson`, `DuplicateKey`,
`TooDeep`). A number that is not finite (NaN, Infinity, 1e400) is 422 naming its field in a request of the request
contract, and 400 `NotFinite` in anything else (an event delivery). The ticketing webhooks read raw bytes (their
signatures are over them) and the API and the Event Grid webhook read JSON, all through `read_body`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from shared.domain import jsontext
from shared.domain.violations import Violation
from shared.refusals import InvalidInput, MalformedInput, TooLarge, UnsupportedMediaType

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


async def json_body(request: Request, limit: int = MAX_BODY_BYTES, *, contract: bool = True) -> Any:
    """The body as JSON: application/json or a +json media type, within `limit` bytes, JSON aksvend reads.
    `contract`: the body is a request of the request contract (a number that is not finite breaks its field's rule:
    422), not a delivery of something else (400)."""
    json_media(request)
    return parse_json(await read_body(request, limit), contract=contract)


def json_media(request: Request) -> None:
    """415 unless the body is application/json or a +json media type."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("UnsupportedMediaType", "send the body as application/json (a PATCH also "
                                                    "takes application/merge-patch+json)")


def parse_json(body: bytes, *, contract: bool = False) -> Any:
    """JSON from outside, strictly (shared/domain/jsontext.py); a refusal with the reader's code otherwise."""
    try:
        return jsontext.loads(body)
    except jsontext.JsonRefused as exc:
        if contract and exc.code == "NotFinite" and exc.pointer is not None:
            raise InvalidInput("InvalidRequest", "the request breaks the rules listed in `errors`", [Violation(
                "SCHEMA_TYPE", exc.pointer, "Input should be a finite number (NaN, Infinity and numbers beyond "
                                            "\u00b11.8e308 are not)")]) from None
        raise MalformedInput(exc.code, exc.message) from None


def accepted(operation_id: str, **fields: Any) -> JSONResponse:
    """202 for a queued operation: where to watch it (`Location`, also `status` in the body), when to look
    (`Retry-After`), and the route's own `fields`."""
    location = f"/api/operations/{operation_id}"
    return JSONResponse({"operationId": operation_id, "status": location, **fields}, status_code=202,
                        headers={"Location": location, "Retry-After": RETRY_AFTER_SECONDS})
