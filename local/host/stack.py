"""The local host's dependencies: Azurite and the ARM emulator as child processes on 127.0.0.1 and ephemeral
ports (unless running ones are named), the environment the function app reads, and stopping by PID.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.armemu.entra import DEFAULT_AUDIENCE, DEFAULT_OBJECT_ID
from local.armemu.settings import DEFAULT_TENANT
from shared.config import ConfigError, functions_platform

ROOT = Path(__file__).resolve().parents[2]  # the repository: host.json, local.settings.json, function_app.py
# Local mode's caller of requests without credentials: the emulator's default principal, so that a token from
# `POST /_emulator/entra/token` with no `oid` is this same caller.
LOCAL_TENANT = DEFAULT_TENANT
LOCAL_AUDIENCE = DEFAULT_AUDIENCE
DEFAULT_CALLER = f"{LOCAL_TENANT}/{DEFAULT_OBJECT_ID}"


@dataclass
class Stack:
    """What the host runs against; `processes` are the ones it started and must stop."""

    storage: str
    arm_url: str
    arm_ca: str
    processes: list[Any] = field(default_factory=list)
    storage_endpoints: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None

    def stop(self) -> None:
        for process in reversed(self.processes):
            if hasattr(process, "stop"):  # local.azurite.Azurite
                process.stop()
            else:
                stop_process(process)
        self.processes.clear()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> int | None:
    """SIGTERM the child we started, SIGKILL if it is still there after `timeout`; returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


def endpoints_of(connection_string: str) -> dict[str, str]:
    """The endpoints and account of a connection string, without its key (safe to print)."""
    parts = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)
    keys = {"AccountName": "accountName", "BlobEndpoint": "blobEndpoint", "QueueEndpoint": "queueEndpoint",
            "TableEndpoint": "tableEndpoint"}
    return {out: parts[k] for k, out in keys.items() if k in parts}


def start_child(args: list[str], log_path: Path, timeout: float = 30.0,
                env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start a child that prints one JSON line when ready (stderr to `log_path`); return it and that line."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                   env=env)
    deadline = time.monotonic() + timeout
    line = b""
    assert process.stdout is not None
    while not line.endswith(b"\n"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(args[1:3])} did not start: {tail.strip() or 'no output'}")
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                continue
            line += chunk
    return process, json.loads(line.decode().splitlines()[0])


def start_emulator(time_factor: float, workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """`python -m local.armemu` in a child process; returns it and its ready line {baseUrl, caCert}. With
    `Retry-After` seconds hints: AKS sends none, but the local stack's workers would then poll at their production
    interval (15 s), far longer than a scaled operation lasts."""
    return start_child([sys.executable, "-m", "local.armemu", "--time-factor", str(time_factor),
                        "--retry-after", "seconds"],
                       workdir / "armemu.log")


def start_stack(storage: str | None, arm_url: str | None, arm_ca: str | None, time_factor: float) -> Stack:
    """Start what is not given; on any failure stop what was started and re-raise."""
    workdir = Path(tempfile.mkdtemp(prefix="aksvend-host-"))
    stack = Stack(storage or "", arm_url or "", arm_ca or "", workdir=workdir)
    try:
        if not storage:
            from local.azurite import start_azurite

            azurite = start_azurite()
            stack.processes.append(azurite)
            stack.storage = azurite.connection_string
        if not arm_url:
            process, ready = start_emulator(time_factor, workdir)
            stack.processes.append(process)
            stack.arm_url, stack.arm_ca = ready["baseUrl"], ready["caCert"]
    except BaseException:
        stack.stop()
        raise
    stack.storage_endpoints = endpoints_of(stack.storage)
    return stack


def configure_env(stack: Stack, *, local_caller: bool, easy_auth: bool = False) -> None:
    """The app settings the function app reads (shared/config/), as local.settings.json would give them.

    Bearer tokens are validated against the emulator's Entra ID (tenant `LOCAL_TENANT` and audience
    `api://aksvend` unless set; the authority is the emulator, trusted through AKSVEND_ARM_CA_CERT). `easy_auth`:
    the host plays App Service Authentication (local/host/easyauth.py), so the app is told it is on, as App
    Service tells it, and no local caller is assumed."""
    settings = ROOT / "local.settings.json"
    if settings.exists():
        try:
            values = json.loads(settings.read_text()).get("Values") or {}
        except ValueError:
            values = {}
        for key, value in values.items():
            os.environ.setdefault(key, str(value))
    os.environ["AzureWebJobsStorage"] = stack.storage  # noqa: SIM112 (the Functions setting's name)
    os.environ["AKSVEND_ARM_ENDPOINT"] = stack.arm_url
    os.environ.setdefault("AKSVEND_KEY_VAULT_URI", stack.arm_url)  # the emulator's Key Vault stand-in, as in Azure
    if stack.arm_ca:
        os.environ["AKSVEND_ARM_CA_CERT"] = stack.arm_ca
    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
    local_mode()
    os.environ.setdefault("AKSVEND_AUTH_TENANT_ID", LOCAL_TENANT)
    os.environ.setdefault("AKSVEND_AUTH_AUDIENCES", LOCAL_AUDIENCE)
    os.environ["AKSVEND_AUTH_AUTHORITY"] = stack.arm_url
    if easy_auth:
        os.environ["WEBSITE_AUTH_ENABLED"] = "True"
    else:
        os.environ.pop("WEBSITE_AUTH_ENABLED", None)
    if local_caller and not easy_auth:
        os.environ.setdefault("AKSVEND_LOCAL_CALLER", DEFAULT_CALLER)
    else:
        os.environ.pop("AKSVEND_LOCAL_CALLER", None)


def local_mode() -> None:
    """The explicit local mode (shared/config/settings.py): what only the local stack may do. The app refuses it
    where a variable of the Functions platform is set; so does the host, at once, rather than at the first request
    (ConfigError, a ValueError: the host and the worker exit 2 with the message)."""
    platform = functions_platform(os.environ)
    if platform:
        raise ConfigError(f"AKSVEND_LOCAL is refused on the Functions platform ({platform} is set): the local host "
                          f"and worker run in local mode; on a machine that sets {platform} for its own purposes, "
                          "run them without it")
    os.environ["AKSVEND_LOCAL"] = "1"
