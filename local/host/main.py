"""`python -m local.host` (`make serve`): run the function app on one machine as `func start` would.

    python -m local.host [--port 7071] [--storage CONN] [--arm-url URL --arm-ca PATH] [--time-factor F]
                         [--app function_app:app] [--no-local-caller] [--easy-auth] [--timer-every SECONDS]
                         [--verbose]

Starts Azurite and the ARM emulator as child processes on 127.0.0.1 and ephemeral ports (unless the storage
connection string or the emulator's URL are given), sets the app settings the function app reads, then runs
every function that `function_app.app.get_functions()` returns, by trigger type (see functions.py):
HTTP on 127.0.0.1:PORT (http.py, with the Event Grid webhook), queue triggers by polling Azurite with
host.json's semantics (queues.py), timers on their NCRONTAB schedules (timers.py). What differs from Azure is
handed to the app by app.py. `--easy-auth` puts App Service Authentication in front of the app (easyauth.py).
Prints one JSON line when ready: {"baseUrl", "pid", "functions", "armUrl", "armCaCert", "storage", "auth"} (the
storage endpoints, never the key; `auth`: the tenant and audiences tokens must be for, and whether Easy Auth is
played). SIGINT or SIGTERM stops everything it started, by PID, and exits 0. See docs/local.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any

import uvicorn

from local.host import access_log
from local.host.stack import ROOT, Stack, configure_env, start_stack

log = logging.getLogger("aksvend.local.host")
DEFAULT_TIME_FACTOR = 0.05
QUIET_LOGGERS = ("azure", "uvicorn", "uvicorn.error", "uvicorn.access", "aiohttp", "urllib3", "httpx", "asyncio")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m local.host", description="Run the function app locally.")
    p.add_argument("--port", type=int, default=7071, help="HTTP port on 127.0.0.1 (0 picks a free one)")
    p.add_argument("--storage", help="connection string of a running Azurite (default: start one)")
    p.add_argument("--arm-url", help="base URL of a running ARM emulator (default: start one)")
    p.add_argument("--arm-ca", help="CA certificate of that emulator")
    p.add_argument("--time-factor", type=float, default=DEFAULT_TIME_FACTOR,
                   help=f"the emulator's time factor when the host starts it (default {DEFAULT_TIME_FACTOR})")
    p.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    p.add_argument("--no-local-caller", action="store_true",
                   help="do not set AKSVEND_LOCAL_CALLER: requests need a bearer token from the emulator")
    p.add_argument("--easy-auth", action="store_true",
                   help="play App Service Authentication: a valid bearer token at the edge, the principal header "
                        "built from it, WEBSITE_AUTH_ENABLED=True for the app (implies no local caller)")
    p.add_argument("--timer-every", type=float, default=_env_seconds("AKSVEND_SWEEP_SECONDS"),
                   help="run timer functions every N seconds instead of their schedule (AKSVEND_SWEEP_SECONDS)")
    p.add_argument("--verbose", action="store_true", help="log requests and function failures with tracebacks")
    args = p.parse_args(argv)
    if bool(args.arm_url) != bool(args.arm_ca):
        p.error("--arm-url and --arm-ca go together")
    return args


def _env_seconds(name: str) -> float | None:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def quiet_logging(verbose: bool) -> None:
    level = os.environ.get("AKSVEND_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=logging.DEBUG if verbose else level, format="%(levelname)s %(name)s %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose and name.startswith("uvicorn") else logging.ERROR)


class _Server(uvicorn.Server):
    """uvicorn's Server without its signal capture (it would re-raise SIGTERM at exit; the host handles signals)."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


async def serve(args: argparse.Namespace, stack: Stack, specs: list[Any]) -> None:
    from local.host.app import close_app, start_functions
    from local.host.http import HostApp
    from local.host.queues import queue_semantics, read_host_json

    host_json = read_host_json(ROOT / "host.json")
    prefix = ((host_json.get("extensions") or {}).get("http") or {}).get("routePrefix", "api")
    lease = _env_seconds("AKSVEND_QUEUE_LEASE_SECONDS") or 600.0
    semantics, encoding = queue_semantics(host_json, lease)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_edge(HostApp(specs, prefix), args.easy_auth),
                            log_level="info" if args.verbose else "error", access_log=args.verbose, lifespan="on",
                            timeout_graceful_shutdown=5)
    access_log.install()  # after uvicorn configured its loggers: no secret query parameter in a logged URL
    server = _Server(config)
    tasks = [asyncio.create_task(server.serve(sockets=[sock]), name="http"),
             *start_functions(specs, stack.storage, semantics, encoding, stop, args.timer_every)]
    try:
        while not server.started and not tasks[0].done() and not stop.is_set():
            await asyncio.sleep(0.01)  # uvicorn has no started event; this waits for its flag, with the task as guard
        if server.started:
            print(json.dumps({"baseUrl": f"http://127.0.0.1:{port}", "pid": os.getpid(),
                              "functions": {s.name: s.trigger_type for s in specs}, "armUrl": stack.arm_url,
                              "armCaCert": stack.arm_ca, "storage": stack.storage_endpoints,
                              "auth": _auth_summary(args.easy_auth)}), flush=True)
            await asyncio.wait([asyncio.ensure_future(stop.wait()), tasks[0]], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_app()
        sock.close()


def _edge(app: Any, easy_auth: bool) -> Any:
    """The host's app, behind Easy Auth when it plays it, with a validator built from the app's own settings."""
    if not easy_auth:
        return app
    from local.host.easyauth import EasyAuth
    from shared.adapters.entra import EntraTokenValidator
    from shared.config import Settings

    settings = Settings.from_env()
    auth = settings.auth
    assert auth.tenant_id, "configure_env sets the auth settings"
    return EasyAuth(app, EntraTokenValidator.for_authority(auth.tenant_id, auth.audiences, auth.authority,
                                                           ca_cert=settings.arm_ca_cert))


def _auth_summary(easy_auth: bool) -> dict[str, Any]:
    audiences = [a for a in os.environ.get("AKSVEND_AUTH_AUDIENCES", "").split(",") if a]
    return {"tenantId": os.environ.get("AKSVEND_AUTH_TENANT_ID"), "audiences": audiences, "easyAuth": easy_auth,
            "localCaller": os.environ.get("AKSVEND_LOCAL_CALLER")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logging(args.verbose)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # until the loop takes over: a SIGTERM while starting still cleans up
    stack: Stack | None = None
    try:
        stack = start_stack(args.storage, args.arm_url, args.arm_ca, args.time_factor)
        configure_env(stack, local_caller=not args.no_local_caller, easy_auth=args.easy_auth)
        from local.host.app import hand_over
        from local.host.functions import discover, load_app, unsupported

        hand_over()

        sys.path.insert(0, str(ROOT))
        specs = discover(load_app(args.app))
        for note in unsupported(specs):
            print(f"aksvend host: {note}", file=sys.stderr)
        asyncio.run(serve(args, stack, specs))
    except KeyboardInterrupt:
        pass
    except (OSError, RuntimeError, TimeoutError, ImportError, ValueError) as exc:
        print(f"aksvend host: {exc}", file=sys.stderr)
        return 2
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

