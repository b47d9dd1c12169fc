"""The emulator as a server: `Emulator` (an async context manager, on the caller's loop) and `EmulatorThread` (its
own loop in a daemon thread, for sync SDK clients that would otherwise block the loop serving them).

Binds 127.0.0.1 only (any other host is refused: the emulator hands out tokens and is not meant to be reachable
from elsewhere). The certificate is made at start in `state_dir` or a temporary directory removed at stop.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from . import control, entra, keyvault, metadata, persist
from .cert import make_self_signed, server_context
from .faults import FaultPlan
from .notifications import WebhookDeliverer
from .routing import Router, base_url
from .settings import EmulatorSettings
from .world import World

ALLOWED_HOSTS = ("127.0.0.1", "localhost")


class Emulator:
    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | Path | None = None,
        faults: dict[str, Any] | None = None,
    ) -> None:
        if host not in ALLOWED_HOSTS:
            raise ValueError(f"the emulator binds only to 127.0.0.1/localhost, not {host!r}")
        self.settings = settings or EmulatorSettings()
        self.settings.validate()
        self.world = World(self.settings)
        if faults:
            self.world.faults = FaultPlan.from_json(faults, self.settings.seed)
        self.host = "127.0.0.1"
        self.port = port
        self.state_dir = Path(state_dir) if state_dir else None
        self._temp_dir: str | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.ca_cert = ""

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        router = Router(self.world)
        app.add_routes(control.routes(self.world))
        app.add_routes(metadata.routes(self.world, base_url))
        app.add_routes(keyvault.routes(self.world, base_url))
        app.add_routes(entra.routes(self.world, base_url))
        app.router.add_route("*", "/{tail:.*}", router.handle)
        return app

    async def start(self) -> Emulator:
        directory = self.state_dir or Path(self._make_temp_dir())
        cert_path, key_path = make_self_signed(directory)
        if self.state_dir:
            persist.load(self.world, self.state_dir)
        self.world.deliverer = WebhookDeliverer(self.world)
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, self.port, ssl_context=server_context(cert_path, key_path), reuse_address=True
        )
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.ca_cert = str(cert_path)
        return self

    def _make_temp_dir(self) -> str:
        self._temp_dir = tempfile.mkdtemp(prefix="armemu-")
        return self._temp_dir

    async def stop(self) -> None:
        if self.world.deliverer is not None:
            await self.world.deliverer.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.state_dir:
            persist.save(self.world, self.state_dir)
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def ready_line(self) -> str:
        return json.dumps({"baseUrl": self.base_url, "caCert": self.ca_cert})

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


class EmulatorThread:
    """Runs an `Emulator` on its own event loop in a daemon thread. `start()` returns once it serves."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="armemu", daemon=True)

    def start(self) -> Emulator:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.emulator.start(), self._loop).result(timeout=30)
        return self.emulator

    def call(self, fn, *args: Any) -> Any:
        """Run `fn(*args)` on the emulator's loop (the world is not thread-safe) and return its result."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
