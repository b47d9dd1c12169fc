"""Instructions per production plan, under valgrind's callgrind (`python -m bench.plan_instructions`).

Wall-clock plans per second move by 2x with the neighbours of a shared machine; the number of instructions a plan
executes does not. This plans N and N + M of the benchmark's requests (each of another cluster, as bench_plan does)
under callgrind and prints the difference / M: what one more plan costs, without start-up and imports. Needs
`valgrind` on the PATH (it is not a project dependency: `apt-get install valgrind`); it takes about a minute. Run it
alone: a process that writes bytecode for the same files between the two runs (a test run) skews the difference.

`--plans N --built B` (internal) is the child's side: build B requests, plan the first N, and exit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

from bench.bench_plan import HUNDRED_POOLS, PRODUCTION, SUB, variants
from shared.services.planning import plan_request

REQUESTS = {"production": PRODUCTION, "hundredPools": HUNDRED_POOLS}
COLLECTED = re.compile(r"Collected : (\d+)")


def _instructions(request: str, plans: int, built: int) -> int:
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m",
                          "bench.plan_instructions", "--request", request, "--plans", str(plans), "--built",
                          str(built)],
                         capture_output=True, text=True, check=True,
                         # the same dict layouts run to run, and no bytecode written: both runs compile alike
                         env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    found = COLLECTED.search(run.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no instruction count:\n{run.stderr[-2000:]}")
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--request", choices=sorted(REQUESTS), default="production")
    parser.add_argument("--plans", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--built", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plans is not None:
        # each plan of another cluster (bench_plan); both runs build as many, so building them is not counted
        requests = variants(REQUESTS[args.request], args.built)
        for request in requests[:args.plans]:
            plan_request(request, default_subscription_id=SUB)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind); bench.bench_plan measures wall time")
    base, more = (20, 100) if args.request == "production" else (2, 10)  # 100 pools: ~25M instructions a plan
    few, many = (_instructions(args.request, n, base + more) for n in (base, base + more))
    print(json.dumps({"request": args.request, "python": sys.version.split()[0],
                      "instructionsPerPlan": (many - few) // more}))


if __name__ == "__main__":
    main()
