"""Function app figures (issue 5): cold start, and POST /api/clusters through the local host.

- Cold start: the time `import function_app` takes in a fresh interpreter, measured inside it (median of RUNS),
  beside the whole process's wall time and an empty interpreter's. Goal: under 0.6 s.
- POST /api/clusters: the local host as a child process (its own Azurite and emulator), CLIENTS concurrent clients
  (httpx.AsyncClient, keep-alive), each request a distinct cluster name, until REQUESTS were sent or SECONDS
  passed. Requests per second and p50/p99 latency of the 202s. The engine provisions in the background, so the
  host is busy with queue work too, as in Azure.

    python -m bench.bench_api [--runs 5] [--clients 8] [--requests 400] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from local.host.client import local_host

ROOT = Path(__file__).resolve().parents[1]


IMPORT_TIMER = "import time; t = time.perf_counter(); import function_app; print(time.perf_counter() - t)"


def cold_start(runs: int) -> tuple[float, float, float]:
    """Medians over fresh interpreters: the import of function_app measured inside the process (the goal's
    figure), the whole process's wall time with that import (start, import, interpreter teardown), and the
    wall time of an interpreter that imports nothing."""

    def timed(code: str) -> tuple[float, str]:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
        return time.perf_counter() - started, out.stdout

    timed(IMPORT_TIMER)  # warm the page cache and __pycache__ once
    runs_ = [timed(IMPORT_TIMER) for _ in range(runs)]
    in_process = statistics.median(float(out) for _, out in runs_)
    wall = statistics.median(w for w, _ in runs_)
    bare = statistics.median(timed("pass")[0] for _ in range(runs))
    return in_process, wall, bare


async def post_load(base_url: str, clients: int, requests: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    deadline = time.monotonic() + seconds

    async def client(worker: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            for n in counter:
                if time.monotonic() > deadline:
                    return
                body = {"name": f"bench-{n}", "resourceGroup": f"rg-bench-{n % 50}", "location": "westeurope",
                        "profile": "development"}
                started = time.perf_counter()
                response = await http.post("/api/clusters", json=body)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(ordered), "seconds": elapsed, "rps": len(ordered) / elapsed,
            "p50": ordered[len(ordered) // 2] * 1000, "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            * 1000, "accepted": statuses.get(202, 0), "statuses": statuses}  # type: ignore[dict-item]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.bench_api")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args()

    in_process, wall, bare = cold_start(args.runs)
    print(f"cold start: import function_app takes {in_process:.3f} s in a fresh interpreter (median of "
          f"{args.runs}; goal < 0.6 s); the whole process {wall:.3f} s, an empty interpreter {bare:.3f} s",
          flush=True)

    with local_host("--time-factor", "0.01") as host:
        with httpx.Client(base_url=host.base_url) as http:  # open the app's runtime before measuring
            http.get("/api/clusters").raise_for_status()
        figures = asyncio.run(post_load(host.base_url, args.clients, args.requests, args.seconds))
    print(f"POST /api/clusters, {args.clients} clients: {figures['requests']:.0f} requests in "
          f"{figures['seconds']:.1f} s = {figures['rps']:.1f} req/s; p50 {figures['p50']:.1f} ms, "
          f"p99 {figures['p99']:.1f} ms; statuses {figures['statuses']}", flush=True)


if __name__ == "__main__":
    main()
