"""functions/runtime.py: opening the runtime imports the Azure SDK clients (seconds of CPU on a cold start) in a
worker thread, so the event loop keeps answering requests that need no runtime meanwhile. The slow import is a
stand-in that waits on an event, so the test neither sleeps nor depends on how fast the machine imports."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

import shared.bootstrap
from functions import runtime
from functions.http_api import app
from shared.bootstrap import opened_lazily
from shared.config import Settings

WAIT = 30.0  # a safety bound only: every wait below ends on an event


@pytest.fixture
def fresh_runtime():
    runtime.use(None)
    runtime.configure()
    yield
    runtime.use(None)
    runtime.configure()


async def test_health_answers_while_the_runtime_is_being_opened(monkeypatch, fresh_runtime):
    importing, release = threading.Event(), threading.Event()
    loop_threads: list[bool] = []

    def slow_import(settings: Any, *, credential: Any = None) -> tuple[str, ...]:
        loop_threads.append(threading.current_thread() is threading.main_thread())
        importing.set()
        release.wait(WAIT)  # the import of the SDK clients, still running
        return ()

    opened = object()

    async def open_runtime(settings: Any, stack: Any, **overrides: Any) -> Any:
        return opened

    monkeypatch.setattr(shared.bootstrap, "opened_lazily", slow_import)
    monkeypatch.setattr(shared.bootstrap, "open_runtime", open_runtime)
    opening = asyncio.create_task(runtime.runtime())
    assert await asyncio.to_thread(importing.wait, WAIT)  # the import has begun

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        health = await client.get("/api/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert not opening.done()  # answered before the runtime's import ended
    assert loop_threads == [False]  # the import ran off the event loop's thread

    release.set()
    assert await asyncio.wait_for(opening, WAIT) is opened
    assert await runtime.runtime() is opened  # opened once


def test_opening_imports_the_identity_library_only_when_no_credential_is_handed_over():
    local = Settings(storage_connection="UseDevelopmentStorage=true", key_vault_uri="https://127.0.0.1:4443")
    assert opened_lazily(local, credential=object()) == ("shared.adapters.keyvault",)
    assert opened_lazily(Settings(storage_connection="UseDevelopmentStorage=true"), credential=object()) == ()
    assert opened_lazily(Settings(storage_account="stfunc"), credential=None) == ("azure.identity.aio",)
