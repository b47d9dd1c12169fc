"""The engine end to end: real Azurite, the real SDK clients over HTTPS, the ARM emulator."""

from __future__ import annotations

import pytest
from azure.mgmt.containerservice import ContainerServiceClient

from shared.engine.records import OPERATION_ROW, OperationRecord
from tests.integration.engine_harness import (
    creates_per_resource,
    expected_inventory,
    harness,
    made_by_aksvend,
    make_storage_target,
    production,
)
from tests.polling import eventually

pytestmark = pytest.mark.integration


async def test_the_production_request_provisions_exactly_the_planned_resources(armemu, azurite_connection_string):
    account = make_storage_target(armemu)
    raw = production(account)
    async with harness(armemu, azurite_connection_string) as h:
        op_id = await h.submit(raw)
        op = await h.wait_done(op_id)
    assert op["state"] == "succeeded", op.get("error")
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)


class DuplicatingQueue:
    """Every message the engine sends is sent twice: at-least-once delivery at its worst."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def send(self, message, visibility_timeout=0):
        await self.inner.send(message, visibility_timeout)
        await self.inner.send(message, visibility_timeout)


async def _steps(h, op_id):
    return {r.entity["RowKey"].removeprefix("step:"): r.entity for r in await h.engine.ops.query_partition(op_id)
            if r.entity["RowKey"].startswith("step:")}


def hold(armemu) -> None:
    """From now on the emulator ends no operation on its own (the storage target's is ended first)."""
    armemu.control("POST", "operations/finish")
    armemu.control("PUT", "operations/hold", {"hold": True})


async def end_held_but(armemu, h, op_id: str, keep: set[str]) -> None:
    """End the held operations of every step of the operation but those in `keep`."""
    found = await h.engine.ops.get(op_id, OPERATION_ROW)
    kept = {s.resource_id.lower() for s in OperationRecord.from_entity(found.entity, found.etag).specs()
            if s.id in keep}
    for op in armemu.control("GET", "operations")["value"]:
        if op["resourceId"].lower() not in kept:
            armemu.control("POST", "operations/finish", {"resourceId": op["resourceId"]})


async def test_private_endpoint_and_dns_steps_run_while_the_cluster_is_created(armemu, azurite_connection_string):
    # The emulator holds every operation, and the test ends them in an order that leaves no room for timing: the
    # private endpoint and the DNS link only once the cluster has started, the cluster once they are all done.
    account = make_storage_target(armemu)
    hold(armemu)
    async with harness(armemu, azurite_connection_string) as h:
        op_id = await h.submit(production(account))

        async def cluster_started() -> bool:
            await end_held_but(armemu, h, op_id, {"put:cluster", "put:privateEndpoint:data", "put:dnsLink:blob"})
            return bool((await _steps(h, op_id))["put:cluster"].get("startedAt"))

        async def all_but_the_cluster_done() -> bool:
            await end_held_but(armemu, h, op_id, {"put:cluster"})
            return all(s["state"] == "succeeded" for i, s in (await _steps(h, op_id)).items()
                       if i != "put:cluster" and not i.startswith("put:maintenance:"))  # those follow the cluster

        await eventually(cluster_started, timeout=60)
        await eventually(all_but_the_cluster_done, timeout=60)
        assert (await _steps(h, op_id))["put:cluster"]["state"] == "running"
        armemu.control("PUT", "operations/hold", {"hold": False})
        op = await h.wait_done(op_id, timeout=90)
        steps = await _steps(h, op_id)
    assert op["state"] == "succeeded", op.get("error")
    cluster = steps["put:cluster"]
    for name in ("put:privateEndpoint:data", "put:dnsLink:blob", "put:dnsZoneGroup:data"):
        assert steps[name]["startedAt"] < cluster["endedAt"] and steps[name]["endedAt"] > cluster["startedAt"], name
    # The zone needs only the resource group: it is done before the cluster starts, never queued behind it.
    assert steps["put:dnsZone:blob"]["endedAt"] < cluster["endedAt"]
    assert [r for r in armemu.requests() if r["status"] == 409] == []


async def test_every_message_delivered_twice_gives_the_same_outcome_and_inventory(armemu, azurite_connection_string):
    account = make_storage_target(armemu)
    raw = production(account)
    async with harness(armemu, azurite_connection_string) as h:
        h.engine.queue = DuplicatingQueue(h.engine.queue)
        op = await h.wait_done(await h.submit(raw), timeout=90)
    assert op["state"] == "succeeded", op.get("error")
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)
    assert all(n == 1 for n in creates_per_resource(armemu).values())


