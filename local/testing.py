"""Pytest fixtures of the local stand-ins of Azure storage and of an Event Grid topic (plugged in by tests/conftest.py
through `pytest_plugins`, like the ARM emulator's in local/armemu/testing.py). Kept apart from the stand-ins, which
the local stack runs without pytest.

* `azurite`: one Azurite process for the whole test session; `azurite_connection_string`; per test
  `unique_table_name` and `unique_queue_name`, since tests isolate themselves by unique names.
* `topic_sink`: a started topic sink (key auth over http) for one test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from local.azurite import Azurite, start_azurite
from local.topic_sink import TopicSink


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """One Azurite process for the whole test session; tests isolate themselves by unique names."""
    with start_azurite() as instance:
        yield instance


@pytest.fixture
def azurite_connection_string(azurite: Azurite) -> str:
    return azurite.connection_string


@pytest.fixture
def unique_table_name() -> str:
    """A table name no other test uses (alphanumeric, starts with a letter, 3-63 characters)."""
    return f"t{uuid.uuid4().hex}"


@pytest.fixture
def unique_queue_name() -> str:
    """A queue name no other test uses; short enough that `<name>-poison` is still valid (<= 63)."""
    return f"q-{uuid.uuid4().hex}"


@pytest_asyncio.fixture
async def topic_sink() -> AsyncIterator[TopicSink]:
    """A started sink (key auth, http) for one test."""
    async with TopicSink() as sink:
        yield sink
