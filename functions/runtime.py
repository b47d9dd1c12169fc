"""The process-wide Runtime for the trigger functions, opened on first use (not at import: cold start matters).

In Azure it is opened from the settings alone. Whoever runs the functions elsewhere passes in what differs there
(`configure`: the local host hands over the ARM emulator's credential), or a whole runtime built with
`shared.bootstrap.bootstrap` (`use`: tests).

Opening imports the Azure SDK clients: 1.5-2.5 s of CPU in a fresh interpreter with compiled modules, 4-8 s when
they are compiled first (after `make install`, which skips compiling). That import runs in a worker thread
(`_load`), not on the event loop, so that the requests that need no runtime (`/api/health`) are answered meanwhile;
only the opening itself (connections, awaited) runs on the loop. Compiling one large SDK module holds the GIL
throughout (azure.mgmt.network's operations: about 1.4 s), so on that first run a request may still wait that long.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runtime pulls in the Azure SDK clients: imported on first use, not at cold start
    from shared.bootstrap import Runtime
    from shared.config import Settings

Open = Callable[..., Awaitable["Runtime"]]

_runtime: Runtime | None = None
_stack: AsyncExitStack | None = None
_overrides: dict[str, Any] = {}
_lock = asyncio.Lock()


async def runtime() -> Runtime:
    global _runtime, _stack
    if _runtime is None:
        async with _lock:
            if _runtime is None:
                overrides = dict(_overrides)
                open_runtime, settings = await asyncio.to_thread(_load, overrides)
                stack = AsyncExitStack()
                _runtime = await open_runtime(settings, stack, **overrides)
                _stack = stack
    return _runtime


def _load(overrides: dict[str, Any]) -> tuple[Open, Settings]:
    """In a worker thread: import what opening the runtime needs (the SDK clients: seconds of CPU on a cold
    start) and read the settings."""
    from shared import bootstrap
    from shared.config import Settings

    settings = Settings.from_env()
    for module in bootstrap.opened_lazily(settings, credential=overrides.get("credential")):
        importlib.import_module(module)
    return bootstrap.open_runtime, settings


def configure(**overrides: Any) -> None:
    """Keyword arguments of `shared.bootstrap.open_runtime` for the runtime opened next (the local host passes
    `credential=`); called before the first invocation."""
    _overrides.clear()
    _overrides.update(overrides)


def use(runtime_: Runtime | None) -> None:
    """Tests hand in a runtime they built with `shared.bootstrap.bootstrap` (None: forget it)."""
    global _runtime
    _runtime = runtime_


async def close() -> None:
    global _runtime, _stack
    if _stack is not None:
        await _stack.aclose()
    _runtime, _stack = None, None
