"""Who is calling, through the HTTP API (the ASGI app in-process), with real RS256 tokens from the ARM emulator's
Entra ID and the app's own validator fetching its keys over HTTPS; the engine is over fakes (what matters here is
whether anything is submitted, and as whom)."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from functions import runtime
from functions.http_api import app
from shared.adapters.entra import EntraTokenValidator
from shared.bootstrap import Runtime, bootstrap
from shared.config import ConfigError, Settings
from shared.domain.caller import QUEUE_CALLER
from shared.domain.policy import Policy
from shared.engine import Engine
from shared.services.outbox import Outbox
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue
from tests.principals import OTHER_TENANT, TENANT, oid, pid

pytestmark = pytest.mark.integration
SUB = "00000000-0000-0000-0000-000000000000"
CLIENT_ID = "5e7a1c2d-0000-4000-8000-00000000c11e"
AUDIENCE = f"api://{CLIENT_ID}"
PROBLEM = "application/problem+json"
POLICY = {"rules": [
    {"principals": [pid("alice")], "subscriptions": ["*"], "resourceGroups": ["rg-alice"], "actions": ["create"]},
    {"groups": [oid("platform-admins")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["create"]},
    {"groups": [oid("team-x")], "subscriptions": ["*"], "resourceGroups": ["rg-x"], "actions": ["create", "read"]},
    {"roles": ["Clusters.Batch"], "subscriptions": ["*"], "resourceGroups": ["rg-batch"], "actions": ["create"]},
    {"services": ["queue:cluster-requests"], "subscriptions": ["*"], "resourceGroups": ["rg-batch"],
     "actions": ["create"]}]}
TID = "http://schemas.microsoft.com/identity/claims/tenantid"
OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def body(group: str) -> dict[str, Any]:
    return {"name": "c1", "resourceGroup": group, "location": "westeurope"}


def principal_header(claims: list[tuple[str, str]]) -> str:
    doc = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles",
           "claims": [{"typ": t, "val": v} for t, v in claims]}
    return base64.b64encode(json.dumps(doc).encode()).decode()


# A made-up principal in group platform-admins: what anyone could send when nothing checks the header.
FORGED = principal_header([(TID, TENANT), (OID, oid("mallory")), ("name", "mallory"),
                           ("groups", oid("platform-admins"))])


def token(armemu: Any, who: str = "alice", **spec: Any) -> str:
    """A token from the emulator's Entra ID for the principal `who` (its object id), with `spec` on top."""
    spec = {"tenant": TENANT, "oid": oid(who), "audience": AUDIENCE, "name": who, **spec}
    return armemu.control("POST", "entra/token", spec)["access_token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def auth_env(armemu: Any) -> dict[str, str]:
    """Bearer validation on, as in Azure (Entra ID's own authority in the settings: outside local mode no other is
    accepted); `api` points the validator at the emulator's Entra ID instead."""
    return {"AKSVEND_AUTH_TENANT_ID": TENANT, "AKSVEND_AUTH_AUDIENCES": f"{AUDIENCE},{CLIENT_ID}"}


@contextlib.asynccontextmanager
async def api(armemu: Any, env: dict[str, str], *, authority: str | None = None,
              ) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The app over `env`'s settings. The validator asks the emulator's Entra ID (or `authority`) and trusts the
    emulator's CA, handed in as the local host hands in its credential: outside local mode neither is a setting."""
    clock = FakeClock.real()
    outbox = Outbox(FakeStateStore(), clock)
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=FakeStepQueue("steps", clock=clock),
                    arm=FakeArm(), clock=clock, secrets=FakeSecrets(), lifecycle=outbox)
    settings = Settings.from_env(env)
    auth = settings.auth
    tokens = EntraTokenValidator.for_authority(auth.tenant_id, auth.audiences, authority or armemu.base_url,
                                               ca_cert=armemu.ca_cert) if auth.tenant_id else None
    rt = bootstrap(settings, engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                   policy=Policy.model_validate(POLICY), tokens=tokens)
    runtime.use(rt)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as client:
            yield client, rt
    finally:
        runtime.use(None)


async def clusters(rt: Runtime) -> list[str]:
    return [c.name for c in await rt.engine.registry.all()]


