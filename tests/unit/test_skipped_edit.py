"""A service endpoint target's edit that aksvend may not write (403: the step is done, skipped) made nothing.

Attack review (second pass, finding 6): such a target was listed in a failed create's `leftBehind.edited` and counted
as made, so the DELETE of the failed create (or its `onFailure: cleanup`) removed the rule that the target's owner
had added by hand since, as the history asked. Over the fakes.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from shared.domain import arm as arm_ids
from shared.domain.policy import Policy
from shared.engine import Engine, EngineSettings
from shared.engine.cleanup import wire_cleanup
from shared.errors import FatalError
from shared.services.clusters import Clusters
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue, drain
from tests.principals import pid, principal
from tests.requests import valid_request

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-team*"],
     "actions": ["create", "change", "delete", "read"]}]})
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg-team-data/providers/Microsoft.Storage/storageAccounts/stdata"


@pytest.mark.parametrize("on_failure", ["keep", "cleanup"])
async def test_a_skipped_edit_is_not_edited_and_its_rule_added_by_hand_is_never_removed(on_failure):
    clock = FakeClock()
    queue, arm = FakeStepQueue("steps", clock=clock), FakeArm(clock=clock)
    engine = wire_cleanup(Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=arm,
                                 clock=clock, secrets=FakeSecrets(), rng=random.Random(1),
                                 settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10)))
    clusters = Clusters(engine, POLICY, SUB)
    acls: dict[str, Any] = {"defaultAction": "Deny", "virtualNetworkRules": []}
    arm.resources[ACCOUNT.lower()] = {"id": ACCOUNT, "properties": {"networkAcls": acls}}
    raw = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope", "onFailure": on_failure,
           "network": {"serviceEndpoints": ["Microsoft.Storage"], "serviceEndpointTargets": [
               {"targetResourceId": ACCOUNT}]}}
    ids = arm_ids.ids(valid_request(raw))
    arm.errors[ACCOUNT] = [FatalError("AuthorizationFailed", "no write")]  # the edit's PATCH: 403, skipped
    arm.errors[ids["cluster"]] = [FatalError("BadRequest", "no")]  # then the create fails
    create = await clusters.create(raw, principal("dev"))
    await drain(engine, queue)
    view = await clusters.operation(create.operation_id, principal("dev"))
    assert view["state"] == "failed" and view["leftBehind"]["edited"] == []
    assert view["leftBehind"]["skipped"] == [ACCOUNT]
    nodes = next(i for i in ids.values() if i.endswith("/subnets/snet-nodes"))
    acls["virtualNetworkRules"] = [{"id": nodes, "action": "Allow"}]  # the owner adds it by hand, as told
    if on_failure == "keep":
        await clusters.delete_cluster(SUB, "rg-team-a", "c1", principal("dev"), None)
    await drain(engine, queue)
    assert ids["vnet"].lower() not in arm.resources  # what the create made is deleted
    assert arm.resources[ACCOUNT.lower()]["properties"]["networkAcls"]["virtualNetworkRules"] == [
        {"id": nodes, "action": "Allow"}]


async def test_a_retry_of_the_create_tries_the_skipped_edit_again():
    clock = FakeClock()
    queue, arm = FakeStepQueue("steps", clock=clock), FakeArm(clock=clock)
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=queue, arm=arm, clock=clock,
                    secrets=FakeSecrets(), rng=random.Random(1),
                    settings=EngineSettings(poll_interval_seconds=1, lease_seconds=10))
    clusters = Clusters(engine, POLICY, SUB)
    arm.resources[ACCOUNT.lower()] = {"id": ACCOUNT, "properties": {"networkAcls": {"defaultAction": "Deny"}}}
    raw = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope", "network": {
        "serviceEndpoints": ["Microsoft.Storage"], "serviceEndpointTargets": [{"targetResourceId": ACCOUNT}]}}
    arm.errors[ACCOUNT] = [FatalError("AuthorizationFailed", "no write")]
    arm.errors[arm_ids.ids(valid_request(raw))["cluster"]] = [FatalError("BadRequest", "no")]
    create = await clusters.create(raw, principal("dev"))
    await drain(engine, queue)
    again = await clusters.retry(create.operation_id, principal("dev"))  # the write on the target granted since
    await drain(engine, queue)
    assert (await clusters.operation(again.operation_id, principal("dev")))["state"] == "succeeded"
    assert arm.resources[ACCOUNT.lower()]["properties"]["networkAcls"]["virtualNetworkRules"]
