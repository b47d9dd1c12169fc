"""`make demo`, first part: plan the production request and show what aksvend would build, in order, and how long
it takes. The second part (local/demo.py, started by `aksvend demo` unless `--plan-only`) builds it: the local
host, the request over HTTP, live progress, the resource tree, the wall time and the ARM calls."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from shared.config import Settings
from shared.services.planning import plan_request

DATA_ACCOUNT = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shop-data"
                "/providers/Microsoft.Storage/storageAccounts/stshopdata")
# The production profile plus one private endpoint, so the demo shows the whole architecture.
PRODUCTION_REQUEST = {
    "name": "shop-prod", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "production",
    "network": {"privateEndpoints": [{"name": "data", "targetResourceId": DATA_ACCOUNT, "groupId": "blob"}]},
}


def run_demo(settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: the caller (or a test) may have replaced sys.stdout
    started = time.perf_counter()
    outcome = plan_request(PRODUCTION_REQUEST, default_subscription_id=settings.default_subscription_id)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if outcome.plan is None:
        out.write("the bundled production request is invalid:\n")
        for v in outcome.errors:
            out.write(f"  {v.path} {v.code}: {v.message}\n")
        return 1
    p = outcome.plan
    out.write(f"{p.tree}\n\n")
    out.write(f"Resources ({len(p.resources)}), in dependency order:\n")
    for r in p.resources:
        out.write(f"  {r.key:<22} {r.type:<52} api-version {r.api_version}\n")
    out.write("\nSteps (a step starts when the steps it depends on are done):\n")
    for s in p.steps:
        after = ", ".join(s.depends_on) or "-"
        flag = "  [cluster-mutating]" if s.mutates_cluster else ""
        out.write(f"  {s.id:<26} ~{s.estimated_seconds:>4}s  after: {after}{flag}\n")
    out.write(f"\nCritical path: {' -> '.join(p.critical_path)} ~ {p.critical_path_seconds} s\n")
    for w in outcome.warnings:
        out.write(f"warning {w.code} at {w.path}: {w.message}\n")
    out.write(f"\nPlanned in {elapsed_ms:.1f} ms. Docs: docs/README.md\n")
    out.flush()
    return 0
