"""The function app as the local host and its worker run it: what differs from Azure is handed to the app
(`hand_over`), its queue and timer functions run until stopped (`start_functions`), and what the app opened is
closed at the end (`close_app`), as a worker process ending in Azure would.

What differs is passed in, never imported by the product: the ARM emulator's offline credential goes to
`functions.runtime.configure`, which opens the runtime with it (shared/bootstrap.py). Local mode itself
(`AKSVEND_LOCAL=1`) is a setting the host puts in the environment (stack.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from local.host.functions import FunctionSpec
from local.host.queue_runner import QueueSemantics
from local.host.queues import run_queue_function
from local.host.timers import run_timer_function


def hand_over() -> None:
    """Give the app's runtime, opened on its first invocation, what it needs on one machine."""
    from functions import runtime
    from local.credential import AsyncOfflineCredential

    runtime.configure(credential=AsyncOfflineCredential())


def start_functions(specs: list[FunctionSpec], storage: str, semantics: QueueSemantics, encoding: str,
                    stop: asyncio.Event, timer_every: float | None) -> list[asyncio.Task[Any]]:
    """A task per queue and timer function, polling its queue or keeping its schedule until `stop`."""
    tasks = []
    for spec in specs:
        if spec.trigger_type == "queueTrigger":
            tasks.append(asyncio.create_task(run_queue_function(spec, storage, semantics, encoding, stop),
                                             name=spec.name))
        elif spec.trigger_type == "timerTrigger":
            tasks.append(asyncio.create_task(run_timer_function(spec, stop, timer_every), name=spec.name))
    for task in tasks:
        task.add_done_callback(_report_crash)
    return tasks


def _report_crash(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        print(f"aksvend host: function {task.get_name()} stopped: {task.exception()!r}", file=sys.stderr)


async def close_app() -> None:
    """Close what the app's runtime opened on first use (its storage and ARM clients); another app (the host's
    tests run tests/e2e/sample_app.py) opened none."""
    from functions import runtime

    with contextlib.suppress(Exception):  # stopping: a client that fails to close must not hide why
        await runtime.close()
