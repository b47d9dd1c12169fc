"""Scale-out: three worker processes (`python -m local.host.worker`, as three Functions instances) consume the same
step queue and run the same timers; one is killed with SIGKILL in the middle of a fleet of production requests. Every
operation still succeeds, no resource gets a second PUT, and the operations of one cluster run one after another.

The fleet: CLUSTERS production requests (distinct clusters and resource groups), and behind each create a pool change
on the same cluster (`put-pool`), accepted while the create runs, so each cluster's queue holds two operations.

The kill lands in the middle by construction, not after a sleep. The emulator holds every long-running operation open
(`PUT /_emulator/operations/hold`), so the fleet advances only as far as what ARM answers at once lets it: each
create's first steps are sent and its long-running ones are then polled, InProgress, for as long as the hold lasts.
The test waits (polling with a deadline) until the saved state is *quiescent*: every create running, no step left to
begin (no step saved ready or running in its begin phase, no waiting step whose dependencies are done), every
begun long-running step saved in its monitor phase, and the emulator's log shows each of those PUTs once. Then it
sends SIGKILL to the busiest worker (the most ARM requests so far, from each worker's log of its SDK requests): the
one that keeps polling the held operations, since a worker that just handled a batch polls the queue again at once
while idle ones back off. Its leased messages come back when their queue lease ends and the survivors take over;
the hold is lifted right after the kill, so the rest of the fleet (the held creates' ends, the steps after them,
the pool changes) runs on the two workers left.

Why quiescent and not any instant: a kill between ARM accepting a PUT and the step saving it (failpoint
`engine.begin.sent`) makes the engine send that PUT again when the step's lease ends, an idempotent PUT of the same
body by design (docs/engine.md; tests/integration/test_engine_crash.py covers that window). This test is about
several consumers and the loss of one of them; at a quiescent point no PUT is in flight anywhere, so exactly one PUT
per resource is what must come out, and any second one is a bug of scale-out (two workers beginning one step).
"""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.containerservice.aio import ContainerServiceClient

from local.azurite import start_azurite
from shared import failpoints
from shared.bootstrap import CLUSTERS_TABLE, OPERATIONS_TABLE, SECRETS_TABLE, STEPS_QUEUE
from shared.domain.operations import runnable
from shared.domain.rules import check
from shared.engine import submit
from shared.engine.records import ACTIVE_PARTITION, OPERATION_ROW, STEP_PREFIX, OperationRecord
from tests.integration.engine_harness import (
    creates_per_resource,
    expected_inventory,
    made_by_aksvend,
    make_storage_target,
    open_test_engine,
    production,
    start_worker,
)
from tests.polling import eventually

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CLUSTERS = 3
WORKERS = 3
APPS_COUNT = 7  # the pool change: `apps` scaled to this count


def fleet_request(account: str, i: int) -> dict[str, Any]:
    return {**production(account), "name": f"shop-{i}", "resourceGroup": f"rg-shop-{i}"}


def scaled(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "userPools": [{"name": "apps", "vmSize": "Standard_D8s_v5", "count": APPS_COUNT,
                                  "autoscale": {"min": 3, "max": 10}}]}


def arm_requests_sent(log: Path, base_url: str) -> int:
    """ARM requests this worker sent, from azure-core's request logging (one `Request URL` line per request)."""
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "Request URL" in line and base_url in line)


def accepted_puts(armemu: Any) -> dict[str, int]:
    """PUTs ARM accepted (2xx), by resource path: a duplicate write would count 2."""
    counts: dict[str, int] = {}
    for r in armemu.requests():
        if r["method"] == "PUT" and r["status"] < 300:
            key = r["path"].split("?")[0].lower()
            counts[key] = counts.get(key, 0) + 1
    return counts


async def saved(engine: Any, op_id: str) -> tuple[OperationRecord, dict[str, dict[str, Any]]]:
    rows = await engine.ops.query_partition(op_id)
    op = next(r for r in rows if r.entity["RowKey"] == OPERATION_ROW)
    return (OperationRecord.from_entity(op.entity, op.etag),
            {r.entity["RowKey"].removeprefix(STEP_PREFIX): r.entity for r in rows
             if r.entity["RowKey"].startswith(STEP_PREFIX)})


async def quiescent(engine: Any, armemu: Any, creates: list[str], changes: list[str]) -> bool:
    """Nothing left that a worker could begin while ARM holds every long-running operation (module docstring)."""
    puts = accepted_puts(armemu)
    for op_id in creates:
        op, steps = await saved(engine, op_id)
        if op.state != "running":
            return False
        specs = {s.id: s for s in op.specs()}
        succeeded = {i for i, s in steps.items() if s["state"] == "succeeded"}
        waiting = {i for i, s in steps.items() if s["state"] == "waiting"}
        begun = {i for i, s in steps.items() if s["state"] in ("ready", "running")}
        if runnable(specs.values(), succeeded, waiting) or any(steps[i]["phase"] != "monitor" for i in begun):
            return False
        if not begun or any(puts.get(specs[i].resource_id.lower()) != 1 for i in begun):
            return False
    return all([(await saved(engine, op_id))[0].state == "queued" for op_id in changes])


