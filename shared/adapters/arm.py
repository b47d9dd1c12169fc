"""ArmPort on the Azure SDK: send a PUT/DELETE once, read an operation's status once.

Why not the SDK's `begin_*` pollers: a poller's `result()` waits in-process for the whole operation (4-15
minutes for a cluster), and the engine must never wait in an invocation. Like Azure Service Operator's
generic ARM reconciler, the adapter sends the request through the family's SDK client (`send_request`, the
client's own pipeline), keeps the `Azure-AsyncOperation` (else `Location`) URL that ARM returns, and reads
it once per invocation. The engine saves that URL as the step's resume data.

Retries: azure-core's retry policy is turned off on these clients (`retry_total=0`); short retries (a reset
connection, a 429 asking for a second or two) happen here with tenacity, and only when the wait is short.
Anything longer goes back to the engine as `RetryableError`, which waits on the queue, not in the invocation.
Errors are mapped at this edge: services only ever see `RetryableError` / `FatalError`.

Timeouts: azure-core's defaults (300 s to connect, 300 s per read) equal host.json's `functionTimeout` (5 min), so
a slow ARM once held an invocation until the host killed it and the message came back to send the same PUT again.
Here each call connects within `CONNECTION_TIMEOUT_SECONDS` (10), waits at most `READ_TIMEOUT_SECONDS` (30) for
any read, and takes at most `CALL_TIMEOUT_SECONDS` (60) in all, short retries included (a read that timed out is not
retried in the invocation); past it the call ends as
`RetryableError("ArmTimeout")` and the step backs off on the queue. A step message makes at most two ARM calls (the
request and, for outputs, a GET), so an invocation spends at most 2 min on ARM, well under the 5 min function
timeout; the engine's send lease (`AKSVEND_LEASE_SECONDS`, 300) outlasts one call, so no other delivery sends the
same request while one is in flight (docs/engine.md, "Faults and timeouts").

Where the token goes: every request goes to the one ARM endpoint the adapter was given, and the clients ask for
that endpoint's own token scope (`<endpoint>/.default`), never the SDK's default (Azure's, whatever `base_url` is).
A URL that is not a path on the endpoint (a poll URL read back from storage that names another host) is refused
with a `FatalError` before anything is sent. Which endpoints the app may use at all is the settings' rule
(`shared/config/clouds.py`: outside local mode, an Azure cloud's).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.exceptions import ServiceRequestTimeoutError, ServiceResponseTimeoutError
from azure.core.rest import HttpRequest
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from shared.adapters.arm_families import CLIENTS, send
from shared.adapters.sdk_errors import parse_retry_after, sdk_errors
from shared.config.clouds import AZURE_ARM_ENDPOINT, arm_endpoint, arm_scope, same_origin
from shared.domain.arm import resource_type as resource_type_record
from shared.engine.ports import RESOURCE_EXISTS, ArmResult, LroStatus, PollResult
from shared.errors import FatalError, RetryableError, classify

SHORT_RETRY_MAX_SECONDS = 2.0
SHORT_RETRY_ATTEMPTS = 3
CONNECTION_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 30.0
CALL_TIMEOUT_SECONDS = 60.0
TIMEOUT_CODE = "ArmTimeout"
_STATUS: dict[str, LroStatus] = {"inprogress": "InProgress", "succeeded": "Succeeded", "failed": "Failed",
                                  "canceled": "Canceled", "cancelled": "Canceled"}


def _short(exc: BaseException) -> bool:
    """Worth another try in this invocation: a blip, not a slow ARM (a timed-out read is not sent again here)."""
    return isinstance(exc, RetryableError) and exc.code != TIMEOUT_CODE and (
        exc.delay_seconds or 0) <= SHORT_RETRY_MAX_SECONDS


def _timed_out(exc: Any) -> RetryableError:
    return RetryableError(TIMEOUT_CODE, f"ARM did not answer in time ({type(exc).__name__})")


# Compute usages are read through the resources client's pipeline (ARM authentication, policies): no typed compute
# client is pinned for one GET. api-version of Microsoft.Compute's usages (azure-rest-api-specs, compute 2024-07-01).
USAGES_TYPE = "Microsoft.Compute/locations/usages"
COMPUTE_USAGES_API_VERSION = "2024-07-01"


class AzureArm:
    """An async ArmPort over one credential and subscription; use as `async with`."""

    def __init__(self, credential: Any, subscription_id: str, *, base_url: str | None = None,
                 connection_verify: str | bool = True, read_timeout: float = READ_TIMEOUT_SECONDS,
                 call_timeout: float = CALL_TIMEOUT_SECONDS) -> None:
        """`base_url`: the ARM endpoint, an https origin (None: Azure's); the token is asked for its scope.
        `read_timeout`, `call_timeout`: seconds (the module docstring; tests make them short)."""
        self.endpoint = arm_endpoint(base_url or AZURE_ARM_ENDPOINT, local=True)  # canonical: https://host[:port]
        self.call_timeout = call_timeout
        kwargs: dict[str, Any] = {"retry_total": 0, "connection_verify": connection_verify, "base_url": self.endpoint,
                                  "credential_scopes": [arm_scope(self.endpoint)],
                                  "connection_timeout": min(CONNECTION_TIMEOUT_SECONDS, call_timeout),
                                  "read_timeout": min(read_timeout, call_timeout)}
        self._clients = {family: client(credential=credential, subscription_id=subscription_id, **kwargs)
                         for family, client in CLIENTS.items()}

    async def __aenter__(self) -> AzureArm:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

    async def put(self, resource_type: str, resource_id: str, api_version: str,
                  body: Mapping[str, Any], only_new: bool = False) -> ArmResult:
        """`only_new`: sent with `If-None-Match: *`, which ARM answers 412 when the resource exists (AKS: "Enhance
        concurrency control with entity tags", learn.microsoft.com/azure/aks/use-etags): then FatalError
        RESOURCE_EXISTS, nothing changed."""
        headers = {"If-None-Match": "*"} if only_new else None
        result = await self._write(resource_type, lambda: HttpRequest(
            "PUT", resource_id, params={"api-version": api_version}, json=body, headers=headers),
            allow={412} if only_new else set())
        if result.status == 412:
            raise FatalError(RESOURCE_EXISTS, f"ARM has {resource_id} already; it was not changed (If-None-Match: *)")
        return result

    async def delete(self, resource_type: str, resource_id: str, api_version: str) -> ArmResult:
        return await self._write(resource_type, lambda: HttpRequest(
            "DELETE", resource_id, params={"api-version": api_version}), not_found_is_done=True)

    async def patch(self, resource_type: str, resource_id: str, api_version: str, body: Mapping[str, Any],
                    etag: str | None = None) -> ArmResult:
        headers = {"If-Match": etag} if etag else None
        return await self._write(resource_type, lambda: HttpRequest(
            "PATCH", resource_id, params={"api-version": api_version}, json=body, headers=headers))

    async def get(self, resource_type: str, resource_id: str, api_version: str) -> Mapping[str, Any] | None:
        status, _headers, body = await self._send(resource_type, lambda: HttpRequest(
            "GET", resource_id, params={"api-version": api_version}), allow={404})
        return None if status == 404 else body

    async def post(self, resource_type: str, resource_id: str, api_version: str,
                   params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        """A POST action that answers at once (e.g. `.../listClusterUserCredential`): its JSON body, None on 404.
        The body may hold a secret: it is handed back, never logged or put in an exception."""
        status, _headers, body = await self._send(resource_type, lambda: HttpRequest(
            "POST", resource_id, params={**(params or {}), "api-version": api_version}), allow={404})
        return None if status == 404 else body

    async def usages(self, subscription_id: str, location: str) -> Mapping[str, Any] | None:
        path = f"/subscriptions/{subscription_id}/providers/Microsoft.Compute/locations/{location}/usages"
        status, _headers, body = await self._send(USAGES_TYPE, lambda: HttpRequest(
            "GET", path, params={"api-version": COMPUTE_USAGES_API_VERSION}), allow={404})
        return None if status == 404 else body

    async def poll(self, resource_type: str, poll_url: str) -> PollResult:
        status, headers, body = await self._send(resource_type, lambda: HttpRequest("GET", poll_url))
        retry_after = parse_retry_after(headers)
        if status == 202:  # a Location URL: still running
            return PollResult("InProgress", retry_after)
        raw = str((body or {}).get("status", "Succeeded" if status in (200, 204) else "Failed"))
        state = _STATUS.get(raw.lower(), "InProgress")
        error = (body or {}).get("error") or {}
        return PollResult(state, retry_after, error.get("code"), error.get("message", ""))

    async def _write(self, resource_type: str, request: Callable[[], HttpRequest], *,
                     not_found_is_done: bool = False, allow: set[int] | None = None) -> ArmResult:
        allowed = (allow or set()) | ({404} if not_found_is_done else set())
        status, headers, body = await self._send(resource_type, request, allow=allowed)
        lowered = {k.lower(): v for k, v in headers.items()}
        poll_url = lowered.get("azure-asyncoperation") or (lowered.get("location") if status == 202 else None)
        if status in (204, 404):
            poll_url = None
        return ArmResult(status, body, poll_url, parse_retry_after(headers))

    async def _send(self, resource_type: str, request: Callable[[], HttpRequest],
                    allow: set[int] | None = None) -> tuple[int, Mapping[str, str], dict[str, Any] | None]:
        """Send a request built by `request` (a fresh one per attempt: a sent request's body is consumed), only to
        the endpoint: a path, or an absolute URL on the endpoint's origin (FatalError otherwise, nothing sent)."""
        family = "resources" if resource_type == USAGES_TYPE else resource_type_record(resource_type).family
        client = self._clients[family]
        url = request().url
        if not ((url.startswith("/") and not url.startswith("//")) or same_origin(url, self.endpoint)):
            raise FatalError("UntrustedUrl", "the request's URL is not on the ARM endpoint; the app's token is "
                                             "never sent anywhere else")
        try:
            async with asyncio.timeout(self.call_timeout):
                return await self._attempts(client, request, allow or set())
        except TimeoutError:
            raise RetryableError(TIMEOUT_CODE, f"ARM did not answer within {self.call_timeout:g} s") from None

    async def _attempts(self, client: Any, request: Callable[[], HttpRequest],
                        allow: set[int]) -> tuple[int, Mapping[str, str], dict[str, Any] | None]:
        async for attempt in AsyncRetrying(retry=retry_if_exception(_short),
                                           stop=stop_after_attempt(SHORT_RETRY_ATTEMPTS),
                                           wait=wait_exponential(multiplier=0.2, max=SHORT_RETRY_MAX_SECONDS),
                                           reraise=True):
            with attempt:
                with sdk_errors({ServiceRequestTimeoutError: _timed_out, ServiceResponseTimeoutError: _timed_out}):
                    response = await send(client, request())  # stream=False: the body is read already
                body = _json(response.content)
                if response.status_code >= 400 and response.status_code not in allow:
                    error = (body or {}).get("error") or {}
                    raise classify(response.status_code, error.get("code"), error.get("message", ""),
                                   parse_retry_after(response.headers), error.get("target"))
                return response.status_code, response.headers, body
        raise AssertionError("unreachable")  # pragma: no cover


def _json(content: bytes) -> dict[str, Any] | None:
    if not content:
        return None
    try:
        parsed = json.loads(content)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
