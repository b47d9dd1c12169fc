"""Who may feed /api/events, through the HTTP API (the ASGI app in-process): Event Grid with a real RS256 token of
the emulator's Entra ID (validated by the app's own validator over HTTPS), in-cluster agents signing with their
cluster's key (issued when the cluster is requested, kept in the engine's versioned secret store), and the shared
secret in local mode only. Each attack of issue 14 is one test: it is refused, and nothing is applied."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions import runtime
from functions.http_api import app
from shared.adapters.clock import TableSecretStore
from shared.adapters.entra import EntraTokenValidator
from shared.bootstrap import Runtime, bootstrap
from shared.config import Settings
from shared.domain.policy import Policy
from shared.engine import Engine
from shared.services.outbox import Outbox
from tests.fakes import FakeArm, FakeClock, FakeStateStore, FakeStepQueue
from tests.integration.test_http_callers import AUDIENCE, CLIENT_ID, UNRESOLVED, VALIDATION, bearer
from tests.principals import TENANT, oid, pid

pytestmark = pytest.mark.integration
SUB = "00000000-0000-0000-0000-000000000000"
ROLE = "AzureEventGridSecureWebhookSubscriber"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eventgrid"
POLICY = {"rules": [{"principals": [pid("alice")], "subscriptions": ["*"], "resourceGroups": ["*"],
                     "actions": ["create", "change", "read", "delete"]}]}


def cluster_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg-{name}/providers/Microsoft.ContainerService/managedClusters/{name}"


def token(armemu: Any, who: str, roles: tuple[str, ...] = ()) -> str:
    spec = {"tenant": TENANT, "oid": oid(who), "audience": AUDIENCE, "name": who, "roles": list(roles)}
    return armemu.control("POST", "entra/token", spec)["access_token"]


def env(**extra: str) -> dict[str, str]:
    return {"AKSVEND_AUTH_TENANT_ID": TENANT, "AKSVEND_AUTH_AUDIENCES": f"{AUDIENCE},{CLIENT_ID}", **extra}


@contextlib.asynccontextmanager
async def api(armemu: Any, settings_env: dict[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The app over these settings, with clusters a and b requested by alice (so each has its agent key)."""
    clock = FakeClock.real()
    outbox = Outbox(FakeStateStore(), clock)
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=FakeStepQueue("steps", clock=clock),
                    arm=FakeArm(), clock=clock, secrets=TableSecretStore(FakeStateStore()), lifecycle=outbox)
    settings = Settings.from_env(settings_env)
    tokens = EntraTokenValidator.for_authority(TENANT, settings.auth.audiences, armemu.base_url,
                                               ca_cert=armemu.ca_cert)
    rt = bootstrap(settings, engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore(),
                   policy=Policy.model_validate(POLICY), tokens=tokens)
    runtime.use(rt)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aksvend.test") as client:
            alice = bearer(token(armemu, "alice"))
            for name in ("a", "b"):
                created = await client.post("/api/clusters", headers=alice, json={
                    "name": name, "resourceGroup": f"rg-{name}", "location": "westeurope"})
                assert created.status_code == 202, created.text
            yield client, rt
    finally:
        runtime.use(None)


async def key_of(rt: Runtime, name: str) -> str:
    """What the operator mounts into the cluster: the latest version of its agent key."""
    assert rt.clusters.agent_keys is not None
    keys = await rt.clusters.agent_keys.valid(cluster_id(name))
    assert keys
    return keys[0]


def signed(key: str, cluster: str, body: bytes, *, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    mac = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Aksvend-Cluster": cluster, "X-Aksvend-Timestamp": stamp, "X-Aksvend-Signature": f"sha256={mac}",
            "content-type": "application/cloudevents+json"}


def pressure(name: str, pending: int = 5) -> bytes:
    return json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"{cluster_id('a')}/agents/x",
                       "type": "aksvend.pool.pressure", "time": "2026-11-27T00:00:00Z",
                       "data": {"clusterId": cluster_id(name), "pool": "apps", "pendingPods": pending}}).encode()


def aks_event(topic: str) -> list[dict[str, Any]]:
    event = copy.deepcopy(json.loads((FIXTURES / "aks-new-kubernetes-version-available.eventgrid.json").read_text()))
    event.update(id=str(uuid.uuid4()), topic=topic)
    return [event]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code, problem
    return problem


async def operations(rt: Runtime) -> int:
    return sum(len(c.queue) for c in await rt.engine.registry.all())


