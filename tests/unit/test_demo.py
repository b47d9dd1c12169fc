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


class _Response:
    def __init__(self, body):
        self.body = body

    def json(self):
        return self.body

    def raise_for_status(self):
        return self


class _Api:
    """aksvend's API as the demo reads it: the cluster's operations, then each operation."""

    def __init__(self):
        self.cluster = {"currentOperation": None, "queuedOperations": [], "lastOperation": "op-up"}
        self.operations = {"op-up": {"state": "succeeded", "source": "reaction:spot-fallback:batch"}}

    def get(self, path):
        if path.startswith("/api/operations/"):
            return _Response(self.operations[path.rsplit("/", 1)[1]])
        return _Response(self.cluster)


class _Arm:
    def __init__(self):
        self.pool = {"properties": {"provisioningState": "Succeeded", "count": 2}}

    def get(self, resource_id, api_version):
        return self.pool


def test_the_sweepers_scale_down_is_shown_before_the_pool_change_it_causes_when_both_are_seen_at_once():
    from local.demo.reactions import Reactions, Timeline, _Watch

    api, arm, out = _Api(), _Arm(), io.StringIO()
    seen = Reactions("batchod", evicted=2, fallback_operations=["op-up"])
    cluster = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
               "subscriptionId": "s", "resourceGroup": "rg", "name": "c"}
    watch = _Watch(api, arm, cluster, seen, Timeline(out), cooldown=18)
    assert watch.done() is False  # the fallback in place, no scale-down yet
    # Between two looks, the sweeper decided and ARM started scaling: both are seen in the same look.
    api.cluster = {**api.cluster, "currentOperation": "op-down"}
    api.operations["op-down"] = {"state": "running", "source": "reaction:fallback-scale-down:batch"}
    arm.pool = {"properties": {"provisioningState": "Scaling", "count": 0}}
    assert watch.done() is False
    kinds = [line.split()[2] for line in out.getvalue().splitlines()]
    assert kinds == ["batchod", "fallback", "sweeper", "batchod"], out.getvalue()
    assert seen.scale_down_operation == "op-down"


def test_the_plans_tables_are_as_wide_as_their_longest_entries():
    from local.demo.plan import demo_request, print_plan
    from tests.requests import SUB

    request = demo_request()
    target = request["network"]["privateEndpoints"][0]["targetResourceId"]
    request["network"] = {**request["network"], "privateEndpoints": [
        {"name": "a-rather-long-endpoint-name-for-the-orders-data", "groupId": "blob", "targetResourceId": target}]}
    out = io.StringIO()
    assert print_plan(SUB, out, request) == 0
    lines = out.getvalue().splitlines()
    resources = lines[lines.index(next(x for x in lines if x.startswith("Resources"))) + 1:][:9]
    steps = lines[lines.index(next(x for x in lines if x.startswith("Steps"))) + 1:][:9]
    assert len({line.index(" api-version ") for line in resources}) == 1  # one column, however long the type
    assert len({line.index(" ~") for line in steps}) == 1
