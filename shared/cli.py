"""The `aksvend` command line: plan a request file, print the request schema. What runs the local stack is not
the product's: `python -m local.demo` (`make demo`) and `python -m local.host` (`make serve`), in local/.

Exit codes: 0 valid (warnings allowed), 1 the request breaks rules, 2 the input cannot be read or parsed,
or the configuration is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from shared.config import ConfigError, Settings
from shared.domain.request import ClusterRequestInput
from shared.domain.violations import Violation
from shared.services.planning import PlanOutcome, plan_request

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
MAX_INPUT_BYTES = 1024 * 1024


class InputError(Exception):
    """The request file cannot be read or parsed."""


def read_request(source: str, stdin: TextIO) -> Any:
    """Read JSON or YAML (JSON is YAML, but JSON errors read better) from a path or '-'."""
    name = "standard input" if source == "-" else source
    try:
        text = stdin.read(MAX_INPUT_BYTES + 1) if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {name}: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8'}") from exc
    if len(text) > MAX_INPUT_BYTES:
        raise InputError(f"{name} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = f" (line {json_error.lineno})" if text.lstrip().startswith(("{", "[")) else ""
            raise InputError(f"{name} is neither JSON{where} nor YAML: {str(exc).splitlines()[0]}") from exc


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
    return to_stdout(lambda out: print_outcome(outcome, out, as_json=args.json),
                     EXIT_OK if outcome.valid else EXIT_INVALID)


def cmd_schema(_: argparse.Namespace, __: Settings) -> int:
    def write(out: TextIO) -> None:
        json.dump(request_schema(), out, indent=2, sort_keys=True)
        out.write("\n")

    return to_stdout(write, EXIT_OK)


def to_stdout(write: Callable[[TextIO], object], code: int) -> int:
    """Write to standard output and return `code`. A reader that stops early (`aksvend plan ... | head`) is no
    error: the rest of the output is dropped quietly, with no traceback, and the exit code stays the command's."""
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that the closed pipe is not reported there.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return code


def request_schema() -> dict[str, Any]:
    schema = ClusterRequestInput.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://aksvend.dev/schemas/cluster-request.v1.json"
    schema["title"] = "aksvend cluster request (v1)"
    return schema


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aksvend", description="Self-service AKS cluster vending.")
    sub = p.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="validate and plan a cluster request (JSON or YAML; '-' for stdin)")
    plan.add_argument("file")
    plan.add_argument("--json", action="store_true", help="print {valid, errors, warnings, plan} as JSON")
    plan.add_argument("--subscription", help="subscription for requests that name none")
    plan.set_defaults(func=cmd_plan)
    sub.add_parser("schema", help="print the request's JSON Schema").set_defaults(func=cmd_schema)
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
