"""Importing function_app stays cheap (cold start, see docs/benchmarks.md): what only some invocations need is
imported on first use. Checked by what gets imported, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("azure.mgmt", "azure.data.tables", "azure.storage.queue", "azure.identity", "azure.eventgrid",
         "pydantic.v1", "shared.engine.engine", "shared.domain.plan", "shared.adapters")


def test_importing_function_app_loads_no_sdk_client_and_no_engine():
    code = "import json, sys, function_app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60).stdout
    loaded = json.loads(out)
    assert [m for m in loaded if m.startswith(HEAVY)] == []


def test_the_product_imports_nothing_of_the_dev_stack_when_it_runs():
    code = ("import json, sys, function_app, shared.bootstrap, shared.cli, functions.runtime; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=60).stdout
    assert [m for m in json.loads(out) if m == "local" or m.startswith("local.")] == []
