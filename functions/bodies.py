"""JSON request bodies of the HTTP routes: the size limit, the media type and the JSON itself are checked here, so
that every refusal is an RFC 9457 problem (413 past the limit, 415 for anything but JSON, 400 for malformed JSON).

A module of its own because the API (http_api.py) and the Event Grid webhook (eventgrid.py) both read bodies, and
http_api includes the webhook's router: reading bodies in http_api made the two import each other.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from functions import webhooks
from shared.refusals import MalformedInput, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024


async def json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("UnsupportedMediaType", "send the body as application/json")
    body = await webhooks.read_body(request, limit)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise MalformedInput("MalformedJson", f"the body is not valid JSON{where}") from None
