"""A small TCP fault proxy for tests: put it in front of Azurite's table endpoint (or any HTTP/1.1 service on
127.0.0.1) and tell it, from the test, what the service should look like:

- `pass`: bytes go through both ways unchanged;
- `refuse`: the listening socket is closed, so a connect gets ECONNREFUSED (as a service that is down);
- `503`: every request gets `503 ServerBusy` in Table Storage's shape (`x-ms-error-code`, an `odata.error` body),
  `Connection: close`, without reaching the service.

`set(mode, seconds=None)` switches now; with `seconds` it switches back to `pass` after that long. Switching to a
fault closes the connections already open, so a client's keep-alive connection cannot slip past it. The proxy binds
127.0.0.1 only, counts what it did (`counts`), and stops by itself after `lifetime` seconds (default 10 min) if the
test never stops it. Use as `async with FaultProxy(target_host, target_port) as proxy:` on the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from typing import Literal

Mode = Literal["pass", "refuse", "503"]
_BUSY = json.dumps({"odata.error": {"code": "ServerBusy", "message": {
    "lang": "en-US", "value": "The server is busy. (fault proxy)"}}}).encode()
_MAX_HEAD = 64 * 1024


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *, lifetime: float = 600.0) -> None:
        self.target = (target_host, target_port)
        self.lifetime = lifetime
        self.port = 0
        self.mode: Mode = "pass"
        self.counts: Counter[str] = Counter()
        self._until: float | None = None
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._timers: set[asyncio.TimerHandle] = set()

    async def __aenter__(self) -> FaultProxy:
        await self._listen()
        loop = asyncio.get_running_loop()
        self._timers.add(loop.call_later(self.lifetime, lambda: asyncio.ensure_future(self.stop())))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    async def set(self, mode: Mode, seconds: float | None = None) -> None:
        """Look like `mode` from now on (for `seconds`, then `pass` again)."""
        self.mode, self._until = mode, (time.monotonic() + seconds if seconds is not None else None)
        if mode != "pass":
            self._cut()
        if mode == "refuse":
            await self._close_server()
        elif self._server is None:
            await self._listen()
        if seconds is not None:
            loop = asyncio.get_running_loop()
            self._timers.add(loop.call_later(seconds, lambda: asyncio.ensure_future(self._expire())))

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._cut()
        await self._close_server()

    async def _expire(self) -> None:
        if self._until is not None and time.monotonic() >= self._until:
            await self.set("pass")

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def _cut(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts["connections"] += 1
        if self.mode == "503":
            await self._busy(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)
        self._open -= {writer, up_writer}

    async def _busy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request (head and Content-Length body) and answer 503 ServerBusy; then close."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if 0 < length <= _MAX_HEAD * 1024:
                await reader.readexactly(length)
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json;odata=minimalmetadata\r\n"
                         b"x-ms-error-code: ServerBusy\r\nConnection: close\r\n"
                         + f"Content-Length: {len(_BUSY)}\r\n\r\n".encode() + _BUSY)
            await writer.drain()
            self.counts["503"] += 1
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
