"""The local host's HTTP front door (one ASGI app under uvicorn), routing as the Functions host does:

- `/runtime/webhooks/EventGrid?functionName=NAME`: the Event Grid trigger's webhook. `aeg-event-type:
  SubscriptionValidation` is answered with `{"validationResponse": code}`; `Notification` hands each event of the
  array to the function as `func.EventGridEvent` (or `func.CloudEvent`), 202 when all succeeded, 500 otherwise
  (Event Grid then retries); `Unsubscribe` 202; CloudEvents' OPTIONS handshake echoes `WebHook-Request-Origin`.
- `/admin/functions/NAME` (POST `{"input": "..."}`): run a non-HTTP function now, as the host's admin API does.
- HTTP functions under `/<routePrefix>/<route>`: an ASGI app (AsgiFunctionApp's catch-all `{*route}`) gets the
  request unchanged (the path keeps `/api`, as in Azure); a plain HTTP function gets a `func.HttpRequest` and
  returns a `func.HttpResponse`. Specific routes win over catch-alls.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import azure.functions as func
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

from local.host.functions import FunctionSpec, invoke

log = logging.getLogger("aksvend.local.host")
EVENTGRID_PATH = "/runtime/webhooks/eventgrid"
ADMIN_PREFIX = "/admin/functions/"
MAX_WEBHOOK_BYTES = 1024 * 1024  # Event Grid delivers at most 1 MB per batch


class Route:
    def __init__(self, spec: FunctionSpec, prefix: str) -> None:
        self.spec = spec
        route = str(spec.trigger.get("route") or spec.name).strip("/")
        template = "/".join(p for p in (prefix.strip("/"), route) if p)
        self.catch_all = "{*" in template
        pattern = re.sub(r"\{\*(\w+)\}", r"(?P<\1>.*)", template)
        pattern = re.sub(r"\{(\w+)(?::[^}]*)?\??\}", r"(?P<\1>[^/]+)", pattern)
        # DOTALL: a decoded path may hold a newline (%0A); the Functions host's catch-all matches it too, and the app,
        # not the host, answers it (400 InvalidPath). `\Z`: `$` would also match before a trailing newline.
        self.regex = re.compile(f"^/{pattern}/?\\Z", re.IGNORECASE | re.DOTALL)
        methods = spec.trigger.get("methods")
        self.methods = {str(m).upper() for m in methods} if methods else None
        self.asgi = spec.asgi_app()

    def match(self, method: str, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        if found is None or (self.methods is not None and method not in self.methods):
            return None
        return found.groupdict()


class HostApp:
    """The ASGI app uvicorn serves."""

    def __init__(self, specs: list[FunctionSpec], route_prefix: str = "api") -> None:
        self.by_name = {s.name.lower(): s for s in specs}
        http = [s for s in specs if s.trigger_type == "httpTrigger"]
        self.routes = sorted((Route(s, route_prefix) for s in http), key=lambda r: r.catch_all)
        self.lifespan_app = next((r.asgi for r in self.routes if r.asgi is not None), None)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            if self.lifespan_app is not None:
                return await self.lifespan_app(scope, receive, send)
            return await _lifespan_noop(receive, send)
        if scope["type"] != "http":
            return None
        path, method = scope["path"], scope["method"]
        if path.lower().rstrip("/") == EVENTGRID_PATH:
            return await self.eventgrid(scope, receive, send)
        if path.lower().startswith(ADMIN_PREFIX) and method == "POST":
            return await self.admin(path[len(ADMIN_PREFIX):], receive, send)
        for route in self.routes:
            params = route.match(method, path)
            if params is None:
                continue
            if route.asgi is not None:
                return await route.asgi(scope, receive, send)
            return await self.plain(route, params, scope, receive, send)
        return await _send(send, 404, b"", {})

    async def eventgrid(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        name = (query.get("functionName") or [""])[0]
        spec = self.by_name.get(name.lower())
        if spec is None or spec.trigger_type != "eventGridTrigger":
            return await _send(send, 404, f"cannot find function: '{name}'".encode(), {})
        headers = _headers(scope)
        if scope["method"] == "OPTIONS":  # CloudEvents v1.0 abuse-protection handshake
            origin = headers.get("webhook-request-origin", "")
            return await _send(send, 200, b"", {"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"})
        if scope["method"] != "POST":
            return await _send(send, 405, b"", {})
        body = await _body(receive, MAX_WEBHOOK_BYTES)
        kind = headers.get("aeg-event-type", "")
        if body is None:
            return await _send(send, 413, b"", {})
        try:
            payload = json.loads(body) if body else []
        except ValueError:
            return await _send(send, 400, b"the body is not JSON", {})
        events = payload if isinstance(payload, list) else [payload]
        if kind == "SubscriptionValidation":
            code = next((e.get("data", {}).get("validationCode") for e in events if isinstance(e, dict)
                         and isinstance(e.get("data"), dict)), None)
            if not code:
                return await _send(send, 400, b"no validationCode", {})
            return await _send_json(send, 200, {"validationResponse": code})
        if kind == "Unsubscribe":
            return await _send(send, 202, b"", {})
        if kind != "Notification" and "cloudevents" not in headers.get("content-type", ""):
            return await _send(send, 400, b"aeg-event-type must be SubscriptionValidation, Notification or "
                                          b"Unsubscribe", {})
        failed = 0
        for event in events:
            try:
                value = EventGridEventInConverter.decode(meta.Datum(json.dumps(event), "json"), trigger_metadata={})
                await invoke(spec, value)
            except Exception as exc:  # the host logs the failed invocation and answers 500
                failed += 1
                log.warning("function %s failed: %s", spec.name, type(exc).__name__,
                            exc_info=log.isEnabledFor(logging.DEBUG))
        return await _send(send, 500 if failed else 202, b"", {})

    async def admin(self, name: str, receive: Any, send: Any) -> None:
        spec = self.by_name.get(name.strip("/").lower())
        if spec is None or spec.trigger_type == "httpTrigger":
            return await _send(send, 404, b"", {})
        raw = await _body(receive, MAX_WEBHOOK_BYTES) or b"{}"
        try:
            text = json.loads(raw).get("input", "")
        except (ValueError, AttributeError):
            return await _send(send, 400, b"send {\"input\": \"...\"}", {})
        if spec.trigger_type == "timerTrigger":
            value: Any = TimerRequest(past_due=False)
        elif spec.trigger_type == "queueTrigger":
            value = QueueMessage(id=f"admin-{datetime.now(UTC).timestamp()}", body=str(text).encode(),
                                      dequeue_count=1, insertion_time=datetime.now(UTC))
        else:
            value = EventGridEventInConverter.decode(meta.Datum(str(text) or "{}", "json"), trigger_metadata={})
        try:
            await invoke(spec, value)
        except Exception as exc:
            log.warning("function %s failed: %s", spec.name, type(exc).__name__)
            return await _send(send, 500, b"", {})
        return await _send(send, 202, b"", {})

    async def plain(self, route: Route, params: dict[str, str], scope: dict[str, Any], receive: Any,
                    send: Any) -> None:
        body = await _body(receive, 100 * 1024 * 1024) or b""
        host = _headers(scope).get("host", "127.0.0.1")
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"http://{host}{scope['path']}" + (f"?{query}" if query else "")
        request = func.HttpRequest(scope["method"], url, headers=_headers(scope),
                                   params={k: v[0] for k, v in parse_qs(query).items()}, route_params=params,
                                   body=body)
        try:
            response = await invoke(route.spec, request)
        except Exception as exc:
            log.warning("function %s failed: %s", route.spec.name, type(exc).__name__)
            return await _send(send, 500, b"", {})
        if not isinstance(response, func.HttpResponse):
            response = func.HttpResponse(status_code=204 if response is None else 200,
                                         body=None if response is None else str(response))
        headers = dict(response.headers)
        if response.mimetype:
            headers.setdefault("Content-Type", f"{response.mimetype}; charset={response.charset}")
        return await _send(send, response.status_code, response.get_body(), headers)


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _body(receive: Any, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Any, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if body and not any(k == b"content-type" for k, _ in raw):
        raw.append((b"content-type", b"text/plain; charset=utf-8"))
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Any, status: int, value: Any) -> None:
    await _send(send, status, json.dumps(value).encode(), {"Content-Type": "application/json"})


async def _lifespan_noop(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
