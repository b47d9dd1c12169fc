"""The process-wide Runtime for the trigger functions, opened on first use (not at import: cold start matters).

In Azure it is opened from the settings alone. Whoever runs the functions elsewhere passes in what differs there
(`configure`: the local host hands over the ARM emulator's credential), or a whole runtime built with
`shared.bootstrap.bootstrap` (`use`: tests).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runtime pulls in the Azure SDK clients: imported on first use, not at cold start
    from shared.bootstrap import Runtime

_runtime: Runtime | None = None
_stack: AsyncExitStack | None = None
_overrides: dict[str, Any] = {}
_lock = asyncio.Lock()


async def runtime() -> Runtime:
    global _runtime, _stack
    if _runtime is None:
        async with _lock:
            if _runtime is None:
                from shared.bootstrap import open_runtime
                from shared.config import Settings

                stack = AsyncExitStack()
                _runtime = await open_runtime(Settings.from_env(), stack, **_overrides)
                _stack = stack
    return _runtime


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
