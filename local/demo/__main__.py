"""`python -m local.demo [--plan-only] [--time-factor F]` (`make demo`): the plan, then the live demo.

Exit codes: 0 done, 1 the demo's request is invalid or the live part failed, 2 the configuration is wrong.
"""

from __future__ import annotations

import argparse
import sys
import time

from local.demo.plan import DEMO_TIME_FACTOR, print_plan
from shared.config import ConfigError, Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m local.demo",
                                description="plan the production request, build it on the local stack with live "
                                            "progress (Azurite, the ARM emulator, the function app), then evict spot "
                                            "nodes and show the on-demand fallback and its scale-back")
    p.add_argument("--plan-only", action="store_true", help="only print the plan; start nothing")
    p.add_argument("--time-factor", type=float, default=DEMO_TIME_FACTOR,
                   help=f"the ARM emulator's time factor (default {DEMO_TIME_FACTOR}; 1 is Azure's pace)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"demo: configuration: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()  # the closing wall time counts from before the plan
    code = print_plan(settings.default_subscription_id)
    if code or args.plan_only:
        return code
    from local.demo.live import run_live  # the host client and httpx: only when it runs live

    return run_live(time_factor=args.time_factor, started=started)


if __name__ == "__main__":
    sys.exit(main())
