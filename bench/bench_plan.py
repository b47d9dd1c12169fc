"""Benchmark: validate + plan in one process (`python -m bench.bench_plan`).

Measures throughput (plans per second) and latency percentiles for two requests: the production profile with a
private endpoint, and a request with 100 pools (the AKS maximum). One process, one thread, so one core.
Goal (issues 2, 18, 19): at least 2,000 production plans per second.

A service plans a different request each time: each plan here is of another cluster (its own name, resource group
and private endpoint target, `variants`), more of them than any cache of the planner holds, so that no cache keyed
by a cluster's names answers from an earlier plan. `--same` plans the one request again and again instead (what
the figures before 2026-11-30 measured: caches keyed by names then hit every time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

from shared.services.planning import plan_request

SUB = "00000000-0000-0000-0000-000000000000"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata"
PRODUCTION = {"name": "shop-prod", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "production",
              "network": {"privateEndpoints": [{"name": "data", "targetResourceId": STORAGE, "groupId": "blob"}]}}
HUNDRED_POOLS = {
    "name": "big", "resourceGroup": "rg-big", "location": "westeurope", "profile": "production",
    "userPools": [{"name": f"pool{i}", "vmSize": "Standard_D8s_v5", "count": 3, "autoscale": {"min": 1, "max": 40}}
                  for i in range(99)],
    "network": {"vnetAddressSpace": "10.0.0.0/12", "serviceCidr": "172.16.0.0/16", "dnsServiceIp": "172.16.0.10",
                "podCidr": "100.64.0.0/10"},
}


WINDOW_SECONDS = 0.5
VARIANTS = 50_000  # more clusters than the planner's bounded caches hold (1,024-4,096 entries each)


def variants(raw: dict, count: int) -> list[dict]:
    """`count` requests like `raw`, each of another cluster: name, resource group and private endpoint targets."""
    out = []
    for i in range(count):
        network = raw.get("network", {})
        endpoints = [{**pe, "targetResourceId": pe["targetResourceId"].replace("/stdata", f"/stdata{i}")}
                     for pe in network.get("privateEndpoints", [])]
        out.append({**raw, "name": f"{raw['name']}-{i}", "resourceGroup": f"{raw['resourceGroup']}-{i}",
                    "network": {**network, **({"privateEndpoints": endpoints} if endpoints else {})}})
    return out


def measure(raw: dict, seconds: float, *, same: bool = False) -> dict:
    """Plans back to back for `seconds`, in windows of half a second. A shared machine's neighbours slow some windows
    down (a 2x swing on this project's 2-core VM): the overall rate is reported with the median and best window, and
    the load average the run saw, so a figure is read with its conditions."""
    requests = [raw] if same else variants(raw, VARIANTS)
    assert all(plan_request(r, default_subscription_id=SUB).valid for r in requests[:3])
    latencies: list[float] = []
    windows: list[float] = []
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        window_start, done = time.perf_counter(), 0
        while time.perf_counter() - window_start < WINDOW_SECONDS:
            request = requests[len(latencies) % len(requests)]
            t0 = time.perf_counter()
            plan_request(request, default_subscription_id=SUB)
            latencies.append(time.perf_counter() - t0)
            done += 1
        windows.append(done / (time.perf_counter() - window_start))
    wall = time.perf_counter() - started
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"plans": len(latencies), "plansPerSecond": round(len(latencies) / wall, 1),
            "medianWindowPlansPerSecond": round(statistics.median(windows), 1),
            "bestWindowPlansPerSecond": round(max(windows), 1),
            "p50Ms": round(pct(0.50), 3), "p99Ms": round(pct(0.99), 3),
            "meanMs": round(statistics.mean(latencies) * 1000, 3),
            "loadAverage": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--same", action="store_true", help="plan one request again and again (caches hit)")
    args = parser.parse_args()
    results = {"python": platform.python_version(), "requests": "the same" if args.same else "distinct",
               "production": measure(PRODUCTION, args.seconds, same=args.same),
               "hundredPools": measure(HUNDRED_POOLS, args.seconds, same=args.same)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
