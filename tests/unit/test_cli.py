"""`aksvend plan`: tree and warnings with exit 0, a violation table with exit 1, unreadable input exit 2."""

from __future__ import annotations

import io
import json
import os
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


def test_unparseable_standard_input_is_called_standard_input(capsys, monkeypatch):
    code, _, err = _run(["plan", "-"], capsys, "{\"name\": ", monkeypatch)
    assert code == 2 and err.startswith("aksvend: standard input is neither JSON (line 1) nor YAML")


@pytest.mark.parametrize(("argv", "code"), [(["plan", "--json", "-"], 0), (["plan", "-"], 1), (["schema"], 0)])
def test_a_reader_that_stops_early_ends_the_output_quietly_with_the_commands_exit_code(argv, code, capsys,
                                                                                      monkeypatch):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone, as `aksvend plan ... | head` is once head has its lines
    request = MINIMAL_PRODUCTION if code == 0 else {**MINIMAL_PRODUCTION, "location": "mars"}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(request)))
    with open(write_end, "w", encoding="utf-8") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        assert main(argv) == code
        closed.write("more\n")
        closed.flush()  # as Python's own flush at exit: no second BrokenPipeError
    assert capsys.readouterr().err == ""


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


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_the_product_cli_has_no_command_of_the_dev_stack(command, capsys):
    with pytest.raises(SystemExit):  # python -m local.demo and python -m local.host run the local stack
        main([command])
