"""Long storage outages, and storage and ARM failing at once, through the real adapters: Table Storage behind
`local/faultproxy.py` (refused connections, or 503 ServerBusy), the ARM emulator's 503 storms and slow answers.
Each ends Succeeded with exactly the planned resources, each created once (test_engine_faults.py has the rest).

What a test waits for happens by construction (the emulator holds operations; an outage ends once a message was
sent again more times than maxDequeueCount would have allowed deliveries), polled with a deadline; no sleeps."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from local.faultproxy import FaultProxy
from shared.engine import EngineSettings
from shared.engine.delivery import MAX_DEQUEUE_COUNT, RETRIES, SINCE
from tests.fakes import FakeClock
from tests.integration.engine_harness import (
    creates_per_resource,
    expected_inventory,
    harness,
    made_by_aksvend,
    make_storage_target,
    production,
)
from tests.integration.test_engine_faults import FAULTS, QUICK_TABLE_RETRIES, counting_retries, via_proxy
from tests.polling import eventually

pytestmark = pytest.mark.integration

REAL = EngineSettings()  # the product's settings: a 3 h step deadline, re-sends capped at 60 s
OUTAGE = timedelta(minutes=10)
# Time the engine reads from its clock stays real (the 3 h deadline); only the waits on the queue are short.
LONG_OUTAGE = dataclasses.replace(FAULTS, step_deadline_seconds=REAL.step_deadline_seconds)
# The product's send lease (300 s) outlasts one ARM call (60 s at most); 10 s outlasts one here, short retries of
# 503s and slow answers included, even on a loaded machine, so only a lost answer sends a PUT again.
AT_ONCE = dataclasses.replace(FAULTS, lease_seconds=10.0)


def _assert_exact(armemu, account, raw, op):
    assert op["state"] == "succeeded", op.get("error")
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)
    assert set(creates_per_resource(armemu).values()) == {1}, creates_per_resource(armemu)


def landed_puts(armemu) -> Counter[str]:
    """PUTs ARM acted on (answered 2xx), by resource: a 503 of a storm is refused before any work."""
    return Counter(r["path"].split("?")[0].lower() for r in armemu.requests()
                   if r["method"] == "PUT" and r["status"] < 300)


async def _steps(h, op_id):
    return [r.entity for r in await h.engine.ops.query_partition(op_id) if r.entity["RowKey"].startswith("step:")]


def _settled(h, op_id):
    async def settled() -> bool:  # every step that could begin has sent its request; ARM holds them all
        steps = await _steps(h, op_id)
        return any(s["phase"] == "monitor" for s in steps) and all(
            s["state"] in ("waiting", "succeeded") or (s["state"] == "running" and s["phase"] == "monitor")
            for s in steps)
    return settled


async def test_a_ten_minute_storage_outage_of_refused_connections_ends_succeeded(armemu, azurite,
                                                                                  azurite_connection_string):
    """Table Storage refuses every connection for 10 minutes of the engine's clock, and ends Succeeded.

    Scaled: only the waits on the queue. A re-sent message waits `storage_backoff_cap_seconds` at most (60 s in
    the product, 0.5 s here), so each delivery of a message re-sent during the outage moves the engine's clock
    (a `FakeClock.real()`) on by the product's cap, 60 s: the most real time that can pass between two re-sends.
    The outage ends once a message carries 10 minutes of trouble by that clock (`storageTroubleSince`) and was
    sent again more often than maxDequeueCount (5) deliveries at visibility 0 allowed: the old failure window.
    Not scaled: everything the engine decides from its clock. The step deadline is the product's 3 h, so steps
    read their deadline, and `deliver` its give-up time, against 10 real minutes of trouble; after it, the sweeper
    finds every step's lease long past and sends it again, as after a real 10 minutes (the lease is 300 s).
    Why it holds for a real 10 minutes: `deliver` gives up only after `step_deadline_seconds` (3 h) of trouble,
    and a re-send completes its delivery, so the count host.json turns into poison never grows; the number of
    re-sends is what the backoff cap makes it (here more, never fewer, than 10 minutes at 60 s would make)."""
    account = make_storage_target(armemu)
    raw = production(account)
    armemu.control("POST", "operations/finish")
    armemu.control("PUT", "operations/hold", {"hold": True})  # nothing ends until the outage is over
    table = urlsplit(azurite.endpoints.table)
    clock = FakeClock.real()
    troubled: list[tuple[int, timedelta]] = []  # (re-sends, trouble by the engine's clock) of each re-delivery
    poisoned: list[dict] = []

    async with FaultProxy(table.hostname, table.port, lifetime=300) as proxy:
        def advancing(handle):
            async def wrapped(message):
                if proxy.mode != "pass" and isinstance(message.get(RETRIES), int):
                    clock.advance(REAL.storage_backoff_cap_seconds)
                    troubled.append((message[RETRIES], clock.now() - datetime.fromisoformat(message[SINCE])))
                await handle(message)
            return wrapped

        async with harness(armemu, via_proxy(azurite_connection_string, azurite.endpoints.table, proxy),
                           settings=LONG_OUTAGE, handler_wrapper=advancing, table_kwargs=QUICK_TABLE_RETRIES) as h:
            h.engine.clock = h.engine.history.clock = clock
            inner_poison = h.runner.poison

            async def poison(body, n):
                poisoned.append(body)
                await inner_poison(body, n)

            h.runner.poison = poison
            op_id = await h.submit(raw)
            await eventually(_settled(h, op_id), timeout=60)
            await proxy.set("refuse")

            async def ten_minutes() -> bool:
                return any(n > MAX_DEQUEUE_COUNT and age >= OUTAGE for n, age in troubled)

            await eventually(ten_minutes, timeout=120)
            await proxy.set("pass")
            armemu.control("PUT", "operations/hold", {"hold": False})
            op = await h.wait_done(op_id, timeout=120)
    assert proxy.counts["503"] == 0 and max(n for n, _ in troubled) > MAX_DEQUEUE_COUNT
    assert poisoned == []
    _assert_exact(armemu, account, raw, op)
    assert set(landed_puts(armemu).values()) == {1}, landed_puts(armemu)


async def test_storage_and_arm_failing_at_once_end_succeeded_with_each_resource_created_once(
        armemu, azurite, azurite_connection_string):
    """Table Storage answers 503 ServerBusy while ARM is in a 503 storm and answers slowly: the steps back off on
    ARM's 503s, some are inside a slow PUT when storage goes down, and the outage outlasts maxDequeueCount.

    No resource is created twice (one 201 each). A PUT whose answer came back while storage was down could not be
    saved: its step is sent again once its sending lease has passed, and that PUT of the same body is answered
    200 (idempotent). That is the one extra PUT an outage can cost a resource (the second sent only after storage
    is back), so at most two land per resource; never one per delivery, as when a slow ARM made 21."""
    account = make_storage_target(armemu)
    raw = production(account)
    armemu.set_faults({"seed": 5, "rules": [
        {"name": "storm", "action": "status", "status": 503, "code": "ServiceUnavailable", "retryAfter": 0,
         "rate": 0.5, "limit": 12},
        {"name": "slow", "action": "slow", "delaySeconds": 0.5, "rate": 0.5, "limit": 12}]})
    table = urlsplit(azurite.endpoints.table)
    retried: list[int] = []

    async with FaultProxy(table.hostname, table.port, lifetime=300) as proxy, harness(
            armemu, via_proxy(azurite_connection_string, azurite.endpoints.table, proxy), settings=AT_ONCE,
            handler_wrapper=counting_retries(retried), table_kwargs=QUICK_TABLE_RETRIES) as h:
        op_id = await h.submit(raw)

        def hits() -> dict[str, int]:
            return {r["name"]: r["hits"] for r in armemu.control("GET", "faults")["rules"]}

        async def arm_failing() -> bool:  # the storm and the slow answers have begun
            return all(n > 0 for n in hits().values())

        await eventually(arm_failing, timeout=60)
        await proxy.set("503")

        async def outlasted() -> bool:
            return max(retried, default=0) > MAX_DEQUEUE_COUNT

        await eventually(outlasted, timeout=60)
        storage_back = time.time()  # the emulator logs requests by wall clock
        await proxy.set("pass")
        op = await h.wait_done(op_id, timeout=120)
    assert proxy.counts["503"] > MAX_DEQUEUE_COUNT
    assert hits()["storm"] > 0 and hits()["slow"] > 0
    _assert_exact(armemu, account, raw, op)
    landed = landed_puts(armemu)
    assert max(landed.values()) <= 2, landed
    for resource in (r for r, n in landed.items() if n == 2):  # the second only once storage was back
        first, second = (r["time"] for r in armemu.requests() if r["method"] == "PUT" and r["status"] < 300
                         and r["path"].split("?")[0].lower() == resource)
        assert first < storage_back < second, (resource, first, storage_back, second)
