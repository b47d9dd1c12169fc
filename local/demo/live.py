"""The live half of `make demo`: start the local host, submit the demo's request (plan.py) over HTTP, show
the steps as they run, then the resource tree, the wall time and the ARM calls by kind; then evict spot nodes and
show aksvend's reaction (reactions.py); then stop everything it started and say how long each part took.

`python -m local.demo` (__main__.py) runs the whole demo, the plan first.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any, TextIO

import httpx

from local.demo.plan import DEMO_TIME_FACTOR, SPOT_POOL, demo_request
from local.demo.reactions import Reactions, show_reactions
from local.host.client import SUBSCRIPTION, ArmControl, RunningHost, local_host
from shared.domain.examples import DATA_ACCOUNT

DEADLINE_SECONDS = 300.0
SWEEP_EVERY_SECONDS = 1.0  # the sweeper timer (every minute in Azure), so the scale-back follows the cooldown closely
MARKS = {"succeeded": "✓", "failed": "✗", "running": "▸", "ready": "▹", "queued": "·", "waiting": "·",
         "cancelled": "-"}


class Progress:
    """A compact view of an operation: redrawn in place on a terminal, one line per change otherwise."""

    def __init__(self, out: TextIO, started: float) -> None:
        self.out = out
        self.tty = out.isatty()
        self.started = started
        self.drawn = 0
        self.seen: dict[str, str] = {}

    def update(self, op: dict[str, Any]) -> None:
        if self.tty:
            self._redraw(op)
        else:
            self._changes(op)

    def _redraw(self, op: dict[str, Any]) -> None:
        width = 24
        filled = round(width * op["progress"] / 100)
        lines = [f"  {op['state']:<9} [{'#' * filled}{'.' * (width - filled)}] {op['progress']:>3}%  "
                 f"{time.monotonic() - self.started:5.1f} s"]
        width = _id_width(op)
        for step in op["steps"]:
            lines.append(f"    {MARKS.get(step['state'], '?')} {step['id']:<{width}} {_step_time(step)}")
        up = f"\x1b[{self.drawn}F" if self.drawn else ""
        self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.out.flush()
        self.drawn = len(lines)

    def _changes(self, op: dict[str, Any]) -> None:
        elapsed = time.monotonic() - self.started
        width = _id_width(op)
        for step in [{"id": "operation", "state": op["state"]}, *op["steps"]]:
            if self.seen.get(step["id"]) != step["state"]:
                self.seen[step["id"]] = step["state"]
                took = f"  ({_step_time(step).strip()})" if step.get("endedAt") else ""
                self.out.write(f"  {elapsed:5.1f} s  {MARKS.get(step['state'], '?')} {step['id']:<{width}} "
                               f"{step['state']}{took}\n")
        self.out.flush()


def _id_width(op: dict[str, Any]) -> int:
    """The step column's width: the longest step id (private endpoints' ids grow with their names), at least 26."""
    return max([26, *(len(step["id"]) for step in op["steps"])])


def _step_time(step: dict[str, Any]) -> str:
    start, end = step.get("startedAt"), step.get("endedAt")
    if not start:
        return step["state"]
    seconds = ((datetime.fromisoformat(end) if end else datetime.now(datetime.fromisoformat(start).tzinfo))
               - datetime.fromisoformat(start)).total_seconds()
    return f"{seconds:5.1f} s" if end else f"{step['state']} {seconds:4.1f} s"


def run_live(out: TextIO | None = None, time_factor: float = DEMO_TIME_FACTOR, *,
             started: float | None = None) -> int:
    """The live part; `started` (time.monotonic()) is when the demo began, for the wall time at the end."""
    out = out or sys.stdout
    phases = Phases(started)
    out.write(f"\nStarting the local host: Azurite, the ARM emulator (time factor {time_factor}) and the function "
              f"app, its sweeper timer every {SWEEP_EVERY_SECONDS:g} s ...\n")
    out.flush()
    secret = secrets.token_urlsafe(16)  # the events webhook's shared secret, for this run only
    env = {**os.environ, "AKSVEND_EVENTS_WEBHOOK_SECRET": secret}
    try:
        with local_host("--time-factor", str(time_factor), "--timer-every", str(SWEEP_EVERY_SECONDS), env=env) as host:
            phases.mark("start-up")
            reactions = build_and_react(host, out, demo_request(time_factor), secret, phases)
            out.write("\nStopping the local host, Azurite and the emulator ...\n")
            out.flush()
    except (RuntimeError, TimeoutError, OSError, httpx.HTTPError) as exc:
        out.write(f"demo: {exc}\n")
        return 1
    phases.mark("stopping")
    out.write(f"Done in {phases.total():.1f} s wall time, from the plan to the stop ({phases}).\n")
    out.write("\nNext: `make serve` runs the same stack and stays up, on http://127.0.0.1:7071 with the Swagger UI at "
              "http://127.0.0.1:7071/api/docs. Docs: docs/README.md; this demo: docs/local.md.\n")
    return 0 if reactions is not None and reactions.ok else 1


class Phases:
    """Wall time per part of the demo, from one monotonic clock."""

    def __init__(self, started: float | None = None) -> None:
        self.started = self.last = started if started is not None else time.monotonic()
        self.parts: list[tuple[str, float]] = []

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.parts.append((name, now - self.last))
        self.last = now

    def total(self) -> float:
        return self.last - self.started

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.parts)


def build_and_react(host: RunningHost, out: TextIO, request: dict[str, Any], secret: str,
                    phases: Phases) -> Reactions | None:
    """Provision `request` through the host's API, then evict spot nodes of its spot pool and follow the reaction
    (None when the cluster was not built)."""
    functions = host.ready["functions"]
    out.write(f"  {host.base_url}  ·  {len(functions)} functions: "
              + ", ".join(f"{n} ({t.removesuffix('Trigger')})" for n, t in functions.items()) + "\n")
    with ArmControl(host.ready["armUrl"], host.ready["armCaCert"]) as arm, \
            httpx.Client(base_url=host.base_url, timeout=30) as api:
        # Event Grid's subscription, as the operator sets it up in Azure: the emulator delivers to the webhook.
        arm.control("PATCH", "settings", {"webhookUrl": f"{host.base_url}/api/events?code={secret}"})
        cluster = provision(api, arm, request, out)
        phases.mark("provisioning")
        if cluster.get("state") != "ready":
            return None
        reactions = show_reactions(api, arm, cluster, out, spot_pool=SPOT_POOL, sweep_every=SWEEP_EVERY_SECONDS)
        phases.mark("spot eviction to scale-back")
        return reactions


def provision(api: httpx.Client, arm: ArmControl, request: dict[str, Any], out: TextIO) -> dict[str, Any]:
    """POST the request, show its steps until it ends, then the report; returns aksvend's view of the cluster."""
    arm.make_storage_account(DATA_ACCOUNT)
    before = arm.counters()
    out.write("\nPOST /api/clusters (the production request, batch work on spot nodes) ...\n")
    started = time.monotonic()
    response = api.post("/api/clusters", json=request, headers={"Idempotency-Key": f"demo-{request['name']}"})
    if response.status_code != 202:
        out.write(f"  refused: {response.status_code} {response.text[:500]}\n")
        return {}
    out.write(f"  202 Accepted · Location: {response.headers['Location']}\n\n")
    progress = Progress(out, started)
    op = api.get(response.headers["Location"]).json()
    while op["state"] not in ("succeeded", "failed") and time.monotonic() - started < DEADLINE_SECONDS:
        progress.update(op)
        time.sleep(0.25)  # the display's refresh interval; the loop ends on the operation's state
        op = api.get(response.headers["Location"]).json()
    progress.update(op)
    wall = time.monotonic() - started
    found = api.get(f"/api/clusters/{SUBSCRIPTION}/{request['resourceGroup']}/{request['name']}")
    cluster = found.json() if found.status_code == 200 else {}
    report(out, op, cluster, arm, before, wall, request["resourceGroup"])
    return cluster if op["state"] == "succeeded" else {}


