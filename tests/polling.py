"""Async polling for tests: wait for a condition with a deadline, never sleep as synchronisation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Await `probe` until it returns something truthy, or fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while not (result := await probe()):
        assert time.monotonic() < deadline, "nothing arrived before the deadline"
        await asyncio.sleep(interval)
    return result
