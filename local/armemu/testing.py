"""Pytest fixtures for the ARM emulator (plugged in by tests/conftest.py through `pytest_plugins`).

- `armemu_server` (session): one emulator on an ephemeral 127.0.0.1 port, in its own thread so that sync SDK clients
  (which block) and aio clients (on the test's loop) both work. Time factor 0.001 and `retry-after-ms` hints, so a
  6-minute cluster create takes 0.36 s and pollers wait milliseconds, not the SDK's 30 s default.
- `armemu` (function): the same server, reset before each test (resources, log, faults, settings). Returns an
  `ArmEmulator` handle:

    armemu.base_url, armemu.ca_cert, armemu.subscription_id
    armemu.client(ClientClass, **kw)        -> sync SDK client (offline credential, base_url, connection_verify)
    armemu.aio_client(ClientClass, **kw)    -> aio SDK client (use `async with`)
    armemu.sdk_kwargs()                     -> {"base_url": ..., "connection_verify": ...}
    armemu.pipeline()                       -> azure-core PipelineClient for APIs without an SDK (compute usages)
    armemu.control(method, path, body=None) -> JSON of /_emulator/<path>
    armemu.set(**settings)                  -> PATCH /_emulator/settings (camelCase keys)
    armemu.set_faults(plan), armemu.requests(), armemu.counters(), armemu.inventory(type=None)
    armemu.wait_for(predicate, timeout=5.0) -> poll a condition with a deadline (never a bare sleep)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
import requests
from azure.core import PipelineClient
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy

from ..credential import AsyncOfflineCredential, OfflineCredential
from ..polling import wait_for
from .app import Emulator, EmulatorThread
from .settings import EmulatorSettings

T = TypeVar("T")
TEST_SETTINGS = {"timeFactor": 0.001, "retryAfter": "ms", "throttling": True, "webhookUrl": None, "seed": 0}
ARM_SCOPE = "https://management.azure.com/.default"


class ArmEmulator:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.base_url = emulator.base_url
        self.ca_cert = emulator.ca_cert
        self.subscription_id = emulator.settings.subscription_id
        self._http = requests.Session()

    def sdk_kwargs(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "connection_verify": self.ca_cert}

    def client(self, client_cls: Callable[..., T], **kwargs: Any) -> T:
        args = {
            **self.sdk_kwargs(),
            "credential": OfflineCredential(),
            "subscription_id": self.subscription_id,
            **kwargs,
        }
        return client_cls(**args)

    def aio_client(self, client_cls: Callable[..., T], **kwargs: Any) -> T:
        args = {
            **self.sdk_kwargs(),
            "credential": AsyncOfflineCredential(),
            "subscription_id": self.subscription_id,
            **kwargs,
        }
        return client_cls(**args)

    def pipeline(self, **kwargs: Any) -> PipelineClient:
        """A plain azure-core client (bearer token + retry policy) for ARM APIs with no SDK installed."""
        policies = [RetryPolicy(**kwargs), BearerTokenCredentialPolicy(OfflineCredential(), ARM_SCOPE)]
        return PipelineClient(self.base_url, policies=policies, connection_verify=self.ca_cert)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(
            method, f"{self.base_url}/_emulator/{path}", json=body, timeout=30, verify=self.ca_cert
        )
        response.raise_for_status()
        return response.json()

    def set(self, **settings: Any) -> dict[str, Any]:
        return self.control("PATCH", "settings", settings)

    def set_faults(self, plan: dict[str, Any]) -> dict[str, Any]:
        return self.control("PUT", "faults", plan)

    def requests(self, limit: int = 0) -> list[dict[str, Any]]:
        return self.control("GET", f"requests?limit={limit}")["value"]

    def counters(self) -> dict[str, Any]:
        return self.control("GET", "counters")

    def inventory(self, type: str | None = None) -> list[dict[str, Any]]:
        return self.control("GET", f"inventory?type={type}" if type else "inventory")["value"]

    def reset(self) -> None:
        self.control("POST", "reset")
        self.set(**TEST_SETTINGS)

    @staticmethod
    def wait_for(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01) -> T:
        return wait_for(predicate, timeout, interval, error=AssertionError)

    def close(self) -> None:
        self._http.close()


@contextmanager
def running_emulator(settings: EmulatorSettings) -> Iterator[ArmEmulator]:
    """An emulator in its own thread with these settings, handed out, then stopped (for fixtures of any scope)."""
    runner = EmulatorThread(Emulator(settings))
    handle = ArmEmulator(runner.start())
    try:
        yield handle
    finally:
        handle.close()
        runner.stop()


@pytest.fixture(scope="session")
def armemu_server() -> Iterator[ArmEmulator]:
    with running_emulator(EmulatorSettings(time_factor=0.001, retry_after="ms")) as handle:
        yield handle


@pytest.fixture
def armemu(armemu_server: ArmEmulator) -> ArmEmulator:
    armemu_server.reset()
    return armemu_server
