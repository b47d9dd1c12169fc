"""`python -m local.worker`: the step-queue handler and the sweeper in a loop, as the Functions host runs them.

Configured by environment like the function app (see shared/config.py): AzureWebJobsStorage (Azurite's
connection string), AKSVEND_ARM_ENDPOINT and AKSVEND_ARM_CA_CERT (the ARM emulator). Also
AKSVEND_SWEEP_SECONDS (default 60) for the sweeper timer and AKSVEND_QUEUE_LEASE_SECONDS for how long a received
message stays hidden. Prints one JSON line `{"ready": true, "pid": N}` when it runs; stops on SIGTERM or SIGINT
and exits 0. The engine records lifecycle events in the outbox, as the function app's does.

For crash tests, AKSVEND_FAILPOINT=<name>:<n> makes it kill itself with SIGKILL the n-th time it reaches that
failpoint (shared/failpoints.py; ignored in Azure).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from contextlib import AsyncExitStack

from local.credential import AsyncOfflineCredential
from local.queue_runner import QueueRunner, QueueSemantics
from shared import failpoints
from shared.bootstrap import open_runtime
from shared.config import ConfigError, Settings
from shared.engine import Engine, poisoned, sweep

log = logging.getLogger("aksvend.local.worker")


async def sweep_forever(engine: Engine, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if not stop.is_set():
            try:
                await sweep(engine)
            except Exception as exc:  # a failed sweep is retried at the next tick, like a timer function
                log.warning("sweep failed: %s", type(exc).__name__)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    async with AsyncExitStack() as stack:
        # with the outbox: its events are recorded too
        engine = (await open_runtime(settings, stack, credential=AsyncOfflineCredential())).engine
        semantics = QueueSemantics(lease_seconds=max(1, round(settings.queue_lease_seconds)))
        runner = QueueRunner(engine.queue, engine.handle, semantics=semantics,
                             poison=lambda body, count: poisoned(engine, body, count))
        print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)  # for whoever started us
        await asyncio.gather(runner.run(stop), sweep_forever(engine, settings.sweep_seconds, stop))


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"aksvend worker: configuration: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s %(message)s")
    try:
        failpoints.configure(os.environ)
    except ValueError as exc:
        print(f"aksvend worker: configuration: {exc}", file=sys.stderr)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