async def test_an_agent_key_acts_on_its_own_cluster_only(armemu):
    async with api(armemu, env()) as (client, rt):
        key_a, key_b = await key_of(rt, "a"), await key_of(rt, "b")
        assert key_a != key_b
        own = pressure("a")
        ok = await client.post("/api/events", content=own, headers=signed(key_a, f"{SUB}/rg-a/a", own))
        assert ok.status_code == 200 and ok.json()["received"] == 1, ok.text
        before = await operations(rt)
        other = pressure("b", pending=100000)  # cluster a's agent names cluster b
        refused = assert_problem(await client.post("/api/events", content=other,
                                                   headers=signed(key_a, f"{SUB}/rg-a/a", other)), 403,
                                 "EventsNotPermitted")
        assert refused["errors"][0]["path"] == "/0" and refused["errors"][0]["code"] == "EVENT_NOT_PERMITTED"
        assert refused["errors"][0]["source"] == 'aksvend docs/events.md "How each source is authenticated"'
        # and claiming to be cluster b with a's key does not verify
        assert_problem(await client.post("/api/events", content=other, headers=signed(key_a, f"{SUB}/rg-b/b", other)),
                       401, "Unauthorized")
        assert await operations(rt) == before
        # an agent delivers its custom kinds only: an AKS system event from it is refused too
        forged = json.dumps(aks_event(cluster_id("a"))).encode()
        assert_problem(await client.post("/api/events", content=forged, headers={
            **signed(key_a, f"{SUB}/rg-a/a", forged), "content-type": "application/json"}), 403, "EventsNotPermitted")


async def test_a_replayed_or_tampered_agent_post_is_refused(armemu):
    async with api(armemu, env()) as (client, rt):
        key = await key_of(rt, "a")
        body = pressure("a")
        for at in (time.time() - 301, time.time() + 301):  # outside the 5 minute window
            problem = assert_problem(await client.post("/api/events", content=body,
                                                       headers=signed(key, f"{SUB}/rg-a/a", body, at=at)),
                                     401, "Unauthorized")
            assert "X-Aksvend-Timestamp" in problem["detail"] and key not in json.dumps(problem)
        headers = signed(key, f"{SUB}/rg-a/a", body)
        assert_problem(await client.post("/api/events", content=body.replace(b'"pendingPods": 5', b'"pendingPods": 9'),
                                         headers=headers), 401, "Unauthorized")
        assert_problem(await client.post("/api/events", content=body, headers={**headers, "X-Aksvend-Signature": "x"}),
                       400, "MalformedSignature")
        unknown = signed(key, f"{SUB}/rg-z/z", body)  # no such managed cluster
        assert_problem(await client.post("/api/events", content=body, headers=unknown), 401, "Unauthorized")


async def test_a_rotated_key_keeps_the_previous_one_valid_for_the_grace_period(armemu):
    async with api(armemu, env()) as (client, rt):
        old = await key_of(rt, "a")
        alice = bearer(token(armemu, "alice"))
        rotated = await client.post(f"/api/clusters/{SUB}/rg-a/a/agent-key/rotate", headers=alice)
        assert rotated.status_code == 200 and set(rotated.json()) == {"version", "created"}, rotated.text
        assert old not in rotated.text
        new = await key_of(rt, "a")
        assert new != old
        for key in (new, old):
            body = pressure("a")
            assert (await client.post("/api/events", content=body,
                                      headers=signed(key, f"{SUB}/rg-a/a", body))).status_code == 200
        keys = rt.clusters.agent_keys
        assert keys is not None
        rt.engine.clock.advance(24 * 3600 + 120)  # type: ignore[attr-defined]  # past the grace period and cache
        assert await keys.valid(cluster_id("a")) == (new,)
        assert (await client.post(f"/api/clusters/{SUB}/rg-a/a/agent-key/rotate")).status_code == 401


async def test_event_grid_needs_a_token_with_the_subscriber_role(armemu):
    async with api(armemu, env()) as (client, _):
        handshake = {"aeg-event-type": "SubscriptionValidation"}
        ok = await client.post("/api/events", json=VALIDATION, headers={**handshake,
                                                                       **bearer(token(armemu, "eg", (ROLE,)))})
        assert ok.status_code == 200 and ok.json() == {"validationResponse": VALIDATION[0]["data"]["validationCode"]}
        caller = bearer(token(armemu, "alice", ("Clusters.Batch",)))  # a valid caller's token, without the role
        assert_problem(await client.post("/api/events", json=VALIDATION, headers={**handshake, **caller}), 403,
                       "Forbidden")
        assert_problem(await client.post("/api/events", json=VALIDATION, headers={**handshake, **bearer("x.y.z")}),
                       401, "Unauthorized")
        assert_problem(await client.options("/api/events", headers={
            "WebHook-Request-Origin": "eventgrid.azure.net", **caller}), 403, "Forbidden")


