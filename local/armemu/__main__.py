"""`python -m local.armemu`: start the ARM emulator, print one JSON line `{"baseUrl", "caCert"}` when ready, serve
until SIGTERM or SIGINT, then exit 0."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from .app import Emulator
from .settings import RETRY_AFTER_MODES, EmulatorSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.armemu", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="only 127.0.0.1 or localhost")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--time-factor", type=float, default=0.01, help="multiplies every latency (1 = Azure's)")
    parser.add_argument("--state-dir", type=Path, help="keep the certificate and state.json here across restarts")
    parser.add_argument("--faults", type=Path, help="a JSON fault plan (see docs/emulator.md)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault plan's random draws")
    parser.add_argument(
        "--retry-after",
        choices=RETRY_AFTER_MODES,
        default="none",
        help="polling hint on long-running operations: Retry-After seconds, retry-after-ms, or none (the default, "
        "as real AKS sends none)",
    )
    parser.add_argument(
        "--no-retry-after",
        action="store_const",
        const="none",
        dest="retry_after",
        help="the same as --retry-after none (the default), kept for scripts that name it",
    )
    parser.add_argument("--no-throttling", action="store_true", help="turn the token buckets off")
    parser.add_argument("--webhook-url", help="where spot eviction and AKS events are POSTed")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    settings = EmulatorSettings(
        time_factor=args.time_factor,
        seed=args.seed,
        retry_after=args.retry_after,
        throttling=not args.no_throttling,
        webhook_url=args.webhook_url,
    )
    faults = json.loads(args.faults.read_text()) if args.faults else None
    emulator = Emulator(settings, host=args.host, port=args.port, state_dir=args.state_dir, faults=faults)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with emulator:
        print(emulator.ready_line(), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
