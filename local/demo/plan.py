"""`make demo`, first part: plan the demo's request and show what aksvend would build, in order, and how long it
takes. The second part (live.py, run by `python -m local.demo` unless `--plan-only`) builds it on the local stack
and then shows the reactions: spot nodes evicted, an on-demand fallback pool, and its scale-back after the cooldown.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from shared.domain.examples import PRODUCTION_REQUEST
from shared.domain.profiles import PROFILES
from shared.services.planning import plan_request

# The emulator's time factor: the production request's ~377 s critical path in ~11 s, a 4-minute pool create in
# ~7 s (`python -m local.demo --time-factor 1` runs at Azure's pace).
DEMO_TIME_FACTOR = 0.03
SPOT_POOL = "batch"
BUSY_SPOT_NODES = 3


def demo_request(time_factor: float = DEMO_TIME_FACTOR) -> dict[str, Any]:
    """What `make demo` builds: the production request with batch work on 3 spot nodes (the profile starts the
    spot pool at 0, which leaves nothing to evict), and the profile's fallback cooldown at the emulator's pace
    (600 s x the time factor: 18 s), so that the fallback is scaled back within the demo."""
    profile = PROFILES["production"]
    pools = [{**p, "count": BUSY_SPOT_NODES} if p["name"] == SPOT_POOL else dict(p) for p in profile["userPools"]]
    cooldown = max(1, round(profile["reactions"]["cooldownSeconds"] * time_factor))
    return {**PRODUCTION_REQUEST, "userPools": pools, "reactions": {"cooldownSeconds": cooldown}}


def print_plan(default_subscription_id: str, out: TextIO | None = None, request: dict[str, Any] | None = None) -> int:
    """The plan of the demo's request (or `request`): its tree, resources, steps and critical path; 1 if invalid."""
    out = out or sys.stdout  # looked up per call: the caller (or a test) may have replaced sys.stdout
    started = time.perf_counter()
    outcome = plan_request(request or demo_request(), default_subscription_id=default_subscription_id)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if outcome.plan is None:
        out.write("the demo's request is invalid:\n")
        for v in outcome.errors:
            out.write(f"  {v.path} {v.code}: {v.message}\n")
        return 1
    p = outcome.plan
    out.write(f"{p.tree}\n\n")
    out.write(f"Resources ({len(p.resources)}), in dependency order:\n")
    key_width, type_width = (max((len(text) for text in column), default=0)
                             for column in ([r.key for r in p.resources], [r.type for r in p.resources]))
    for r in p.resources:  # columns as wide as their longest entry
        out.write(f"  {r.key:<{key_width}}  {r.type:<{type_width}}  api-version {r.api_version}\n")
    out.write("\nSteps (a step starts when the steps it depends on are done):\n")
    id_width = max((len(s.id) for s in p.steps), default=0)
    for s in p.steps:
        after = ", ".join(s.depends_on) or "-"
        flag = "  [cluster-mutating]" if s.mutates_cluster else ""
        out.write(f"  {s.id:<{id_width}}  ~{s.estimated_seconds:>4}s  after: {after}{flag}\n")
    out.write(f"\nCritical path: {' -> '.join(p.critical_path)} ~ {p.critical_path_seconds} s\n")
    for w in outcome.warnings:
        out.write(f"warning {w.code} at {w.path}: {w.message}\n")
    out.write(f"\nPlanned in {elapsed_ms:.1f} ms (the first plan of a process, which also reads the price table; "
              "later ones take under 1 ms, docs/benchmarks.md). Docs: docs/README.md\n")
    out.flush()
    return 0
