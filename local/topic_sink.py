"""A tiny Event Grid topic on 127.0.0.1 that records what is published to it: the target of the outbox in tests
and in the demo.

It accepts what `EventGridPublisherClient` sends to a basic topic: `POST /api/events?api-version=...` with a
CloudEvents batch (`application/cloudevents-batch+json`) or an Event Grid schema array, authenticated by the
`aeg-sas-key` header (compared in constant time) or, over TLS, by any `Authorization: Bearer` token (the SDK
sends bearer tokens only over https; the sink, like the ARM emulator, does not validate them). It answers 200
like Event Grid, 401 without credentials, 400 for a body that is not a JSON array of events.

For outage tests: `stop()` closes the listener (connection refused, as when the topic is unreachable) and
`start()` listens again on the same port; `fail_with(503)` answers every publish with that status instead.
`GET /api/events` (same key) lists what was recorded, for the demo.

Its pytest fixture `topic_sink` is in local/testing.py, so that running it needs no pytest. `python -m
local.topic_sink` runs one in the foreground and prints its endpoint and key.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import signal
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["TopicSink"]

_REQUIRED = ("id", "source", "specversion", "type")
_POLL_INTERVAL = 0.01


class TopicSink:
    """An Event Grid topic stand-in; `events` holds every accepted event (dicts), in arrival order."""

    def __init__(self, *, key: str | None = None, tls: bool = False, host: str = "127.0.0.1") -> None:
        self.key = key or secrets.token_urlsafe(24)
        self.host = host
        self.port = 0
        self.events: list[dict[str, Any]] = []
        self.requests = 0  # publish requests received, accepted or not
        self.content_types: list[str] = []
        self._fail_status: int | None = None
        self._runner: web.AppRunner | None = None
        self._tls = tls
        self._cert_dir: tempfile.TemporaryDirectory[str] | None = None
        self._ssl: ssl.SSLContext | None = None
        self.cert_path: Path | None = None

    def __repr__(self) -> str:
        return f"TopicSink(endpoint={self.endpoint!r}, events={len(self.events)})"

    @property
    def endpoint(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{self.host}:{self.port}/api/events"

    @property
    def running(self) -> bool:
        return self._runner is not None

    def fail_with(self, status: int | None) -> None:
        """Answer every publish with `status` (None: accept again)."""
        self._fail_status = status

    async def start(self) -> TopicSink:
        """Listen (again) on the same port once one was chosen; an ephemeral port the first time."""
        if self._runner is not None:
            return self
        if self._tls and self._ssl is None:
            self._ssl = self._make_tls()
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/api/events", self._publish)
        app.router.add_get("/api/events", self._list)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self._ssl, reuse_address=True)
        await site.start()
        self._runner = runner
        if self.port == 0:
            self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def close(self) -> None:
        await self.stop()
        if self._cert_dir is not None:
            self._cert_dir.cleanup()
            self._cert_dir = None

    async def __aenter__(self) -> TopicSink:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0,
                       ) -> list[dict[str, Any]]:
        """Poll until `predicate(events)` holds; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the topic sink did not see the expected events; it has {len(self.events)}")
            await asyncio.sleep(_POLL_INTERVAL)
        return self.events

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == event_type]

    # --- handlers ---------------------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        key = request.headers.get("aeg-sas-key")
        if key is not None:
            return hmac.compare_digest(key.encode(), self.key.encode())
        bearer = request.headers.get("Authorization", "")
        return self._tls and bearer.startswith("Bearer ") and len(bearer) > len("Bearer ")

    async def _publish(self, request: web.Request) -> web.Response:
        self.requests += 1
        if not self._authorized(request):
            return _error(401, "Unauthorized", "the request carries no valid aeg-sas-key or bearer token")
        if self._fail_status is not None:
            return _error(self._fail_status, "ServiceUnavailable", "the sink was told to fail")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _error(400, "BadRequest", "the body is not JSON")
        if not isinstance(body, list) or not body:
            return _error(400, "BadRequest", "the body must be a non-empty JSON array of events")
        cloud = all(isinstance(e, dict) and all(k in e for k in _REQUIRED) for e in body)
        grid = all(isinstance(e, dict) and "eventType" in e and "id" in e for e in body)
        if not (cloud or grid):
            return _error(400, "BadRequest", "every event needs id, source, specversion and type")
        self.content_types.append(request.headers.get("Content-Type", ""))
        self.events.extend(body)
        return web.Response(status=200)

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, "Unauthorized", "the request carries no valid aeg-sas-key")
        return web.json_response(self.events)

    def _make_tls(self) -> ssl.SSLContext:
        from local.armemu.cert import make_self_signed, server_context

        self._cert_dir = tempfile.TemporaryDirectory(prefix="aksvend-topic-sink-")
        cert_path, key_path = make_self_signed(Path(self._cert_dir.name))
        self.cert_path = cert_path
        return server_context(cert_path, key_path)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


# --- python -m local.topic_sink -------------------------------------------------------------------------------


async def _serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with TopicSink() as sink:
        # The key is a random local one, printed so the demo can configure its publisher with it.
        print(json.dumps({"endpoint": sink.endpoint, "key": sink.key}), flush=True)
        await stop.wait()


def main() -> int:
    asyncio.run(_serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