async def test_a_forged_aks_event_from_a_custom_topic_is_refused_and_applies_nothing(armemu):
    async with api(armemu, env()) as (client, rt):
        grid = bearer(token(armemu, "eg", (ROLE,)))
        before = await operations(rt)
        custom_topic = f"/subscriptions/{SUB}/resourceGroups/rg-x/providers/Microsoft.EventGrid/topics/evil"
        problem = assert_problem(await client.post("/api/events", json=aks_event(custom_topic), headers=grid), 403,
                                 "EventsNotPermitted")
        assert "system topic" in problem["errors"][0]["message"]
        cloud = {"specversion": "1.0", "id": "1", "source": cluster_id("a"), "type":
                 "Microsoft.ContainerService.NewKubernetesVersionAvailable", "data": {
                     "latestSupportedKubernetesVersion": "1.33.999"}}  # a CloudEvents source is the publisher's
        assert_problem(await client.post("/api/events", json=cloud, headers={
            **grid, "content-type": "application/cloudevents+json"}), 403, "EventsNotPermitted")
        pressure_event = json.loads(pressure("a"))  # the agents' kinds never come from Event Grid
        assert_problem(await client.post("/api/events", json=pressure_event, headers={
            **grid, "content-type": "application/cloudevents+json"}), 403, "EventsNotPermitted")
        assert await operations(rt) == before
        genuine = await client.post("/api/events", json=aks_event(cluster_id("zz")), headers=grid)
        assert genuine.status_code == 200 and genuine.json()["unmapped"] == 1  # a cluster's topic: read, recorded


async def test_the_shared_secret_is_refused_outside_local_mode_and_a_reference_is_no_secret(armemu):
    handshake = {"aeg-event-type": "SubscriptionValidation"}
    async with api(armemu, env(AKSVEND_EVENTS_WEBHOOK_SECRET="s3cret-events")) as (client, _):
        for where in ({"headers": {**handshake, "X-Aksvend-Secret": "s3cret-events"}},
                      {"headers": handshake, "params": {"code": "s3cret-events"}}):
            problem = assert_problem(await client.post("/api/events", json=VALIDATION, **where), 401, "Unauthorized")
            assert "local mode only" in problem["detail"] and "s3cret" not in problem["detail"]
    async with api(armemu, env(AKSVEND_EVENTS_WEBHOOK_SECRET=UNRESOLVED, AKSVEND_LOCAL="1")) as (client, _):
        assert_problem(await client.post("/api/events", json=VALIDATION, headers={**handshake,
                                                                                 "X-Aksvend-Secret": UNRESOLVED}),
                       401, "Unauthorized")
    async with api(armemu, env(AKSVEND_EVENTS_WEBHOOK_SECRET="s3cret-events", AKSVEND_LOCAL="1")) as (client, _):
        ok = await client.post("/api/events", json=VALIDATION,
                               headers={**handshake, "X-Aksvend-Secret": "s3cret-events"})
        assert ok.status_code == 200


def pressure_from(name: str, source: str, event_id: str) -> bytes:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": source, "type": "aksvend.pool.pressure",
                       "data": {"clusterId": cluster_id(name), "pool": "apps", "pendingPods": 0}}).encode()


async def test_an_agent_cannot_send_under_another_clusters_source(armemu):
    """The attack: agent a sent an event about a, under b's source and an id b would use next; b's real event
    was then dropped as a duplicate (the dedupe key is (source, id))."""
    async with api(armemu, env()) as (client, rt):
        key_a, key_b = await key_of(rt, "a"), await key_of(rt, "b")
        b_source, guessed = f"{cluster_id('b')}/agents/pressure", "pressure-apps-2026-11-27T00:05:00Z"
        poison = pressure_from("a", b_source, guessed)
        problem = assert_problem(await client.post("/api/events", content=poison,
                                                   headers=signed(key_a, f"{SUB}/rg-a/a", poison)),
                                 403, "EventsNotPermitted")
        assert "source" in json.dumps(problem)
        genuine = pressure_from("b", b_source, guessed)
        answer = await client.post("/api/events", content=genuine, headers=signed(key_b, f"{SUB}/rg-b/b", genuine))
        assert answer.status_code == 200 and answer.json()["duplicates"] == 0, answer.text


async def test_a_deleted_clusters_agent_key_is_revoked_and_a_cluster_made_again_gets_a_new_one(armemu):
    async with api(armemu, env()) as (client, rt):
        alice = bearer(token(armemu, "alice"))
        old = await key_of(rt, "a")
        deleted = await client.delete(f"/api/clusters/{SUB}/rg-a/a?confirm=a", headers=alice)
        assert deleted.status_code == 202, deleted.text
        body = pressure("a", 0)
        assert (await client.post("/api/events", content=body,
                                  headers=signed(old, f"{SUB}/rg-a/a", body))).status_code == 401
        rotated = await client.post(f"/api/clusters/{SUB}/rg-a/a/agent-key/rotate", headers=alice)
        assert rotated.status_code in (404, 409), rotated.text  # deleting or deleted: no new key
        keys = rt.clusters.agent_keys
        assert keys is not None and await keys.valid(cluster_id("a")) == ()
        await keys.issue(cluster_id("a"))  # what a create of the name again does (Clusters.create)
        new = await key_of(rt, "a")
        assert new != old
        rt.engine.clock.advance(120)  # type: ignore[attr-defined]  # past the key cache
        assert await keys.valid(cluster_id("a")) == (new,)  # the old key stays revoked, grace or not
