"""The `aksvend` command line: plan a request file, print the request schema, run the demo, serve locally.

Exit codes: 0 valid (warnings allowed), 1 the request breaks rules, 2 the input cannot be read or parsed,
or the configuration is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from shared.config import ConfigError, Settings
from shared.demo import DEMO_TIME_FACTOR
from shared.domain.request import ClusterRequestInput
from shared.domain.violations import Violation
from shared.services.planning import PlanOutcome, plan_request

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
MAX_INPUT_BYTES = 1024 * 1024


class InputError(Exception):
    """The request file cannot be read or parsed."""


def read_request(source: str, stdin: TextIO) -> Any:
    """Read JSON or YAML (JSON is YAML, but JSON errors read better) from a path or '-'."""
    try:
        text = stdin.read(MAX_INPUT_BYTES + 1) if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {source}: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8'}") from exc
    if len(text) > MAX_INPUT_BYTES:
        raise InputError(f"{source} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = f" (line {json_error.lineno})" if text.lstrip().startswith(("{", "[")) else ""
            raise InputError(f"{source} is neither JSON{where} nor YAML: {str(exc).splitlines()[0]}") from exc


def violation_table(violations: list[Violation]) -> str:
    rows = [("PATH", "CODE", "MESSAGE")] + [(v.path or "/", v.code, v.message) for v in violations]
    w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
    return "\n".join(f"{p:<{w0}}  {c:<{w1}}  {m}" for p, c, m in rows)


def print_outcome(outcome: PlanOutcome, out: TextIO, *, as_json: bool) -> int:
    if as_json:
        json.dump(outcome.to_dict(), out, indent=2)
        out.write("\n")
    elif outcome.plan is None:
        out.write(f"The request is invalid: {len(outcome.errors)} error(s).\n\n")
        out.write(violation_table(outcome.errors) + "\n")
    else:
        out.write(outcome.plan.tree + "\n")
    if outcome.warnings and not as_json:
        out.write(f"\nWarnings ({len(outcome.warnings)}):\n{violation_table(outcome.warnings)}\n")
    return EXIT_OK if outcome.valid else EXIT_INVALID


def cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    try:
        raw = read_request(args.file, sys.stdin)
    except InputError as exc:
        print(f"aksvend: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    outcome = plan_request(raw, default_subscription_id=args.subscription or settings.default_subscription_id,
                           today=datetime.now(UTC).date())
    return print_outcome(outcome, sys.stdout, as_json=args.json)


def cmd_schema(_: argparse.Namespace, __: Settings) -> int:
    json.dump(request_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return EXIT_OK


def request_schema() -> dict[str, Any]:
    schema = ClusterRequestInput.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://aksvend.dev/schemas/cluster-request.v1.json"
    schema["title"] = "aksvend cluster request (v1)"
    return schema


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from shared.demo import run_demo

    started = time.monotonic()
    code = run_demo(settings)
    if code or args.plan_only:
        return code
    from local.demo import run_live  # local/ is imported only here: the CLI itself needs no local stack

    return run_live(time_factor=args.time_factor, started=started)


def cmd_serve(args: argparse.Namespace, _: Settings) -> int:
    from local.host import main as host_main

    argv = ["--port", str(args.port), "--time-factor", str(args.time_factor)]
    argv += ["--storage", args.storage] if args.storage else []
    argv += ["--arm-url", args.arm_url, "--arm-ca", args.arm_ca] if args.arm_url else []
    argv += ["--no-local-caller"] if args.no_local_caller else []
    return host_main(argv)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aksvend", description="Self-service AKS cluster vending.")
    sub = p.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="validate and plan a cluster request (JSON or YAML; '-' for stdin)")
    plan.add_argument("file")
    plan.add_argument("--json", action="store_true", help="print {valid, errors, warnings, plan} as JSON")
    plan.add_argument("--subscription", help="subscription for requests that name none")
    plan.set_defaults(func=cmd_plan)
    sub.add_parser("schema", help="print the request's JSON Schema").set_defaults(func=cmd_schema)
    demo = sub.add_parser("demo", help="plan the production request, build it on the local stack with live "
                                       "progress (Azurite, the ARM emulator, the function app), then evict spot "
                                       "nodes and show the on-demand fallback and its scale-back")
    demo.add_argument("--plan-only", action="store_true", help="only print the plan; start nothing")
    demo.add_argument("--time-factor", type=float, default=DEMO_TIME_FACTOR,
                      help=f"the ARM emulator's time factor (default {DEMO_TIME_FACTOR}; 1 is Azure's pace)")
    demo.set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="run the function app locally like `func start` (python -m local.host)")
    serve.add_argument("--port", type=int, default=7071)
    serve.add_argument("--storage", help="connection string of a running Azurite (default: start one)")
    serve.add_argument("--arm-url", help="a running ARM emulator (default: start one); needs --arm-ca")
    serve.add_argument("--arm-ca")
    serve.add_argument("--time-factor", type=float, default=0.05, help="the emulator's time factor")
    serve.add_argument("--no-local-caller", action="store_true", help="require an X-MS-CLIENT-PRINCIPAL header")
    serve.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"aksvend: configuration: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