def assert_unauthorized(response: httpx.Response, *, invalid_token: bool = False) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM and response.json()["code"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert ('error="invalid_token"' in response.headers["www-authenticate"]) is invalid_token


async def test_a_forged_principal_header_without_easy_auth_is_401_and_creates_nothing(armemu):
    async with api(armemu, auth_env(armemu)) as (client, rt):
        response = await client.post("/api/clusters", json=body("rg-prod"), headers={"X-MS-CLIENT-PRINCIPAL": FORGED})
        assert_unauthorized(response)
        detail = response.json()["detail"]
        assert "not trusted" in detail and f"Authorization: Bearer <an Entra ID access token for {AUDIENCE}>" in detail
        assert await clusters(rt) == []


async def test_a_forged_principal_header_in_azure_like_settings_is_401(armemu):
    azure = {**auth_env(armemu), "WEBSITE_INSTANCE_ID": "0123abcd"}  # no local mode; Easy Auth not on
    async with api(armemu, azure) as (client, rt):
        response = await client.post("/api/clusters", json=body("rg-prod"),
                                     headers={"X-MS-CLIENT-PRINCIPAL": FORGED, "X-MS-CLIENT-PRINCIPAL-ID": oid("x")})
        assert_unauthorized(response)
        assert await clusters(rt) == []
    with pytest.raises(ConfigError, match="AKSVEND_LOCAL"):
        Settings.from_env({**azure, "AKSVEND_LOCAL": "1", "AKSVEND_LOCAL_CALLER": pid("mallory")})


async def test_a_valid_token_gets_what_the_policy_grants_its_principal_groups_and_roles(armemu):
    async with api(armemu, auth_env(armemu)) as (client, rt):
        alice = bearer(token(armemu, "alice"))
        assert (await client.post("/api/clusters", json=body("rg-alice"), headers=alice)).status_code == 202
        denied = await client.post("/api/clusters", json=body("rg-x"), headers=alice)
        assert denied.status_code == 403 and denied.json()["code"] == "Forbidden"
        assert pid("alice") in denied.json()["detail"]
        member = bearer(token(armemu, "bob", groups=[oid("team-x")]))
        assert (await client.post("/api/clusters", json=body("rg-x"), headers=member)).status_code == 202
        by_role = bearer(token(armemu, "robot", roles=["Clusters.Batch"], audience=CLIENT_ID))
        assert (await client.post("/api/clusters", json=body("rg-batch"), headers=by_role)).status_code == 202
        assert sorted(await clusters(rt)) == ["c1", "c1", "c1"]
        listed = await client.get("/api/clusters", headers=member)
        assert [c["resourceGroup"] for c in listed.json()["value"]] == ["rg-x"]


@pytest.mark.parametrize(("spec", "reason"), [
    ({"audience": "api://someone-else"}, "aud"),
    ({"tenant": OTHER_TENANT}, "iss"),
    ({"claims": {"tid": OTHER_TENANT}}, "tid"),
    ({"expiresIn": -600, "notBefore": 0}, "expired"),
    ({"notBefore": 4_000_000_000}, "not valid yet"),
])
async def test_a_token_for_another_audience_or_tenant_or_out_of_time_is_401(armemu, spec, reason):
    async with api(armemu, auth_env(armemu)) as (client, rt):
        refused = token(armemu, "alice", groups=[oid("platform-admins")], **spec)
        response = await client.post("/api/clusters", json=body("rg-alice"), headers=bearer(refused))
        assert_unauthorized(response, invalid_token=True)
        assert reason in response.json()["detail"]
        assert refused not in response.text and refused.split(".")[1] not in response.text
        assert await clusters(rt) == []


async def test_a_tampered_or_unsigned_token_is_401(armemu):
    async with api(armemu, auth_env(armemu)) as (client, _):
        header, payload, signature = token(armemu, "alice").split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        raised = base64.urlsafe_b64encode(json.dumps({**claims, "groups": [oid("platform-admins")]}).encode())
        tampered = f"{header}.{raised.rstrip(b'=').decode()}.{signature}"
        unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode() + f".{payload}."
        for forged in (tampered, unsigned, "not-a-jwt"):
            response = await client.post("/api/clusters", json=body("rg-prod"), headers=bearer(forged))
            assert_unauthorized(response, invalid_token=True)


async def test_a_principal_named_like_an_allowed_one_with_another_object_id_is_403(armemu):
    async with api(armemu, auth_env(armemu)) as (client, rt):
        impostor = bearer(token(armemu, "mallory", name="alice", preferred_username="alice"))
        response = await client.post("/api/clusters", json=body("rg-alice"), headers=impostor)
        assert response.status_code == 403, response.text
        assert await clusters(rt) == []


async def test_a_principal_that_claims_the_queues_id_cannot_act_as_the_queue(armemu):
    env = {**auth_env(armemu), "WEBSITE_AUTH_ENABLED": "True"}
    async with api(armemu, env) as (client, rt):
        queue = "queue:cluster-requests"
        for claims in ([(TID, TENANT), (OID, queue)], [(TID, "aksvend"), ("oid", queue)], [("name", queue)]):
            response = await client.post("/api/clusters", json=body("rg-batch"), headers={
                "X-MS-CLIENT-PRINCIPAL": principal_header(claims), "X-MS-CLIENT-PRINCIPAL-ID": queue})
            assert_unauthorized(response)
        named = principal_header([(TID, TENANT), (OID, oid("mallory")), ("name", "queue:cluster-requests")])
        assert (await client.post("/api/clusters", json=body("rg-batch"),
                                  headers={"X-MS-CLIENT-PRINCIPAL": named})).status_code == 403
        as_queue = token(armemu, claims={"oid": "queue:cluster-requests"})
        assert_unauthorized(await client.post("/api/clusters", json=body("rg-batch"), headers=bearer(as_queue)),
                            invalid_token=True)
        assert await clusters(rt) == []
        assert (await rt.clusters.create(body("rg-batch"), QUEUE_CALLER)).created  # the queue itself may


async def test_with_easy_auth_on_the_principal_header_is_the_caller(armemu):
    easy = principal_header([(TID, TENANT), (OID, oid("bob")), ("name", "Bob"), ("groups", oid("team-x"))])
    async with api(armemu, {**auth_env(armemu), "WEBSITE_AUTH_ENABLED": "True"}) as (client, rt):
        accepted = await client.post("/api/clusters", json=body("rg-x"), headers={"X-MS-CLIENT-PRINCIPAL": easy})
        assert accepted.status_code == 202, accepted.text
        assert (await client.post("/api/clusters", json=body("rg-y"),
                                  headers={"X-MS-CLIENT-PRINCIPAL": easy})).status_code == 403
        assert_unauthorized(await client.post("/api/clusters", json=body("rg-x")))
        # a bearer token beside it decides, and a refused one is refused whatever the header says
        both = {"X-MS-CLIENT-PRINCIPAL": FORGED, **bearer(token(armemu, "alice"))}
        assert (await client.post("/api/clusters", json=body("rg-prod"), headers=both)).status_code == 403
        bad = {"X-MS-CLIENT-PRINCIPAL": FORGED, **bearer(token(armemu, "alice", audience="api://other"))}
        assert_unauthorized(await client.post("/api/clusters", json=body("rg-prod"), headers=bad), invalid_token=True)
        assert await clusters(rt) == ["c1"]
    async with api(armemu, {**auth_env(armemu), "WEBSITE_AUTH_ENABLED": "False"}) as (client, _):
        assert_unauthorized(await client.post("/api/clusters", json=body("rg-x"),
                                              headers={"X-MS-CLIENT-PRINCIPAL": easy}))


async def test_in_local_mode_requests_without_credentials_are_the_local_caller_and_tokens_still_decide(armemu):
    local = {**auth_env(armemu), "AKSVEND_LOCAL": "1", "AKSVEND_LOCAL_CALLER": pid("alice")}
    async with api(armemu, local) as (client, rt):
        assert (await client.post("/api/clusters", json=body("rg-alice"))).status_code == 202
        # the principal header is ignored, not trusted: still the local caller, who may not create in rg-x
        member = principal_header([(TID, TENANT), (OID, oid("bob")), ("groups", oid("team-x"))])
        assert (await client.post("/api/clusters", json=body("rg-x"),
                                  headers={"X-MS-CLIENT-PRINCIPAL": member})).status_code == 403
        assert (await client.post("/api/clusters", json=body("rg-x"),
                                  headers=bearer(token(armemu, "bob", groups=[oid("team-x")])))).status_code == 202
        assert_unauthorized(await client.post("/api/clusters", json=body("rg-alice"), headers=bearer("garbage")),
                            invalid_token=True)
        assert sorted(await clusters(rt)) == ["c1", "c1"]


async def test_signing_keys_that_cannot_be_fetched_are_503_not_401(armemu):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with api(armemu, auth_env(armemu), authority=f"https://127.0.0.1:{port}") as (client, rt):
        response = await client.post("/api/clusters", json=body("rg-alice"), headers=bearer(token(armemu)))
        assert response.status_code == 503 and response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "CallerUnverifiable" and response.headers["retry-after"]
        assert await clusters(rt) == []


async def test_every_route_that_acts_or_reads_needs_a_caller(armemu):
    async with api(armemu, auth_env(armemu)) as (client, _):
        cluster = f"/api/clusters/{SUB}/rg/c"
        for method, path in (("POST", "/api/plan"), ("GET", "/api/clusters"), ("GET", cluster), ("DELETE", cluster),
                             ("GET", "/api/operations/00000000-0000-4000-8000-000000000000"),
                             ("PUT", f"{cluster}/pools/p"), ("DELETE", f"{cluster}/pools/p")):
            assert_unauthorized(await client.request(method, path, json=body("rg")))
        assert (await client.get("/api/health")).status_code == 200


# What App Service hands the app, instead of the secret, while the Key Vault secret does not exist: text anyone can
# read off infra/app/api.bicep.
UNRESOLVED = "@Microsoft.KeyVault(VaultUri=https://kv-aksvend.vault.azure.net/secrets/events-webhook)"
VALIDATION = [{"id": "v-1", "topic": f"/subscriptions/{SUB}", "subject": "", "eventType":
               "Microsoft.EventGrid.SubscriptionValidationEvent", "eventTime": "2026-11-27T00:00:00Z",
               "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}, "dataVersion": "2"}]


async def assert_events_webhook_off(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                                    params: dict[str, str] | None = None) -> None:
    """POST (the subscription validation: an attacker's subscription) and OPTIONS (the CloudEvents handshake) to
    /api/events, with `headers` and `params`, are 401 and answer nothing of the handshake."""
    sent = await client.post("/api/events", json=VALIDATION, params=params,
                             headers={"aeg-event-type": "SubscriptionValidation", **(headers or {})})
    assert sent.status_code == 401, sent.text
    assert "validationResponse" not in sent.text and "512d38b6" not in sent.text
    shake = await client.options("/api/events", params=params,
                                 headers={"WebHook-Request-Origin": "eventgrid.azure.net", **(headers or {})})
    assert shake.status_code == 401 and "WebHook-Allowed-Origin" not in shake.headers


async def test_the_events_webhook_without_its_secret_in_azure_like_settings_refuses_everything(armemu):
    azure = {**auth_env(armemu), "WEBSITE_INSTANCE_ID": "0123abcd"}  # no AKSVEND_EVENTS_WEBHOOK_SECRET
    async with api(armemu, azure) as (client, _):
        await assert_events_webhook_off(client)
        await assert_events_webhook_off(client, headers={"X-Aksvend-Secret": ""}, params={"code": ""})


async def test_an_unresolved_key_vault_reference_is_no_secret_not_even_itself(armemu):
    for env in ({**auth_env(armemu), "WEBSITE_INSTANCE_ID": "0123abcd"},
                {**auth_env(armemu), "AKSVEND_LOCAL": "1"}):  # in local mode too: a reference never opens it
        async with api(armemu, {**env, "AKSVEND_EVENTS_WEBHOOK_SECRET": UNRESOLVED}) as (client, rt):
            await assert_events_webhook_off(client, params={"code": UNRESOLVED})
            await assert_events_webhook_off(client, headers={"X-Aksvend-Secret": UNRESOLVED})
            await assert_events_webhook_off(client)
            assert UNRESOLVED not in repr(rt.settings) and rt.settings.unresolved == ("AKSVEND_EVENTS_WEBHOOK_SECRET",)


async def test_the_events_webhook_with_its_secret_answers_only_with_it_and_only_in_local_mode(armemu):
    async with api(armemu, {**auth_env(armemu), "AKSVEND_EVENTS_WEBHOOK_SECRET": "s3cret-events"}) as (client, _):
        await assert_events_webhook_off(client, params={"code": "s3cret-events"})  # outside local mode: never
    local = {**auth_env(armemu), "AKSVEND_LOCAL": "1", "AKSVEND_EVENTS_WEBHOOK_SECRET": "s3cret-events"}
    async with api(armemu, local) as (client, _):
        await assert_events_webhook_off(client, params={"code": "s3cret-event"})
        ok = await client.post("/api/events", json=VALIDATION, params={"code": "s3cret-events"},
                               headers={"aeg-event-type": "SubscriptionValidation"})
        assert ok.status_code == 200 and ok.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    async with api(armemu, {**auth_env(armemu), "AKSVEND_LOCAL": "1"}) as (client, _):  # local, unset: no check
        ok = await client.post("/api/events", json=VALIDATION, headers={"aeg-event-type": "SubscriptionValidation"})
        assert ok.status_code == 200
