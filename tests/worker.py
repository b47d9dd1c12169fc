"""function_app's HTTP function as the Azure Functions Python worker runs it, over a runtime of fakes.

The worker calls the function that `func.AsgiFunctionApp` registers (`http_app_func`), which starts the app's
lifespan once and then awaits `AsgiMiddleware.handle_async(req, context)`: `Worker.request` calls that same
function with a `func.HttpRequest`, so what a test sees is what the Functions host would get back, and an
exception that escapes is one the host would turn into a 500. The runtime is built by `shared.bootstrap.bootstrap`
over tests/fakes.py (no Azurite, no emulator).

Who is calling is said in one place, `as_caller` (App Service Authentication's principal header, trusted because the
runtime's settings say Easy Auth is on), and the caller policy in `POLICY`, so that a change in how callers are
proven changes this module, not the tests. A request without credentials is sent as `dev` unless the worker is
made with `caller=None`.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping
from typing import Any

import azure.functions as func

import function_app
from functions import runtime
from shared.bootstrap import Runtime, bootstrap
from shared.config import AuthSettings, Settings
from shared.config.tickets import TicketSettings
from shared.domain.policy import Policy
from shared.domain.tickets import WebhookAuth
from shared.engine import Engine
from shared.engine.ports import StateStore
from shared.services.outbox import Outbox
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue
from tests.principals import TENANT, oid, pid

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-000000000002"
TID = "http://schemas.microsoft.com/identity/claims/tenantid"
OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
EVENTS_SECRET = "events-secret-value-1234"
GITHUB_SECRET = "github-secret-value-5678"
# dev may do anything in rg-a; alice everything in rg-b; bob only reads rg-b.
POLICY = {"rules": [
    {"principals": [pid("dev")], "subscriptions": [SUB], "resourceGroups": ["rg-a"],
     "actions": ["create", "change", "delete", "read"]},
    {"principals": [pid("alice")], "subscriptions": ["*"], "resourceGroups": ["rg-b"],
     "actions": ["create", "change", "delete", "read"]},
    {"principals": [pid("bob")], "subscriptions": ["*"], "resourceGroups": ["rg-b"], "actions": ["read"]}]}


def as_caller(name: str) -> dict[str, str]:
    """The headers that make `name` the caller (Easy Auth's principal, as App Service Authentication sets it)."""
    return {"X-MS-CLIENT-PRINCIPAL": principal_header({"auth_typ": "aad", "name_typ": "name", "claims": [
        {"typ": TID, "val": TENANT}, {"typ": OID, "val": oid(name)}, {"typ": "name", "val": name}]})}


def principal_header(document: Any) -> str:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return base64.b64encode(raw).decode()


def fake_runtime(*, clusters: StateStore | None = None, policy: Policy | None = None) -> Runtime:
    """`clusters`: the registry's table (default: an empty fake); `policy` (default: `POLICY`)."""
    clock = FakeClock.real()
    outbox = Outbox(FakeStateStore(), clock)
    engine = Engine(operations=FakeStateStore(), clusters=clusters or FakeStateStore(),
                    queue=FakeStepQueue("steps", clock=clock), arm=FakeArm(), clock=clock, secrets=FakeSecrets(),
                    lifecycle=outbox)
    # local mode only for the events webhook's shared secret (outside it /api/events takes Event Grid's tokens and
    # agents' signatures: tests/integration/test_events_auth.py); no local caller, so callers are proven as in Azure
    settings = Settings(default_subscription_id=SUB, local=True, events_webhook_secret=EVENTS_SECRET,
                        auth=AuthSettings(easy_auth=True, tenant_id=TENANT, audiences=("api://aksvend",)),
                        tickets=TicketSettings(auth={"github": WebhookAuth(hmac_secrets=(GITHUB_SECRET,))}))
    return bootstrap(settings, engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                     policy=policy or Policy.model_validate(POLICY))


@functools.cache
def http_function() -> Any:
    """The function the worker invokes for every HTTP request: function_app's catch-all ASGI function. The app
    indexes its functions once (a second `get_functions()` finds its names taken), as the host does: it is indexed
    here from a clean index (another test of the same process may have indexed it already, e.g. through the local
    host's `discover`), and the index is put back as it was, so that the local host's tests index the app themselves."""
    app = function_app.app
    indexed = app.functions_bindings
    app.functions_bindings = {}
    try:
        return next(f for f in app.get_functions() if f.get_function_name() == "http_app_func").get_user_function()
    finally:
        app.functions_bindings = indexed


class Worker:
    """Requests through function_app's HTTP function; `close` ends the app's lifespan (once per event loop)."""

    def __init__(self, rt: Runtime, caller: str | None = "dev") -> None:
        self.function = http_function()
        self.caller = caller  # who sends a request that carries no credentials of its own
        runtime.use(rt)

    async def request(self, method: str, path: str, *, body: bytes | str = b"", json_body: Any = None,
                      headers: Mapping[str, str] | None = None, query: str = "") -> func.HttpResponse:
        """`path` as it arrives (percent-escapes kept: the middleware decodes them); `query` without its '?'."""
        sent = dict(headers or {})
        if self.caller and not {"x-ms-client-principal", "authorization"} & {k.lower() for k in sent}:
            sent.update(as_caller(self.caller))
        if json_body is not None:
            body = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        raw = body.encode() if isinstance(body, str) else body
        url = f"https://aksvend.example{path}" + (f"?{query}" if query else "")
        return await self.function(func.HttpRequest(method, url, headers=sent, body=raw), None)

    async def close(self) -> None:
        app = function_app.app
        if app.startup_task_done:
            await app.middleware.notify_shutdown()
        # The lifespan's queue and events belong to this event loop: the next loop starts afresh.
        app.middleware.lifespan_receive_queue = None
        app.middleware.lifespan_startup_event = None
        app.middleware.lifespan_shutdown_event = None
        app.startup_task_done = False
        runtime.use(None)


def problem_of(response: func.HttpResponse) -> dict[str, Any]:
    """The problem+json body of a refusal (asserting that it is one)."""
    assert response.mimetype == "application/problem+json", (response.status_code, response.get_body()[:300])
    body = json.loads(response.get_body())
    assert body["status"] == response.status_code and body["title"] and body["code"], body
    return dict(body)
