"""The HTTP API in-process (the ASGI app through httpx) over a real engine, for the integration tests that drive
aksvend as its callers do: `api_client` wires the app to a harness engine (Azurite, the emulator, the SDKs) under a
caller policy; `wait_op` polls an operation until it ends; `principal_header` is Easy Auth's header for a caller."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from functions import runtime
from functions.http_api import app
from shared.bootstrap import bootstrap
from shared.config import Settings
from shared.domain.policy import Policy
from shared.services.outbox import Outbox
from tests.fakes import FakeClock, FakeStateStore
from tests.integration.engine_harness import Harness, harness
from tests.principals import TENANT, oid, pid


def principal_header(name: str, groups: tuple[str, ...] = ()) -> str:
    """Easy Auth's `X-MS-CLIENT-PRINCIPAL` value for `name` (its tenant and object id) in the groups named."""
    claims = [("tid", TENANT), ("oid", oid(name)), ("name", name), *(("groups", oid(g)) for g in groups)]
    doc = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles",
           "claims": [{"typ": t, "val": v} for t, v in claims]}
    return base64.b64encode(json.dumps(doc).encode()).decode()


@asynccontextmanager
async def api_client(armemu: Any, connection_string: str, policy: Mapping[str, Any],
                     caller: str = "dev") -> AsyncIterator[tuple[httpx.AsyncClient, Harness]]:
    """The app in local mode (the caller is `caller`) over a running harness engine, the policy given."""
    outbox = Outbox(FakeStateStore(), FakeClock.real())
    async with harness(armemu, connection_string, lifecycle=outbox) as h:
        settings = Settings(default_subscription_id=armemu.subscription_id, local=True, local_caller=pid(caller))
        runtime.use(bootstrap(settings, h.engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                              policy=Policy.model_validate(policy)))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as c:
                yield c, h
        finally:
            runtime.use(None)


async def wait_op(client: httpx.AsyncClient, location: str, timeout: float = 90.0,
                  headers: dict[str, str] | None = None) -> dict:
    """The operation at `location` once it has ended (succeeded or failed), polled with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = (await client.get(location, headers=headers)).json()
        if body["state"] in ("succeeded", "failed"):
            return body
        await asyncio.sleep(0.1)  # polling a condition with a deadline
    raise AssertionError(f"{location} did not finish")


async def settled(client: httpx.AsyncClient, path: str, timeout: float = 30.0) -> dict:
    """The cluster's view at `path` once it is ready with nothing running or queued: the worker releases an ended
    operation from the cluster's queue (and records what it applied) just after saving the operation's state, so an
    operation seen `succeeded` does not yet mean a settled cluster."""
    deadline = time.monotonic() + timeout
    while (view := (await client.get(path)).json())["state"] != "ready" or view["currentOperation"] is not None:
        assert time.monotonic() < deadline, view
        await asyncio.sleep(0.02)  # polling a condition against a deadline
    return view