def report(out: TextIO, op: dict[str, Any], cluster: dict[str, Any], arm: ArmControl, before: dict[str, Any],
           wall: float, resource_group: str) -> None:
    out.write(f"\nOperation {op['state']} in {wall:.1f} s (wall time, POST to done)")
    if op.get("error"):
        out.write(f": {op['error'].get('code')} {op['error'].get('message', '')[:300]}")
    out.write("\n\n")
    out.write(resource_tree(arm.inventory(), resource_group))
    if cluster:
        pools = ", ".join(f"{p['name']} {p['count']}x{p['vmSize']}" for p in cluster.get("pools", []))
        out.write(f"\nCluster {cluster.get('name')}: {cluster.get('state')} · pools: {pools}\n")
    out.write("\nARM calls made for it, by kind:\n")
    for line in calls_by_kind(before, arm.counters()):
        out.write(f"  {line}\n")


def resource_tree(inventory: list[dict[str, Any]], resource_group: str) -> str:
    """The resources under one resource group as a tree (children under their parent), with their states."""
    prefix = f"/resourcegroups/{resource_group.lower()}/"
    mine = sorted((r for r in inventory if prefix in r["id"].lower()), key=lambda r: r["id"].lower())
    ids = {r["id"].lower() for r in mine}
    lines = [f"Resource group {resource_group}"]

    def parent(rid: str) -> str | None:
        head, _, _ = rid.rpartition("/")
        head, _, _ = head.rpartition("/")
        return head if head.lower() in ids and "/providers/" in head.lower() else None

    def walk(node: str | None, indent: str) -> None:
        children = [r for r in mine if "/providers/" in r["id"].lower() and parent(r["id"]) == node]
        for i, r in enumerate(children):
            last = i == len(children) - 1
            name = r["id"].rsplit("/", 1)[1]
            state = f", {r['provisioningState']}" if r.get("provisioningState") else ""
            lines.append(f"{indent}{'└── ' if last else '├── '}{name}  ({r['type']}{state})")
            walk(r["id"], indent + ("    " if last else "│   "))

    walk(None, "")
    return "\n".join(lines) + "\n"


def calls_by_kind(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Counter deltas: per resource type and method, then the totals by method."""
    rows: Counter[tuple[str, str]] = Counter()
    for rtype, methods in after.get("byResourceType", {}).items():
        for method, n in methods.items():
            delta = n - before.get("byResourceType", {}).get(rtype, {}).get(method, 0)
            if delta:
                rows[(rtype, method)] += delta
    by_method: Counter[str] = Counter()
    for (_, method), n in rows.items():
        by_method[method] += n
    width = max((len(t) for t, _ in rows), default=10)
    lines = [f"{rtype:<{width}}  {method:<6} {n:>4}" for (rtype, method), n in sorted(rows.items())]
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{m} {n}" for m, n in sorted(by_method.items()))
                 + f"  = {sum(by_method.values())}")
    return lines
