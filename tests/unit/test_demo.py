"""`python -m local.demo`: the plan first, then the live part (faked here; tests/e2e/test_demo_e2e.py runs it), and
the pieces of its display."""

from __future__ import annotations

import io

from local.demo.__main__ import main


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_demo_plans_the_production_request(capsys):
    code, out, _ = _run(["--plan-only"], capsys)
    assert code == 0
    assert "put:cluster" in out and "Critical path:" in out and "privateEndpoint:data" in out


def test_the_demo_prints_the_plan_first_then_builds_it_on_the_local_stack(capsys, monkeypatch):
    import local.demo.live

    seen = []

    def fake_live(out=None, time_factor=0.0, started=None):
        seen.append(time_factor)
        assert started is not None  # the wall time at the end counts from before the plan
        print("LIVE PART")
        return 0

    monkeypatch.setattr(local.demo.live, "run_live", fake_live)
    code, out, _ = _run(["--time-factor", "0.5"], capsys)
    assert code == 0 and seen == [0.5]
    assert out.index("Critical path:") < out.index("LIVE PART")


def test_the_demos_closing_wall_time_counts_from_the_start_it_was_given_and_is_the_sum_of_its_parts():
    import time

    from local.demo.live import Phases

    phases = Phases(started=time.monotonic() - 5.0)  # the plan began 5 s ago
    phases.mark("start-up")
    phases.mark("provisioning")
    parts = [seconds for _, seconds in phases.parts]
    assert parts[0] >= 5.0 and abs(phases.total() - sum(parts)) < 1e-9
    assert str(phases) == f"start-up {parts[0]:.1f} s, provisioning {parts[1]:.1f} s"


def test_the_demo_progress_prints_one_line_per_change_when_not_a_terminal():
    from local.demo.live import Progress

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
    from local.demo.live import Progress

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


def test_the_local_host_reads_its_options():
    from local.host.main import parse_args

    args = parse_args(["--port", "0", "--no-local-caller"])
    assert (args.port, args.time_factor, args.no_local_caller, args.app) == (0, 0.05, True, "function_app:app")
