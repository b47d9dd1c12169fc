"""Benchmark of the provisioning engine (`python -m bench.bench_engine [--quick]`; prints figures, asserts nothing).

Set-up: the ARM emulator (`python -m local.armemu`) and Azurite run as child processes on ephemeral 127.0.0.1 ports;
aksvend runs as `python -m local.host.worker`, one process, configured by environment as the function app is. This
process builds its own Engine over the same tables and queue (shared.bootstrap.open_engine) only to submit
(shared.engine.submit) and to read the operations table.

1. The production request (shared/domain/examples.py: production profile + one private endpoint to a storage account
   created first) at a fixed time factor: wall time from submit to Succeeded divided by the critical path of the
   emulator's own latency model along the plan's DAG (goal <= 1.10); then the baseline (bench/baseline_az.py: every
   resource created and waited for in turn with the sync SDK pollers, user pools added one by one) on the same
   emulator (goal: aksvend >= 2.5x faster). ARM requests by method for both (the emulator's counters, reset in between).
2. Fleets of N production requests (distinct clusters and resource groups) submitted at once, throttling on: time to
   all Succeeded, failures, ARM requests per cluster, duplicate PUTs, peak RSS of the worker; a PNG of clusters
   completed over time. `--workers 1 2 3` runs each fleet with that many worker processes consuming the same queues
   (as Functions instances of one app) and draws the scaling of the largest fleet.

Time factor 0.1 (default): the critical path is 550 s x 0.1 = 55 s (the work model: VNet 10 s, then the cluster:
control plane 120 s plus its slowest pool, the GPU pool's 240 + 180 s), long against the queue's 1-second visibility
granularity, and the emulator's scaled polling hint (10 s x 0.1 = 1 s) is a whole number of seconds, so
`--retry-after seconds` (what ARM's network providers send, and the only unit a queue visibility delay has) loses
nothing to rounding on either side; `ms` would give the SDK baseline sub-second polls of short operations that the
queue cannot express, and the same 1 s for everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue.aio import QueueClient

from bench import baseline_az, baseline_azcli
from bench.engine_env import (
    RAISED_QUOTA,
    ROOT,
    SUB,
    Emulator,
    counter_diff,
    cpu_seconds,
    critical_path,
    emulated_seconds,
    emulator,
    peak_rss_mib,
    wait_ready,
    worker,
    worker_env,
    workers,
)
from bench.fleet_plots import plot, plot_scaling
from local.azurite import start_azurite
from local.credential import AsyncOfflineCredential
from shared.bootstrap import STEPS_QUEUE, open_engine
from shared.config import Settings
from shared.domain.examples import PRODUCTION_REQUEST
from shared.domain.operations import steps_for
from shared.domain.request import ClusterRequest
from shared.domain.rules import check
from shared.engine import Engine, submit
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW, STEP_PREFIX, TERMINAL_OPS, StepRecord

PLOT = ROOT / "docs" / "bench-fleet.png"
SCALING_PLOT = ROOT / "docs" / "bench-scaleout.png"


def production(name: str = "shop-prod", group: str = "rg-shop") -> ClusterRequest:
    request, violations = check({**PRODUCTION_REQUEST, "name": name, "resourceGroup": group},
                                default_subscription_id=SUB)
    if request is None:
        raise ValueError(f"invalid request: {violations}")
    return request


async def bench_engine(connection: str, emu: Emulator, stack: AsyncExitStack) -> Engine:
    settings = Settings(default_subscription_id=SUB, storage_connection=connection, arm_endpoint=emu.base_url,
                        arm_ca_cert=emu.ca_cert, local=True)  # the emulator's endpoint and CA: local mode only
    return await open_engine(settings, stack, credential=AsyncOfflineCredential())


async def wait_worker_ready(connection: str, timeout: float = 60.0) -> None:
    """Send a message the engine drops (no such operation) and wait until the worker has consumed it."""
    async with QueueClient.from_connection_string(connection, STEPS_QUEUE) as queue:
        with contextlib.suppress(ResourceExistsError):  # the worker may have made it already
            await queue.create_queue()
        await queue.send_message(base64.b64encode(b'{"op":"bench-warm-up"}').decode())
        deadline = time.monotonic() + timeout
        while (await queue.get_queue_properties()).approximate_message_count:
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not start consuming the step queue")
            await asyncio.sleep(0.05)


async def wait_all(engine: Engine, op_ids: Iterable[str], timeout: float, every: float = 0.25
                   ) -> dict[str, dict[str, Any]]:
    """Poll the operations table until every operation is terminal or the deadline passes. The active index lists
    the unfinished ones, so a round costs one partition query plus one read per operation that just left it."""
    pending = set(op_ids)
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        active = {v.entity["RowKey"] for v in await engine.ops.query_partition(ACTIVE_PARTITION)}
        for op_id in [o for o in pending if o not in active]:
            row = await engine.ops.get(op_id, OPERATION_ROW)
            if row is not None and row.entity["state"] in TERMINAL_OPS:
                done[op_id] = row.entity
                pending.discard(op_id)
        if pending:
            await asyncio.sleep(every)
    for op_id in pending:
        row = await engine.ops.get(op_id, OPERATION_ROW)
        done[op_id] = dict(row.entity) if row else {"state": "missing"}
        done[op_id]["timedOut"] = True
    return done


def _offset(at: datetime | None, t0: datetime) -> float | None:
    return None if at is None else round((at - t0).total_seconds(), 3)


# ---- 1. one production request, and the baseline ---------------------------------------------------------------
async def single(emu: Emulator, connection: str, time_factor: float, timeout: float) -> dict[str, Any]:
    request = production()
    specs = steps_for("create-cluster", request)
    cp_seconds, cp_steps = critical_path(specs, time_factor)
    emu.reset()
    async with AsyncExitStack() as stack:
        engine = await bench_engine(connection, emu, stack)
        with worker(worker_env(connection, emu, time_factor)) as w:
            await wait_worker_ready(connection)
            before = emu.counters()
            t0 = datetime.now(UTC)
            op_id = (await submit(engine, "create-cluster", request)).operation_id
            op = (await wait_all(engine, [op_id], timeout, every=0.05))[op_id]
            rows = await engine.ops.query_partition(op_id)
            after = emu.counters()
            log = emu.request_log()
            rss = peak_rss_mib(w.pid)
    steps = {s.id: s for s in (StepRecord.from_entity(r.entity, r.etag) for r in rows
                               if r.entity["RowKey"].startswith(STEP_PREFIX))}
    wall = (op["endedAt"] - t0).total_seconds() if op.get("endedAt") else None
    cluster_put = next(e["time"] for e in log if e["method"] == "PUT" and e["path"].split("?")[0].endswith(
        f"/managedClusters/{request.name}"))
    cluster_due = cluster_put + emulated_seconds(next(s for s in specs if s.id == "put:cluster"), time_factor)
    cluster_end = steps["put:cluster"].ended_at
    return {
        "state": op["state"], "error": op.get("error"), "wallSeconds": round(wall, 3) if wall else None,
        "criticalPathSeconds": round(cp_seconds, 3), "criticalPath": cp_steps,
        "ratio": round(wall / cp_seconds, 3) if wall else None,
        "armRequests": counter_diff(after, before), "workerPeakRssMiB": rss,
        "clusterPutAfterSubmit": round(cluster_put - t0.timestamp(), 3),
        "clusterSeenDoneAfterDue": round(cluster_end.timestamp() - cluster_due, 3) if cluster_end else None,
        "steps": {s.id: {"start": _offset(s.started_at, t0), "end": _offset(s.ended_at, t0), "polls": s.polls,
                         "attempts": s.attempts} for s in sorted(steps.values(), key=lambda s: s.started_at or t0)},
    }


def baseline(emu: Emulator) -> dict[str, Any]:
    emu.reset()
    before = emu.counters()
    result = baseline_az.provision(emu.base_url, emu.ca_cert)
    result["armRequests"] = counter_diff(emu.counters(), before)
    return result


def baseline_cli(emu: Emulator) -> dict[str, Any]:
    """The real az script (bench/baseline_azcli.py), logged in before the clock starts."""
    az = baseline_azcli.logged_in(emu.base_url, emu.ca_cert, SUB)
    emu.reset()
    before = emu.counters()
    result = baseline_azcli.provision(az)
    result["armRequests"] = counter_diff(emu.counters(), before)
    return result


# ---- 2. fleets --------------------------------------------------------------------------------------------------
async def fleet(emu: Emulator, size: int, time_factor: float, timeout: float, profile_dir: Path | None = None,
                count: int = 1) -> dict[str, Any]:
    """N production requests submitted at once to `count` worker processes consuming the same queues."""
    requests = [production(f"fleet{size}-{i:03d}", f"rg-fleet{size}-{i:03d}") for i in range(size)]
    emu.reset(quota=RAISED_QUOTA)
    azurite = start_azurite()
    try:
        connection = azurite.connection_string
        async with AsyncExitStack() as stack:
            engine = await bench_engine(connection, emu, stack)
            with workers(worker_env(connection, emu, time_factor), profile_paths(profile_dir, size, count)) as ws:
                wait_ready(ws)
                await wait_worker_ready(connection)
                pids = {"emulator": emu.pid, "azurite": azurite.pid, **{f"worker{n}": w.pid for n, w in enumerate(ws)}}
                before, cpu0 = emu.counters(), {k: cpu_seconds(pid) for k, pid in pids.items()}
                t0 = datetime.now(UTC)
                gate = asyncio.Semaphore(32)

                async def one(request: ClusterRequest) -> str:
                    async with gate:
                        return (await submit(engine, "create-cluster", request)).operation_id

                op_ids = await asyncio.gather(*(one(r) for r in requests))
                submitted = (datetime.now(UTC) - t0).total_seconds()
                ops = await wait_all(engine, op_ids, timeout, every=1.0)  # end times come from endedAt
                rss = [peak_rss_mib(w.pid) for w in ws]
                cpu = {k: round((cpu_seconds(pid) or 0) - (cpu0[k] or 0), 1) for k, pid in pids.items()}
                after, log = emu.counters(), emu.request_log()
                worker_warnings = sum(" WARNING " in f" {line}" or line.startswith("WARNING")
                                      for w in ws for line in w.log_text().splitlines())
    finally:
        azurite.stop()
    ends = sorted((o["endedAt"] - t0).total_seconds() for o in ops.values()
                  if o.get("state") == "succeeded" and o.get("endedAt"))
    failed = [{"state": o.get("state"), "error": o.get("error")} for o in ops.values() if o.get("state") != "succeeded"]
    arm = counter_diff(after, before)
    cluster_step = next(s for s in steps_for("create-cluster", requests[0]) if s.id == "put:cluster")
    cluster_seconds = emulated_seconds(cluster_step, time_factor)
    phases = cluster_phases(log, {op_id: r.name for op_id, r in zip(op_ids, requests, strict=True)}, ops, t0,
                            cluster_seconds)
    clusters = [r for r in emu.control("GET", "inventory?type=Microsoft.ContainerService/managedClusters")["value"]
                if r["provisioningState"] == "Succeeded"]
    worker_cpu = [cpu[f"worker{n}"] for n in range(count)]
    return {
        "size": size, "workers": count, "succeeded": len(ends), "failures": len(failed), "failed": failed[:5],
        "submitSeconds": round(submitted, 3),
        "allSucceededSeconds": round(ends[-1], 3) if ends and not failed else None,
        "firstSeconds": round(ends[0], 3) if ends else None,
        "medianSeconds": round(ends[len(ends) // 2], 3) if ends else None,
        "armRequests": arm, "armRequestsPerCluster": round(arm["total"] / size, 1),
        "armByMethodPerCluster": {k: round(v / size, 1) for k, v in arm["byMethod"].items()},
        "duplicatePuts": duplicate_puts(log),
        "throttled429": arm["byStatus"].get("429", 0),
        "clustersSucceededInEmulator": len(clusters),
        "workerPeakRssMiB": max((r for r in rss if r is not None), default=None), "workersPeakRssMiB": rss,
        "workerWarnings": worker_warnings, **phases,
        "cpuSeconds": {"worker": round(sum(worker_cpu), 1), "workers": worker_cpu,
                       "emulator": cpu["emulator"], "azurite": cpu["azurite"]},
        "completions": [round(x, 3) for x in ends],
    }


def profile_paths(profile_dir: Path | None, size: int, count: int) -> list[Path | None]:
    """Where each worker's cProfile statistics go (None: not profiled); one worker keeps the earlier name."""
    if profile_dir is None:
        return [None] * count
    if count == 1:
        return [profile_dir / f"worker-fleet{size}.prof"]
    return [profile_dir / f"worker-fleet{size}-{count}w-{n}.prof" for n in range(count)]


