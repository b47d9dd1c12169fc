"""Waiting for a condition with a deadline: how the local stack and the tests wait, never by a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.1,
             error: type[Exception] = TimeoutError) -> T:
    """Poll `predicate` until it returns something truthy (returned), or raise `error` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise error(f"condition not met within {timeout} s")
        time.sleep(interval)