async def test_three_workers_one_killed_mid_fleet_every_operation_succeeds_once_and_in_order(armemu, tmp_path):
    account = make_storage_target(armemu)
    raws = [fleet_request(account, i) for i in range(CLUSTERS)]
    requests = [check(raw, default_subscription_id=armemu.subscription_id)[0] for raw in raws]
    changes = [check(scaled(raw), default_subscription_id=armemu.subscription_id)[0] for raw in raws]
    armemu.set(retryAfter="none")  # as AKS: the workers poll at their own interval
    armemu.control("POST", "operations/finish")  # the storage account the private endpoints point at
    armemu.control("PUT", "operations/hold", {"hold": True})
    with start_azurite() as azurite:
        env = {**os.environ, "AzureWebJobsStorage": azurite.connection_string,
               "AKSVEND_ARM_ENDPOINT": armemu.base_url, "AKSVEND_ARM_CA_CERT": armemu.ca_cert,
               "AKSVEND_POLL_INTERVAL_SECONDS": "0.2", "AKSVEND_BACKOFF_BASE_SECONDS": "0.2",
               # a step's lease well above any handler's time on a loaded machine: the sweepers of three workers
               # must not re-send a begin that is only slow, or that test would be about lease timing
               "AKSVEND_LEASE_SECONDS": "30", "AKSVEND_SWEEP_SECONDS": "0.5",
               "AKSVEND_QUEUE_LEASE_SECONDS": "2", "AKSVEND_LOG_LEVEL": "INFO"}
        env.pop(failpoints.SETTING, None)
        logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
        workers: list[subprocess.Popen[bytes]] = []
        async with AsyncExitStack() as stack:
            engine = await open_test_engine(stack, armemu, azurite.connection_string,
                                            tables=(OPERATIONS_TABLE, CLUSTERS_TABLE, SECRETS_TABLE),
                                            queue=STEPS_QUEUE)
            try:
                workers = [start_worker(env, log) for log in logs]
                creates = [(await submit(engine, "create-cluster", r)).operation_id for r in requests]
                pool_changes = [(await submit(engine, "put-pool", r, pool="apps")).operation_id for r in changes]
                await eventually(lambda: quiescent(engine, armemu, creates, pool_changes), timeout=60)

                sent = [arm_requests_sent(log, armemu.base_url) for log in logs]
                victim = max(range(WORKERS), key=sent.__getitem__)  # the busiest: it is polling held operations
                workers[victim].send_signal(signal.SIGKILL)
                assert workers[victim].wait(timeout=30) == -signal.SIGKILL
                survivors = [n for n in range(WORKERS) if n != victim]
                before = len(armemu.requests())
                armemu.control("PUT", "operations/hold", {"hold": False})

                async def all_done() -> bool:
                    assert all(workers[n].poll() is None for n in survivors), [
                        logs[n].read_text()[-3000:] for n in survivors]
                    return not await engine.ops.query_partition(ACTIVE_PARTITION)

                await eventually(all_done, timeout=120, interval=0.2)
                ops = {op_id: (await saved(engine, op_id))[0] for op_id in [*creates, *pool_changes]}
            finally:
                for w in workers:
                    if w.poll() is None:
                        w.kill()
                        w.wait(timeout=30)
    assert {op_id: (op.state, op.error) for op_id, op in ops.items()} == {
        op_id: ("succeeded", None) for op_id in ops}
    # the survivors did the rest: the fleet went on after the kill, through the workers left
    assert len(armemu.requests()) > before
    assert sum(arm_requests_sent(logs[n], armemu.base_url) for n in survivors) > sum(sent[n] for n in survivors)
    # no duplicate write: each resource got exactly one accepted PUT and one 201, and no PUT met a conflict
    assert all(n == 1 for n in accepted_puts(armemu).values()), accepted_puts(armemu)
    assert all(n == 1 for n in creates_per_resource(armemu).values())
    assert not [r for r in armemu.requests() if r["method"] == "PUT" and r["status"] == 409]
    assert made_by_aksvend(armemu, account) == set().union(
        *(expected_inventory(raw, armemu.subscription_id) for raw in raws))
    # per-cluster order: the pool change started after its cluster's create ended, and ARM saw its PUT only then
    log = armemu.requests()
    for create, change, request in zip(creates, pool_changes, requests, strict=True):
        first, second = ops[create], ops[change]
        assert second.started_at is not None and first.ended_at is not None
        assert second.started_at >= first.ended_at
        pool_path = f"/resourcegroups/{request.resource_group}/providers/microsoft.containerservice/" \
                    f"managedclusters/{request.name}/agentpools/apps".lower()
        pool_puts = [r["time"] for r in log if r["method"] == "PUT" and r["path"].split("?")[0].lower().endswith(
            pool_path)]
        assert len(pool_puts) == 1 and pool_puts[0] >= first.ended_at.timestamp()
    async with armemu.aio_client(ContainerServiceClient) as aks:
        for request in requests:
            apps = await aks.agent_pools.get(request.resource_group, request.name, "apps")
            assert apps.count == APPS_COUNT