def duplicate_puts(log: list[dict[str, Any]]) -> int:
    """PUTs ARM accepted (2xx) beyond the first for the same resource: a write sent twice."""
    seen: dict[str, int] = {}
    for e in log:
        if e["method"] == "PUT" and e["status"] < 300:
            key = e["path"].split("?")[0].lower()
            seen[key] = seen.get(key, 0) + 1
    return sum(n - 1 for n in seen.values())


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    values = sorted(values)
    return {"p50": round(values[len(values) // 2], 2), "p90": round(values[int(len(values) * 0.9)], 2),
            "max": round(values[-1], 2)}


def cluster_phases(log: list[dict[str, Any]], names: dict[str, str], ops: dict[str, dict[str, Any]], t0: datetime,
                   cluster_seconds: float) -> dict[str, Any]:
    """Where a fleet's time goes, per cluster: from submit to the cluster PUT (the steps before it, through the
    queue), and from the emulator's due time of the cluster create to the operation's end (noticing it)."""
    puts = {}
    for e in log:
        if e["method"] == "PUT" and e["status"] < 300 and "/managedClusters/" in e["path"] and "/agentPools" not in e[
                "path"]:
            puts.setdefault(e["path"].split("?")[0].rsplit("/", 1)[1], e["time"])
    to_put, lag = [], []
    for op_id, name in names.items():
        ended = ops.get(op_id, {}).get("endedAt")
        if name in puts:
            to_put.append(puts[name] - t0.timestamp())
            if ended:
                lag.append(ended.timestamp() - (puts[name] + cluster_seconds))
    span = (max(e["time"] for e in log) - min(e["time"] for e in log)) if log else 0
    return {"clusterPutAfterSubmit": _percentiles(to_put), "doneAfterEmulatorDue": _percentiles(lag),
            "armRequestsPerSecond": round(len(log) / span, 1) if span else None}


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in subprocess.run(
        ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines() if line.startswith("Model name")),
        platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _loaded(result: dict[str, Any], load_before: tuple[float, float, float]) -> dict[str, Any]:
    result["loadAverage"] = {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in os.getloadavg()]}
    return result


async def side_by_side(emu: Emulator, time_factor: float, args: argparse.Namespace) -> dict[str, Any]:
    """One production request by aksvend, then the SDK baseline, then the real az script, on one emulator."""
    out: dict[str, Any] = {"timeFactor": time_factor}
    azurite = start_azurite()
    try:
        print(f"-- aksvend, one production request (time factor {time_factor})", flush=True)
        load = os.getloadavg()
        out["aksvend"] = _loaded(await single(emu, azurite.connection_string, time_factor, args.timeout), load)
        print(json.dumps({k: v for k, v in out["aksvend"].items() if k != "steps"}), flush=True)
    finally:
        azurite.stop()
    wall = out["aksvend"].get("wallSeconds")
    if not args.skip_baseline:
        for key, label, run_baseline in (("baseline", "SDK baseline (sync pollers)", baseline),
                                         ("azBaseline", "real az script", baseline_cli)):
            print(f"-- {label} (time factor {time_factor})", flush=True)
            load = os.getloadavg()
            out[key] = _loaded(await asyncio.to_thread(run_baseline, emu), load)
            print(json.dumps({k: v for k, v in out[key].items() if k != "steps"}), flush=True)
            if wall:
                out[f"speedupOver{key[0].upper()}{key[1:]}"] = round(out[key]["seconds"] / wall, 2)
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    factors = args.time_factor
    results: dict[str, Any] = {"machine": machine(), "timeFactors": factors, "retryAfter": "seconds"}
    if not args.skip_single:
        results["sideBySide"] = []
        for factor in factors:
            with emulator(factor, retry_after="seconds") as emu:
                results["sideBySide"].append(await side_by_side(emu, factor, args))
    with emulator(factors[0], retry_after="seconds") as emu:
        fleets = []
        for size in args.fleet:
            for count in args.workers:
                print(f"-- fleet of {size}, {count} worker(s)", flush=True)
                load_before = os.getloadavg()
                result = await fleet(emu, size, factors[0], args.timeout + size * 2.0, args.profile_worker,
                                     count)
                result["loadAverage"] = {"before": [round(x, 2) for x in load_before],
                                         "after": [round(x, 2) for x in os.getloadavg()]}
                print(json.dumps({k: v for k, v in result.items() if k != "completions"}), flush=True)
                fleets.append(result)
        results["fleets"] = fleets
    cp = critical_path(steps_for("create-cluster", production()), factors[0])[0]
    if fleets and args.plot:
        if len(args.workers) > 1:
            plot_scaling([f for f in fleets if f["size"] == args.fleet[-1]], cp, args.plot, factors[0],
                         os.cpu_count())
        else:
            plot(fleets, cp, args.plot, factors[0])
        results["plot"] = str(args.plot)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fleets of 10 and 40 instead of 50 and 200; no plot")
    parser.add_argument("--time-factor", type=float, nargs="+", default=[0.1],
                        help="the emulator's time factors: the side-by-side runs at each, the fleets at the first")
    parser.add_argument("--fleet", type=int, nargs="*", help="fleet sizes (default 50 200)")
    parser.add_argument("--timeout", type=float, default=240.0, help="deadline for one run, seconds")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--plot", type=Path, help=f"where to draw the fleet plot (default {PLOT.relative_to(ROOT)})")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    parser.add_argument("--profile-worker", type=Path, metavar="DIR",
                        help="run the fleet workers under cProfile, statistics to DIR/worker-fleet<N>.prof")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], metavar="N",
                        help="worker processes consuming the queues (default 1); several counts, e.g. `1 2 3`, run "
                             f"each fleet with each and draw the scaling of the largest fleet (default "
                             f"{SCALING_PLOT.relative_to(ROOT)})")
    args = parser.parse_args()
    if args.fleet is None:
        args.fleet = [10, 40] if args.quick else [50, 200]
    if any(n < 1 for n in args.workers):
        parser.error("--workers: each count must be at least 1")
    if args.plot is None and not args.quick:
        args.plot = SCALING_PLOT if len(args.workers) > 1 else PLOT
    results = asyncio.run(run(args))
    text = json.dumps(results, indent=2, default=str)
    if args.json:
        args.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
