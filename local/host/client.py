"""Driving a local host from outside, for the demo, the e2e tests and the benchmark: start `python -m local.host`
as a child process (ephemeral port, its own Azurite and emulator), read its ready line, talk to the emulator's
control API, and stop the host by its PID (it stops what it started).
"""

from __future__ import annotations

import shutil
import ssl
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from local.credential import OfflineCredential
from local.host.stack import start_child, stop_process
from local.polling import wait_for

T = TypeVar("T")
ARM_SCOPE = "https://management.azure.com/.default"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass
class RunningHost:
    ready: dict[str, Any]
    process: Any = field(repr=False)
    log_path: Path

    @property
    def base_url(self) -> str:
        return str(self.ready["baseUrl"])

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def arm(self) -> ArmControl:
        return ArmControl(self.ready["armUrl"], self.ready["armCaCert"])

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


@contextmanager
def local_host(*args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> Iterator[RunningHost]:
    """`python -m local.host --port 0 ARGS...` until the block ends; stopped by PID (SIGTERM, then SIGKILL)."""
    workdir = Path(tempfile.mkdtemp(prefix="aksvend-hostlog-"))
    log_path = workdir / "host.log"
    process, ready = start_child([sys.executable, "-m", "local.host", "--port", "0", *args], log_path, timeout, env)
    try:
        yield RunningHost(ready, process, log_path)
    finally:
        stop_process(process, timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


class ArmControl:
    """The emulator: its control API (/_emulator/...) and plain ARM requests with the offline credential."""

    def __init__(self, base_url: str, ca_cert: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, verify=ssl.create_default_context(cafile=ca_cert), timeout=30)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ArmControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def counters(self) -> dict[str, Any]:
        return self.control("GET", "counters")

    def inventory(self, type_: str | None = None) -> list[dict[str, Any]]:
        return self.control("GET", f"inventory?type={type_}" if type_ else "inventory")["value"]

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "requests?limit=0")["value"]

    def put(self, resource_id: str, api_version: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.put(f"{resource_id}?api-version={api_version}", json=body, headers=_bearer())

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        """The resource as ARM returns it, or None when there is none (404)."""
        response = self.http.get(f"{resource_id}?api-version={api_version}", headers=_bearer())
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return dict(response.json())

    def make_storage_account(self, account_id: str, location: str = "westeurope") -> None:
        """Create the resource group and storage account a private endpoint targets (it must exist, as in Azure)."""
        group = account_id.split("/providers/")[0]
        self.put(group, "2025-04-01", {"location": location}).raise_for_status()
        self.put(account_id, "2025-01-01", {"location": location, "sku": {"name": "Standard_LRS"},
                                            "kind": "StorageV2"}).raise_for_status()
        wait_for(lambda: any(r["id"].lower() == account_id.lower() and r["provisioningState"] == "Succeeded"
                             for r in self.inventory()), timeout=30)


def _bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {OfflineCredential().get_token(ARM_SCOPE).token}"}