async def test_faults_throttling_background_409s_and_a_failed_lro_still_end_in_success(armemu,
                                                                                      azurite_connection_string):
    account = make_storage_target(armemu)
    armemu.set(throttling=True)
    armemu.set_faults({"seed": 7, "rules": [
        {"name": "flaky-500", "action": "status", "status": 500, "rate": 0.05},
        {"name": "flaky-503", "action": "status", "status": 503, "rate": 0.05},
        {"name": "busy", "method": "PUT", "resourceType": "Microsoft.ContainerService/managedClusters",
         "action": "conflict", "limit": 2},
        {"name": "lro", "method": "PUT", "resourceType": "Microsoft.ContainerService/managedClusters",
         "action": "lro-fail", "code": "InternalOperationError", "limit": 1},
    ]})
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(production(account)), timeout=120)
    assert op["state"] == "succeeded", op.get("error")
    hits = {r.get("name"): r.get("hits", 0) for r in armemu.control("GET", "faults")["rules"]}
    assert hits["busy"] == 2 and hits["lro"] == 1 and hits["flaky-500"] + hits["flaky-503"] > 0


async def test_quota_exceeded_fails_the_operation_with_the_arm_code_and_leaves_nothing_running(
        armemu, azurite_connection_string):
    """The race the pre-check cannot see (another team took the quota between the usages read and the cluster PUT):
    the cluster PUT is refused as AKS does, and the operation fails with ARM's code."""
    account = make_storage_target(armemu)
    armemu.set_faults({"rules": [{"resourceType": "Microsoft.ContainerService/managedClusters", "method": "PUT",
                                  "action": "quota", "limit": 1}]})
    async with harness(armemu, azurite_connection_string) as h:
        op_id = await h.submit(production(account))
        op = await h.wait_done(op_id)
        steps = await _steps(h, op_id)
    assert op["state"] == "failed"
    assert op["error"]["code"] == "ErrCode_InsufficientVCPUQuota" and op["error"]["step"] == "put:cluster"
    assert "quota" in op["error"]["message"].lower()
    assert {s["state"] for s in steps.values()} <= {"succeeded", "failed", "cancelled"}


async def test_a_poisoned_step_message_is_retried_from_its_saved_state_not_failed(armemu, azurite_connection_string):
    # Every delivery of the vnet's message fails until it has been through the poison queue once: the poison
    # handler finds the step able to go on (not past its deadline), retries it, and the operation succeeds.
    account = make_storage_target(armemu)
    poisoned_once = []

    def breaking(handle):
        async def wrapped(message):
            if message.get("step") == "put:vnet" and not poisoned_once:
                raise RuntimeError("simulated bug")
            await handle(message)
        return wrapped

    async with harness(armemu, azurite_connection_string, handler_wrapper=breaking) as h:
        runner_poison = h.runner.poison

        async def poison(body, n):
            poisoned_once.append(body)
            await runner_poison(body, n)

        h.runner.poison = poison
        op_id = await h.submit(production(account))
        op = await h.wait_done(op_id, timeout=60)
        steps = await _steps(h, op_id)
    assert op["state"] == "succeeded", op.get("error")
    assert [b["step"] for b in poisoned_once] == ["put:vnet"]
    assert steps["put:vnet"]["attempts"] >= 2  # the poison round counted as one attempt, then it was sent


async def test_a_scale_request_for_a_cluster_being_created_waits_and_then_runs(armemu, azurite_connection_string):
    account = make_storage_target(armemu)
    hold(armemu)  # the create cannot end before the test lets it
    raw = production(account)
    scaled = {**raw, "userPools": [{"name": "apps", "vmSize": "Standard_D8s_v5", "count": 7,
                                    "autoscale": {"min": 3, "max": 10}}]}
    async with harness(armemu, azurite_connection_string) as h:
        create = await h.submit(raw)
        scale = await h.submit(scaled, kind="put-pool", pool="apps")

        async def cluster_being_created() -> bool:
            await end_held_but(armemu, h, create, {"put:cluster"})
            return (await _steps(h, create))["put:cluster"]["state"] == "running"

        await eventually(cluster_being_created, timeout=60)
        assert (await h.operation(scale))["state"] == "queued"
        armemu.control("PUT", "operations/hold", {"hold": False})
        done_create = await h.wait_done(create, timeout=90)
        done_scale = await h.wait_done(scale, timeout=90)
    assert done_create["state"] == "succeeded" and done_scale["state"] == "succeeded", done_scale.get("error")
    assert done_scale["startedAt"] >= done_create["endedAt"]
    apps = armemu.client(ContainerServiceClient).agent_pools.get("rg-shop", "shop-prod", "apps")
    assert apps.count == 7
