"""Run Azurite (the Azure Storage emulator) for tests and for the local host, on ephemeral ports.

Why it looks like this:

* Ports: Azurite accepts port 0 and prints the port the OS chose ("... successfully listening at
  http://127.0.0.1:40761"), so we never race another process for a "free" port. Output goes to a log file
  in the instance's temporary directory rather than a pipe, so nobody has to drain it.
* Readiness: poll that log and then a TCP connect to each service, against a deadline; no fixed sleeps.
* Stopping: by the PID we started: SIGTERM, then SIGKILL if it has not exited before a deadline.
* Data: `--inMemoryPersistence` (nothing survives the process; Azurite refuses it together with `--location`),
  and the process runs in the instance's temporary directory, so the working tree stays clean.
* The account key is Azurite's well-known public development key. It is fine in the repository, but it is
  still a key: it never appears in a repr, a log line or the JSON that `python -m local.azurite` prints.

Its pytest fixtures are in local/testing.py, so that running it needs no pytest.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

__all__ = [
    "WELL_KNOWN_ACCOUNT",
    "Azurite",
    "AzuriteEndpoints",
    "connection_string",
    "start_azurite",
]

WELL_KNOWN_ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
_WELL_KNOWN_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEFAULT_EXECUTABLE = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "azurite"
_SERVICES = ("blob", "queue", "table")
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at http://([^\s:]+):(\d+)")
_POLL_INTERVAL = 0.02


@dataclass(frozen=True)
class AzuriteEndpoints:
    """Where each Azurite service listens: `http://host:port/<account>`."""

    blob: str
    queue: str
    table: str
    account_name: str = WELL_KNOWN_ACCOUNT

    def to_json(self) -> str:
        return json.dumps(
            {"accountName": self.account_name, "blobEndpoint": self.blob, "queueEndpoint": self.queue,
             "tableEndpoint": self.table}
        )


def connection_string(endpoints: AzuriteEndpoints) -> str:
    """A storage connection string for the Azurite instance at `endpoints` (contains the key: do not log)."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={endpoints.account_name};AccountKey={_WELL_KNOWN_KEY};"
        f"BlobEndpoint={endpoints.blob};QueueEndpoint={endpoints.queue};TableEndpoint={endpoints.table};"
    )


@dataclass
class Azurite:
    """A running Azurite process that this module started; `stop()` ends it and removes its files."""

    process: subprocess.Popen[bytes] = field(repr=False)
    endpoints: AzuriteEndpoints
    workdir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def connection_string(self) -> str:
        return connection_string(self.endpoints)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_azurite(
    executable: Path = DEFAULT_EXECUTABLE, host: str = "127.0.0.1", startup_timeout: float = 30.0
) -> Azurite:
    """Start Azurite on ephemeral ports of `host` and return once all three services accept connections."""
    if not executable.exists():
        raise FileNotFoundError(f"{executable} not found; run `npm ci` in the repository root")
    workdir = Path(tempfile.mkdtemp(prefix="aksvend-azurite-"))
    log_path = workdir / "azurite.log"
    args = [str(executable), "--inMemoryPersistence", "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
    for service in _SERVICES:
        args += [f"--{service}Host", host, f"--{service}Port", "0"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    instance = Azurite(process, AzuriteEndpoints("", "", ""), workdir)
    try:
        instance.endpoints = _wait_until_listening(process, log_path, time.monotonic() + startup_timeout)
    except BaseException:
        instance.stop()
        raise
    return instance


def _wait_until_listening(process: subprocess.Popen[bytes], log_path: Path, deadline: float) -> AzuriteEndpoints:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"Azurite exited with {process.returncode}: {_tail(log_path)}")
        ports = {m.group(1).lower(): (m.group(2), int(m.group(3))) for m in _LISTENING.finditer(_read(log_path))}
        if len(ports) == len(_SERVICES) and all(_accepts(*ports[s]) for s in _SERVICES):
            urls = {s: f"http://{ports[s][0]}:{ports[s][1]}/{WELL_KNOWN_ACCOUNT}" for s in _SERVICES}
            return AzuriteEndpoints(urls["blob"], urls["queue"], urls["table"])
        if time.monotonic() > deadline:
            raise TimeoutError(f"Azurite did not start listening in time: {_tail(log_path)}")
        time.sleep(_POLL_INTERVAL)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(_read(path).splitlines()[-lines:])


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- python -m local.azurite -----------------------------------------------------------------------------------


def main() -> int:
    """Run Azurite in the foreground; print one JSON line with the endpoints once ready; stop on SIGINT/SIGTERM."""

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    with start_azurite() as instance:
        print(instance.endpoints.to_json(), flush=True)
        try:
            return instance.process.wait()
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
