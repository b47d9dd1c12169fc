"""Ports the provisioning engine needs besides storage: ARM, a clock, ids and secrets.

ArmPort speaks ARM's long-running-operation protocol at the level the engine reasons about: send a PUT or
DELETE once, then read the operation's status once per invocation. It raises `shared.errors.RetryableError`
or `FatalError` (mapped at the adapter edge), never SDK exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

LroStatus = Literal["InProgress", "Succeeded", "Failed", "Canceled"]


@dataclass(frozen=True, slots=True)
class ArmResult:
    """The answer to a PUT or DELETE. `poll_url` is set while the operation runs on (Azure-AsyncOperation,
    else Location); `resource` is the body ARM returned, if any."""

    status: int
    resource: Mapping[str, Any] | None
    poll_url: str | None
    retry_after: float | None

    @property
    def provisioning_state(self) -> str | None:
        props = (self.resource or {}).get("properties")
        return props.get("provisioningState") if isinstance(props, Mapping) else None


@dataclass(frozen=True, slots=True)
class PollResult:
    status: LroStatus
    retry_after: float | None = None
    error_code: str | None = None
    error_message: str = ""


class ArmPort(Protocol):
    async def put(self, resource_type: str, resource_id: str, api_version: str,
                  body: Mapping[str, Any]) -> ArmResult: ...

    async def delete(self, resource_type: str, resource_id: str, api_version: str) -> ArmResult: ...

    async def get(self, resource_type: str, resource_id: str, api_version: str) -> Mapping[str, Any] | None:
        """The resource, or None when it does not exist."""
        ...

    async def poll(self, resource_type: str, poll_url: str) -> PollResult: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""
        ...


class SecretStore(Protocol):
    async def get_or_create(self, scope: str, name: str) -> str:
        """The secret `name` of `scope` (an operation's cluster), generated on first use and kept."""
        ...
