"""The engine through storage and ARM faults, with the real adapters: Table Storage behind a fault proxy
(local/faultproxy.py) that answers 503 ServerBusy, the ARM emulator answering slowly or with a 503 storm. Each
ends Succeeded with exactly the planned resources, each created once.

Time is scaled with the engine settings (backoff, leases, ARM timeouts) so the tests are quick; what a test waits
for happens by construction (the emulator holds operations; the outage ends only once a message was sent again
more times than maxDequeueCount would have allowed deliveries), polled with a deadline."""

from __future__ import annotations

import dataclasses
from collections import Counter
from urllib.parse import urlsplit

import pytest

from local.faultproxy import FaultProxy
from shared.engine.delivery import MAX_DEQUEUE_COUNT, RETRIES
from tests.integration.engine_harness import (
    FAST,
    creates_per_resource,
    expected_inventory,
    harness,
    made_by_aksvend,
    make_storage_target,
    production,
)
from tests.polling import eventually

pytestmark = pytest.mark.integration

FAULTS = dataclasses.replace(FAST, storage_backoff_cap_seconds=0.5)
QUICK_TABLE_RETRIES = {"retry_backoff_factor": 0.05}  # the SDK's own 3 retries, without 0.8 s x 2^n waits


def counting_retries(retried: list[int]):
    """A handler wrapper that notes each delivery's retry count in `retried` before handling it."""
    def counting(handle):
        async def wrapped(message):
            retried.append(message.get(RETRIES, 0))
            await handle(message)
        return wrapped
    return counting


def puts_per_resource(armemu) -> Counter[str]:
    """Every PUT the emulator saw, by resource (a duplicate PUT shows as a count above 1)."""
    return Counter(r["path"].split("?")[0].lower() for r in armemu.requests() if r["method"] == "PUT")


def via_proxy(connection_string: str, table_endpoint: str, proxy: FaultProxy) -> str:
    """The same storage, its table endpoint replaced by the proxy's (queues still go to Azurite directly)."""
    path = urlsplit(table_endpoint).path
    return connection_string.replace(f"TableEndpoint={table_endpoint};", f"TableEndpoint={proxy.url()}{path};")


async def _steps(h, op_id):
    return {r.entity["RowKey"].removeprefix("step:"): r.entity for r in await h.engine.ops.query_partition(op_id)
            if r.entity["RowKey"].startswith("step:")}


def _assert_exact(armemu, account, raw, op):
    assert op["state"] == "succeeded", op.get("error")
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)
    assert set(creates_per_resource(armemu).values()) == {1}


async def test_a_storage_outage_longer_than_the_deliveries_allowed_ends_succeeded(armemu, azurite,
                                                                                  azurite_connection_string):
    account = make_storage_target(armemu)
    raw = production(account)
    armemu.control("POST", "operations/finish")
    armemu.control("PUT", "operations/hold", {"hold": True})  # nothing ends until the outage is over
    table = urlsplit(azurite.endpoints.table)
    retried: list[int] = []
    poisoned: list[dict] = []

    async with FaultProxy(table.hostname, table.port, lifetime=300) as proxy, harness(
            armemu, via_proxy(azurite_connection_string, azurite.endpoints.table, proxy), settings=FAULTS,
            handler_wrapper=counting_retries(retried), table_kwargs=QUICK_TABLE_RETRIES) as h:
        inner_poison = h.runner.poison

        async def poison(body, n):
            poisoned.append(body)
            await inner_poison(body, n)

        h.runner.poison = poison
        op_id = await h.submit(raw)

        async def settled() -> bool:  # every step that could begin has sent its request; ARM holds them all
            steps = (await _steps(h, op_id)).values()
            return any(s["phase"] == "monitor" for s in steps) and all(
                s["state"] in ("waiting", "succeeded") or (s["state"] == "running" and s["phase"] == "monitor")
                for s in steps)

        await eventually(settled, timeout=60)
        monitored = next(s for s, r in (await _steps(h, op_id)).items() if r["phase"] == "monitor")
        await proxy.set("503")
        # A delivery during the outage by construction, not after the held monitors' next poll (whose Retry-After,
        # under load, made this wait run out): one more message for a monitored step (a monitor never PUTs).
        await h.engine.send(op_id, monitored)

        async def outlasted() -> bool:  # a message was sent again more often than it could have been delivered
            return max(retried, default=0) > MAX_DEQUEUE_COUNT

        await eventually(outlasted, timeout=180)
        await proxy.set("pass")
        armemu.control("PUT", "operations/hold", {"hold": False})
        op = await h.wait_done(op_id, timeout=90)
    assert proxy.counts["503"] > MAX_DEQUEUE_COUNT
    assert poisoned == []
    _assert_exact(armemu, account, raw, op)
    assert set(puts_per_resource(armemu).values()) == {1}, puts_per_resource(armemu)


async def test_slow_arm_answers_time_out_and_the_same_put_is_not_sent_by_another_delivery(armemu,
                                                                                       azurite_connection_string):
    # The resource group's PUT is answered 2 s late (the work done first) three times; the adapter gives up after
    # 1 s. Every message is delivered twice: the second delivery finds the first one's request in flight and does
    # not send it. So the group is PUT once per timeout and once more, never by a duplicate delivery.
    account = make_storage_target(armemu)
    raw = production(account)
    armemu.set_faults({"seed": 1, "rules": [
        {"name": "slow-rg", "method": "PUT", "pathRegex": "/resourcegroups/rg-shop$", "action": "slow",
         "phase": "after", "delaySeconds": 2, "limit": 3}]})
    from tests.integration.test_engine import DuplicatingQueue

    async with harness(armemu, azurite_connection_string, arm_kwargs={"read_timeout": 1.0, "call_timeout": 1.0}
                       ) as h:
        h.engine.queue = DuplicatingQueue(h.engine.queue)
        op_id = await h.submit(raw)
        op = await h.wait_done(op_id, timeout=90)
        steps = await _steps(h, op_id)
    hits = {r["name"]: r["hits"] for r in armemu.control("GET", "faults")["rules"]}
    assert hits["slow-rg"] == 3
    rg = next(p for p in puts_per_resource(armemu) if p.endswith("/resourcegroups/rg-shop"))
    assert puts_per_resource(armemu)[rg] == 4  # three that timed out, one answered
    assert steps["put:resourceGroup"]["attempts"] == 4
    _assert_exact(armemu, account, raw, op)


async def test_an_arm_503_storm_ends_succeeded_with_each_resource_created_once(armemu, azurite_connection_string):
    account = make_storage_target(armemu)
    raw = production(account)
    armemu.set_faults({"seed": 3, "rules": [
        {"name": "storm", "action": "status", "status": 503, "code": "ServiceUnavailable", "retryAfter": 0,
         "durationSeconds": 3}]})
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(raw), timeout=90)
    hits = {r["name"]: r["hits"] for r in armemu.control("GET", "faults")["rules"]}
    assert hits["storm"] > 0
    _assert_exact(armemu, account, raw, op)
