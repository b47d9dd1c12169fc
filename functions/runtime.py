"""The process-wide Runtime for the trigger functions, opened on first use (not at import: cold start matters)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runtime pulls in the Azure SDK clients: imported on first use, not at cold start
    from shared.bootstrap import Runtime

_runtime: Runtime | None = None
_stack: AsyncExitStack | None = None
_lock = asyncio.Lock()


async def runtime() -> Runtime:
    global _runtime, _stack
    if _runtime is None:
        async with _lock:
            if _runtime is None:
                from shared.bootstrap import open_runtime
                from shared.config import Settings

                stack = AsyncExitStack()
                _runtime = await open_runtime(Settings.from_env(), stack)
                _stack = stack
    return _runtime


def use(runtime_: Runtime | None) -> None:
    """Tests and the local host hand in a runtime they built (None: forget it)."""
    global _runtime
    _runtime = runtime_


async def close() -> None:
    global _runtime, _stack
    if _stack is not None:
        await _stack.aclose()
    _runtime, _stack = None, None
