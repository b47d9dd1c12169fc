"""Processes and measurements shared by the engine benchmarks (`bench_engine.py`, `baseline_az.py`).

Everything here starts child processes bound to 127.0.0.1 on ephemeral ports and stops them by the PID it
started (SIGTERM, then SIGKILL after a deadline); callers use the `with` forms so that an error stops them too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from local.armemu.latency import LatencyModel
from local.armemu.providers import ALL_TYPES
from local.armemu.workmodel import cluster_create_seconds, pool_create_seconds
from local.credential import OfflineCredential
from local.host.stack import stop_process
from shared.domain.operations import StepSpec

ROOT = Path(__file__).resolve().parents[1]
SUB = "00000000-0000-0000-0000-000000000000"
ARM_SCOPE = "https://management.azure.com/.default"
STORAGE_RG = "rg-shop-data"
STORAGE_ACCOUNT = "stshopdata"
# What the fleet's subscription may use: the defaults (1,000 vCPUs per family, 5,000 regional) fit ~20 production
# clusters; a fleet of 200 needs a subscription with raised quota, as a real one would.
RAISED_QUOTA = {"*": {"standardDSv5Family": 10**7, "StandardNCADSA100v4Family": 10**7, "cores": 10**7,
                      "lowPriorityCores": 10**7}}


def proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM (the resident set's high-water mark) of a live process, in MiB."""
    value = proc_status(pid).get("VmHWM")
    return round(int(value.split()[0]) / 1024, 1) if value else None


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


