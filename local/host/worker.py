"""`python -m local.host.worker`: the function app's queue and timer functions (`function_app.app`), run as the
local host runs them (app.py) but without HTTP, against the storage and ARM emulator the environment names.

A step message so goes through the same trigger function, runtime and engine as in Azure. The crash test
(tests/integration/test_engine_crash.py) and the engine benchmark start it; they set AzureWebJobsStorage,
AKSVEND_ARM_ENDPOINT and AKSVEND_ARM_CA_CERT like the local host does, AKSVEND_SWEEP_SECONDS for how often the
timers run, and AKSVEND_QUEUE_LEASE_SECONDS for how long a received message stays hidden. It runs in local mode.

Prints one JSON line `{"ready": true, "pid": N}` once its functions run; stops on SIGTERM or SIGINT and exits 0;
exits 2 on a configuration error. For crash tests, AKSVEND_FAILPOINT=<name>:<n> makes it kill itself with SIGKILL the
n-th time it reaches that failpoint (shared/failpoints.py). Both local mode and the failpoint are refused where a
variable of the Functions platform is set (`shared.config.functions_platform`): the worker then exits 2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

from local.host.functions import FunctionSpec
from local.host.stack import ROOT, local_mode
from shared import failpoints
from shared.config import ConfigError, Settings

TRIGGERS = ("queueTrigger", "timerTrigger")


def configure() -> Settings:
    """The settings, in local mode, with the failpoint armed; ConfigError or ValueError name what is wrong (local
    mode, and so the worker, is refused on the Functions platform before anything is armed)."""
    local_mode()
    settings = Settings.from_env()
    failpoints.configure(os.environ)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s %(message)s")
    return settings


def queue_and_timer_functions(reference: str = "function_app:app") -> list[FunctionSpec]:
    from local.host.functions import discover, load_app

    sys.path.insert(0, str(ROOT))
    return [spec for spec in discover(load_app(reference)) if spec.trigger_type in TRIGGERS]


async def run(settings: Settings, specs: list[FunctionSpec]) -> None:
    from local.host.app import close_app, hand_over, start_functions
    from local.host.queues import queue_semantics, read_host_json

    hand_over()
    semantics, encoding = queue_semantics(read_host_json(ROOT / "host.json"), settings.queue_lease_seconds)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = start_functions(specs, settings.storage_connection or "", semantics, encoding, stop,
                            settings.sweep_seconds)
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)  # for whoever started us
    try:
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_app()


def main() -> int:
    try:
        settings = configure()
    except (ConfigError, ValueError) as exc:
        print(f"aksvend worker: configuration: {exc}", file=sys.stderr)
        return 2
    if not settings.storage_connection:
        print("aksvend worker: configuration: AzureWebJobsStorage must be a connection string (Azurite's)",
              file=sys.stderr)
        return 2
    asyncio.run(run(settings, queue_and_timer_functions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
