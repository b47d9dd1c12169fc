"""The local host as a child process (`python -m local.host --port 0`), with its own Azurite and ARM emulator,
driven over real HTTP. Stopped by PID in teardown; every wait polls a condition against a deadline."""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient

from local.azurite import AzuriteEndpoints, connection_string
from local.host.client import ArmControl, RunningHost, local_host
from local.polling import wait_for
from shared.domain.examples import DATA_ACCOUNT
from tests.principals import oid

# Fast enough for a test (a 6-minute cluster create takes 1.8 s) but still asynchronous everywhere.
TIME_FACTOR = "0.005"
FAST_ENGINE = {"AKSVEND_POLL_INTERVAL_SECONDS": "0.5", "AKSVEND_BACKOFF_BASE_SECONDS": "0.2",
               "AKSVEND_LEASE_SECONDS": "20"}
POLICY = {"rules": [{"groups": [oid("team-x")], "subscriptions": ["*"], "resourceGroups": ["rg-x"],
                     "actions": ["create", "read"]}]}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKSVEND_") and k != "AzureWebJobsStorage"}
    return {**env, **FAST_ENGINE, **extra}


@pytest.fixture(scope="session")
def host() -> Iterator[RunningHost]:
    with local_host("--time-factor", TIME_FACTOR, env=_env()) as running:
        yield running


@pytest.fixture(scope="session")
def strict_host(host: RunningHost) -> Iterator[RunningHost]:
    """No local caller and a caller policy; its own Azurite (its queues are its own), the same emulator."""
    with local_host("--no-local-caller", "--arm-url", host.ready["armUrl"], "--arm-ca", host.ready["armCaCert"],
                    env=_env(AKSVEND_CALLER_POLICY=json.dumps(POLICY))) as running:
        yield running


@pytest.fixture(scope="session")
def easy_auth_host(host: RunningHost) -> Iterator[RunningHost]:
    """As `strict_host`, with the host playing App Service Authentication in front of the app (--easy-auth)."""
    with local_host("--easy-auth", "--arm-url", host.ready["armUrl"], "--arm-ca", host.ready["armCaCert"],
                    env=_env(AKSVEND_CALLER_POLICY=json.dumps(POLICY))) as running:
        yield running


def mint(host: RunningHost, who: str, **spec: Any) -> str:
    """An access token from the emulator's Entra ID for the principal `who`, for the tenant and audience the host's
    app validates (its ready line)."""
    auth = host.ready["auth"]
    with host.arm() as arm:
        return arm.control("POST", "entra/token", {"tenant": auth["tenantId"], "audience": auth["audiences"][0],
                                                   "oid": oid(who), "name": who, **spec})["access_token"]


@pytest.fixture(scope="session")
def api(host: RunningHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def arm(host: RunningHost) -> Iterator[ArmControl]:
    with host.arm() as control:
        yield control


@pytest.fixture(scope="session")
def storage_target(arm: ArmControl) -> str:
    arm.make_storage_account(DATA_ACCOUNT)
    return DATA_ACCOUNT


@pytest.fixture(scope="session")
def storage(host: RunningHost) -> str:
    s = host.ready["storage"]
    return connection_string(AzuriteEndpoints(s["blobEndpoint"], s["queueEndpoint"], s["tableEndpoint"]))


def wait_op(api: httpx.Client, location: str, timeout: float = 60.0) -> dict[str, Any]:
    """The operation once it ended. Until then a 404 is "not written yet" (an operation named by the registry,
    e.g. after a queued request, may be read before its own record is), never a pass."""

    def done() -> dict[str, Any] | None:
        response = api.get(location)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["state"] in ("succeeded", "failed") else None

    return wait_for(done, timeout=timeout, interval=0.2)


def put_message(conn: str, queue: str, body: bytes | str, *, encode: bool = True) -> str:
    """A message as the adapters (and the Functions queue output binding) write it: base64 of the bytes."""
    raw = body.encode() if isinstance(body, str) else body
    content = base64.b64encode(raw).decode() if encode else raw.decode()
    with QueueClient.from_connection_string(conn, queue) as client:
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        return client.send_message(content, time_to_live=-1).id


def queue_contents(conn: str, queue: str) -> list[str]:
    """What the queue holds now, visible or not (peek sees visible ones; the approximate count covers the rest)."""
    with QueueClient.from_connection_string(conn, queue) as client:
        count = client.get_queue_properties().approximate_message_count
        return [m.content for m in client.peek_messages(max_messages=32)] or ["?"] * count


def rejected_rows(conn: str) -> list[dict[str, Any]]:
    with TableClient.from_connection_string(conn, "rejected") as table:
        try:
            return [dict(e) for e in table.query_entities("PartitionKey eq 'cluster-requests'")]
        except ResourceNotFoundError:  # the table does not exist until the first rejection
            return []


def eventually(predicate: Any, timeout: float = 60.0) -> Any:
    return wait_for(predicate, timeout=timeout, interval=0.2)
