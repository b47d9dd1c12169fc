"""`aksvend plan`: tree and warnings with exit 0, a violation table with exit 1, unreadable input exit 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli import main, request_schema
from tests.requests import MINIMAL_PRODUCTION

ROOT = Path(__file__).resolve().parents[2]


def _run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prints_the_production_tree_and_exits_0(tmp_path, capsys):
    f = tmp_path / "req.json"
    f.write_text(json.dumps(MINIMAL_PRODUCTION))
    code, out, _ = _run(["plan", str(f)], capsys)
    assert code == 0
    assert out.startswith("AKS Cluster shop-prod (westeurope)\n├── Control plane (managed by Azure)")
    assert "System pool  system · 3 x Standard_D4s_v5 · zones 1,2,3 · CriticalAddonsOnly=true:NoSchedule" in out
    assert "ADDON_DEFAULT_WORKSPACE" in out  # warnings are shown


def test_plan_reads_yaml_from_stdin(capsys, monkeypatch):
    code, out, _ = _run(["plan", "-"], capsys, "name: shop-prod\nresourceGroup: rg-shop\nlocation: westeurope\n"
                        "profile: production\n", monkeypatch)
    assert code == 0 and "AKS Cluster shop-prod" in out


def test_an_invalid_request_prints_a_table_of_path_code_and_message_and_exits_1(capsys, monkeypatch):
    raw = {**MINIMAL_PRODUCTION, "systemPool": {"vmSize": "Standard_B2ms"}, "location": "mars"}
    code, out, _ = _run(["plan", "-"], capsys, json.dumps(raw), monkeypatch)
    assert code == 1
    header = next(line for line in out.splitlines() if line.startswith("PATH"))
    assert header.split() == ["PATH", "CODE", "MESSAGE"]
    assert any(line.split()[:2] == ["/location", "LOCATION_UNKNOWN"] for line in out.splitlines())
    assert any(line.split()[:2] == ["/systemPool/vmSize", "SYSTEM_POOL_BURSTABLE"] for line in out.splitlines())


def test_json_output_has_valid_errors_warnings_and_plan(capsys, monkeypatch):
    code, out, _ = _run(["plan", "--json", "-"], capsys, json.dumps(MINIMAL_PRODUCTION), monkeypatch)
    doc = json.loads(out)
    assert code == 0
    assert set(doc) == {"valid", "errors", "warnings", "plan"} and doc["valid"] is True
    assert set(doc["plan"]) >= {"resources", "steps", "tree", "criticalPathSeconds"}


def test_json_output_of_an_invalid_request_exits_1_with_errors(capsys, monkeypatch):
    code, out, _ = _run(["plan", "--json", "-"], capsys, json.dumps({"name": "x"}), monkeypatch)
    doc = json.loads(out)
    assert code == 1 and doc["valid"] is False and doc["plan"] is None
    assert {e["path"] for e in doc["errors"]} >= {"/resourceGroup", "/location"}


@pytest.mark.parametrize("content", ["{\"name\": ", "a: [b", "\x00\x01"])
def test_unparseable_input_exits_2_with_a_message_not_a_traceback(tmp_path, capsys, content):
    f = tmp_path / "bad.json"
    f.write_text(content)
    code, out, err = _run(["plan", str(f)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("aksvend: ") and "Traceback" not in err


def test_a_missing_file_exits_2(tmp_path, capsys):
    code, _, err = _run(["plan", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "cannot read" in err


def test_a_bad_default_subscription_setting_exits_2_naming_the_setting(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AKSVEND_DEFAULT_SUBSCRIPTION_ID", "not-a-guid")
    code, _, err = _run(["plan", str(tmp_path / "x.json")], capsys)
    assert code == 2 and "AKSVEND_DEFAULT_SUBSCRIPTION_ID" in err and "not-a-guid" not in err


def test_the_console_script_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "shared.cli", "plan", "-"], input=json.dumps(MINIMAL_PRODUCTION),
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "AKS Cluster shop-prod" in proc.stdout


def test_the_published_json_schema_is_up_to_date():
    published = json.loads((ROOT / "docs" / "request.schema.json").read_text())
    assert published == request_schema(), "docs/request.schema.json is stale: run `make schema`"


def test_the_demo_plans_the_production_request(capsys):
    code, out, _ = _run(["demo", "--plan-only"], capsys)
    assert code == 0
    assert "put:cluster" in out and "Critical path:" in out and "privateEndpoint:data" in out


def test_the_demo_prints_the_plan_first_then_builds_it_on_the_local_stack(capsys, monkeypatch):
    import local.demo

    seen = []

    def fake_live(out=None, time_factor=0.0, started=None):
        seen.append(time_factor)
        assert started is not None  # the wall time at the end counts from before the plan
        print("LIVE PART")
        return 0

    monkeypatch.setattr(local.demo, "run_live", fake_live)
    code, out, _ = _run(["demo", "--time-factor", "0.5"], capsys)
    assert code == 0 and seen == [0.5]
    assert out.index("Critical path:") < out.index("LIVE PART")


def test_the_demos_closing_wall_time_counts_from_the_start_it_was_given_and_is_the_sum_of_its_parts():
    import time

    from local.demo import Phases

    phases = Phases(started=time.monotonic() - 5.0)  # the plan began 5 s ago
    phases.mark("start-up")
    phases.mark("provisioning")
    parts = [seconds for _, seconds in phases.parts]
    assert parts[0] >= 5.0 and abs(phases.total() - sum(parts)) < 1e-9
    assert str(phases) == f"start-up {parts[0]:.1f} s, provisioning {parts[1]:.1f} s"


def test_the_demo_progress_prints_one_line_per_change_when_not_a_terminal():
    from local.demo import Progress

    out = io.StringIO()
    progress = Progress(out, started=0.0)
    step = {"id": "put:vnet", "state": "running", "startedAt": "2026-01-01T00:00:00+00:00", "endedAt": None}
    op = {"state": "running", "progress": 10, "steps": [step]}
    progress.update(op)
    progress.update(op)  # nothing changed: nothing printed
    done = {**step, "state": "succeeded", "endedAt": "2026-01-01T00:00:02.500000+00:00"}
    progress.update({"state": "succeeded", "progress": 100, "steps": [done]})
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "\x1b" not in out.getvalue()
    assert lines[1].split()[-2:] == ["put:vnet", "running"]
    assert lines[-1].endswith("put:vnet                   succeeded  (2.5 s)")


def test_the_demo_progress_redraws_in_place_on_a_terminal():
    from local.demo import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    progress = Progress(out, started=0.0)
    steps = [{"id": f"s{i}", "state": "waiting"} for i in range(3)]
    progress.update({"state": "queued", "progress": 0, "steps": steps})
    progress.update({"state": "running", "progress": 50, "steps": steps})
    text = out.getvalue()
    assert "\x1b[4F" in text and text.count("\x1b[2K") == 8  # moved up over the 4 lines drawn, each redrawn


def test_serve_runs_the_local_host_with_its_options(monkeypatch):
    import local.host

    argv_seen = []
    monkeypatch.setattr(local.host, "main", lambda argv: argv_seen.append(argv) or 0)
    assert main(["serve", "--port", "0", "--no-local-caller"]) == 0
    assert argv_seen == [["--port", "0", "--time-factor", "0.05", "--no-local-caller"]]