@dataclass
class Emulator:
    """`python -m local.armemu` in a child process, and a client for its control API and plain ARM requests."""

    process: subprocess.Popen[bytes]
    base_url: str
    ca_cert: str
    workdir: Path
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def pid(self) -> int:
        return self.process.pid

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.base_url}/_emulator/{path}", json=body, timeout=60,
                                     verify=self.ca_cert)
        response.raise_for_status()
        return response.json()

    def arm(self, method: str, path: str, api_version: str, body: Any = None) -> requests.Response:
        token = OfflineCredential().get_token(ARM_SCOPE).token
        return self.http.request(method, f"{self.base_url}{path}", params={"api-version": api_version}, json=body,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60, verify=self.ca_cert)

    def reset(self, *, quota: Mapping[str, Any] | None = None) -> None:
        """Forget everything (resources, operations, log, counters, throttling buckets), then re-create the storage
        account the production request's private endpoint points at."""
        self.control("POST", "reset")
        if quota:
            self.control("PUT", "quota", dict(quota))
        make_storage_target(self)

    def counters(self) -> dict[str, Any]:
        return self.control("GET", "counters")

    def request_log(self) -> list[dict[str, Any]]:
        return self.control("GET", "requests?limit=0")["value"]

    def stop(self) -> None:
        stop_process(self.process)
        self.http.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def emulator(time_factor: float, retry_after: str = "seconds", startup_timeout: float = 30.0):
    workdir = Path(tempfile.mkdtemp(prefix="aksvend-bench-armemu-"))
    out = workdir / "stdout.log"
    args = [sys.executable, "-m", "local.armemu", "--host", "127.0.0.1", "--port", "0",
            "--time-factor", str(time_factor), "--retry-after", retry_after]
    with out.open("wb") as stdout, (workdir / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    emu: Emulator | None = None
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            first = out.read_text().splitlines()[:1]
            if first:
                ready = json.loads(first[0])
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the ARM emulator did not start: {(workdir / 'stderr.log').read_text()[-2000:]}")
            time.sleep(0.05)
        emu = Emulator(process, ready["baseUrl"], ready["caCert"], workdir)
        yield emu
    finally:
        if emu is not None:
            emu.stop()
        else:
            stop_process(process)
            shutil.rmtree(workdir, ignore_errors=True)


def make_storage_target(emu: Emulator) -> str:
    """The storage account a private endpoint points at: it must exist, as in Azure (created through ARM)."""
    group = f"/subscriptions/{SUB}/resourceGroups/{STORAGE_RG}"
    emu.arm("PUT", group, "2025-04-01", {"location": "westeurope"}).raise_for_status()
    account = f"{group}/providers/Microsoft.Storage/storageAccounts/{STORAGE_ACCOUNT}"
    emu.arm("PUT", account, "2025-01-01", {"location": "westeurope", "sku": {"name": "Standard_LRS"},
                                           "kind": "StorageV2"}).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # poll a condition with a deadline
        found = [r for r in emu.control("GET", "inventory?type=Microsoft.Storage/storageAccounts")["value"]
                 if r["id"].lower() == account.lower()]
        if found and found[0]["provisioningState"] == "Succeeded":
            return account
        time.sleep(0.1)
    raise TimeoutError("the storage account did not finish")


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    workdir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return "".join((self.workdir / n).read_text(errors="replace") for n in ("stdout.log", "stderr.log"))


def worker_env(connection_string: str, emu: Emulator, time_factor: float) -> dict[str, str]:
    """The worker's settings (shared/config/). What paces ARM traffic (poll interval without Retry-After, retry
    backoff) is scaled by the time factor like the emulator's latencies, so that waits keep their proportion to the
    operations they wait for. The crash-recovery settings (step lease, sweep interval) keep their defaults: a sweep
    costs CPU per run, not per emulated second, so scaling its interval would multiply its overhead by 1/factor
    against what a deployment sees, and a scaled lease would make the sweeper re-send steps that only wait in a busy
    queue."""
    return {**os.environ, "PYTHONUNBUFFERED": "1",
            "AzureWebJobsStorage": connection_string,
            "AKSVEND_ARM_ENDPOINT": emu.base_url,
            "AKSVEND_ARM_CA_CERT": emu.ca_cert,
            "AKSVEND_DEFAULT_SUBSCRIPTION_ID": SUB,
            "AKSVEND_POLL_INTERVAL_SECONDS": f"{15.0 * time_factor:g}",  # only used without Retry-After
            "AKSVEND_BACKOFF_BASE_SECONDS": f"{2.0 * time_factor:g}",
            "AKSVEND_LEASE_SECONDS": "300",
            "AKSVEND_SWEEP_SECONDS": "60",
            "AKSVEND_QUEUE_LEASE_SECONDS": "60",
            "AKSVEND_LOG_LEVEL": "WARNING"}


@contextmanager
def worker(env: Mapping[str, str], profile: Path | None = None):
    """`python -m local.host.worker` as a child process; stopped with SIGTERM (it exits 0) when the block ends.
    With `profile`, it runs under cProfile and writes its statistics there when it stops."""
    workdir = Path(tempfile.mkdtemp(prefix="aksvend-bench-worker-"))
    args = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []), "-m", "local.host.worker"]
    with (workdir / "stdout.log").open("wb") as stdout, (workdir / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(args, cwd=ROOT, env=dict(env),
                                   stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    handle = Worker(process, workdir)
    try:
        yield handle
    finally:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def workers(env: Mapping[str, str], profiles: list[Path | None]):
    """One worker per entry of `profiles` (its cProfile output, or None), all consuming the same queues as Functions
    instances of one app do; all stopped when the block ends."""
    with ExitStack() as stack:
        yield [stack.enter_context(worker(env, profile)) for profile in profiles]


def wait_ready(started: Iterable[Worker], timeout: float = 60.0) -> None:
    """Poll (with a deadline) until every worker has printed its ready line: its functions run."""
    deadline = time.monotonic() + timeout
    pending = list(started)
    while pending:
        for w in [w for w in pending if '"ready": true' in (w.workdir / "stdout.log").read_text(errors="replace")]:
            pending.remove(w)
        if pending and (time.monotonic() > deadline or any(w.process.poll() is not None for w in pending)):
            raise RuntimeError(f"a worker did not start: {pending[0].log_text()[-2000:]}")
        if pending:
            time.sleep(0.05)


# ---- the emulator's own latency model along a plan ----------------------------------------------------------------
def emulated_seconds(spec: StepSpec, time_factor: float, kind: str = "create") -> float:
    """How long the emulator makes this step's PUT take: for AKS, the work model on the body the step sends (a
    cluster is its control plane plus the slowest of its pools, a pool its VM family and node count); for other
    long-running types, their latency row; 0 for types it answers synchronously (resource groups, identities, role
    assignments)."""
    provider = next((t for t in ALL_TYPES if t.type_name.lower() == spec.resource_type.lower()), None)
    if provider is None or provider.lro_put is None:
        return 0.0
    model = LatencyModel()
    props = dict((spec.body or {}).get("properties") or {})
    if kind == "create" and spec.resource_type.lower() == "microsoft.containerservice/managedclusters":
        return cluster_create_seconds(model.figure, props.get("agentPoolProfiles") or []) * time_factor
    if kind == "create" and spec.resource_type.lower() == "microsoft.containerservice/managedclusters/agentpools":
        return pool_create_seconds(model.figure, props) * time_factor
    return model.seconds(spec.resource_type, kind) * time_factor


def critical_path(specs: Iterable[StepSpec], time_factor: float) -> tuple[float, list[str]]:
    """Longest path through the steps' DAG, each step weighted by the emulator's duration for it."""
    by_id = {s.id: s for s in specs}
    finish: dict[str, tuple[float, list[str]]] = {}

    def end(step_id: str) -> tuple[float, list[str]]:
        if step_id not in finish:
            spec = by_id[step_id]
            before = max((end(d) for d in spec.depends_on), default=(0.0, []), key=lambda x: (x[0], len(x[1])))
            finish[step_id] = (before[0] + emulated_seconds(spec, time_factor), [*before[1], step_id])
        return finish[step_id]

    return max((end(s) for s in by_id), key=lambda x: (x[0], len(x[1])))


def counter_diff(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """What happened between two `/_emulator/counters` snapshots (the storage target's set-up left out)."""
    def sub(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
        return {k: v - b.get(k, 0) for k, v in sorted(a.items()) if v - b.get(k, 0)}

    return {"total": after["total"] - before["total"], "byMethod": sub(after["byMethod"], before["byMethod"]),
            "byStatus": sub(after["byStatus"], before["byStatus"])}
