"""Crash safety: the worker process is killed with SIGKILL at 20 seeded random instants during the production
provisioning and started again each time. The operation still succeeds, with exactly the planned resources,
none created twice, and nothing left running."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from local.azurite import start_azurite
from shared.bootstrap import CLUSTERS_TABLE, OPERATIONS_TABLE, SECRETS_TABLE, STEPS_QUEUE
from shared.domain.rules import check
from shared.engine import submit
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW
from tests.integration.engine_harness import (
    creates_per_resource,
    expected_inventory,
    made_by_aksvend,
    make_storage_target,
    open_test_engine,
    production,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A worker process, returned once it says it is ready (so that a kill hits it at work, not at import)."""
    worker = subprocess.Popen([sys.executable, "-m", "local.worker"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert worker.stdout is not None
    line = worker.stdout.readline()  # blocks until ready; the process exits (empty line) if it cannot start
    assert b'"ready": true' in line, line
    return worker


async def test_killing_the_worker_at_twenty_random_instants_still_provisions_exactly_once(armemu):
    # Real durations (a 6-minute cluster create): the 20 kills land during the provisioning whatever the machine's
    # load; once they are done, the emulator ends its running operations and speeds up for the rest.
    armemu.set(timeFactor=1.0)
    account = make_storage_target(armemu)
    raw = production(account)
    rng = random.Random(20261127)
    with start_azurite() as azurite:
        env = {**os.environ, "AzureWebJobsStorage": azurite.connection_string,
               "AKSVEND_ARM_ENDPOINT": armemu.base_url, "AKSVEND_ARM_CA_CERT": armemu.ca_cert,
               "AKSVEND_POLL_INTERVAL_SECONDS": "0.2", "AKSVEND_LEASE_SECONDS": "2",
               "AKSVEND_BACKOFF_BASE_SECONDS": "0.2", "AKSVEND_SWEEP_SECONDS": "0.5",
               "AKSVEND_QUEUE_LEASE_SECONDS": "2"}
        async with AsyncExitStack() as stack:
            engine = await open_test_engine(stack, armemu, azurite.connection_string,
                                            tables=(OPERATIONS_TABLE, CLUSTERS_TABLE, SECRETS_TABLE),
                                            queue=STEPS_QUEUE)
            ops = engine.ops
            request, _ = check(raw, default_subscription_id=armemu.subscription_id)
            op_id = (await submit(engine, "create-cluster", request)).operation_id

            kills_during_provisioning = 0
            for _ in range(KILLS):
                worker = await asyncio.to_thread(_start_worker, env)
                await asyncio.sleep(rng.uniform(0.05, 1.5))  # the crash instant, drawn from a seeded generator
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                if (await ops.get(op_id, OPERATION_ROW)).entity["state"] == "running":
                    kills_during_provisioning += 1
            assert kills_during_provisioning == KILLS
            armemu.set(timeFactor=0.01)
            armemu.control("POST", "operations/finish")
            worker = await asyncio.to_thread(_start_worker, env)
            try:
                deadline = time.monotonic() + 120
                while (await ops.get(op_id, OPERATION_ROW)).entity["state"] not in ("succeeded", "failed"):
                    assert time.monotonic() < deadline, "the operation did not finish after the last restart"
                    await asyncio.sleep(0.2)  # polling a condition with a deadline
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=30) == 0
            op = (await ops.get(op_id, OPERATION_ROW)).entity
            assert op["state"] == "succeeded", op.get("error")
            assert await ops.query_partition(ACTIVE_PARTITION) == []
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)
    assert all(n == 1 for n in creates_per_resource(armemu).values())
