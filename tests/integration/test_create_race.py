"""The create race on the emulator: two aksvend instances (two registries) create the same cluster name; the second
one's cluster PUT goes with `If-None-Match: *`, the emulator answers 412 (local/armemu/conditional.py), and that
create fails with `ClusterNameTaken` without touching the first one's cluster or cleaning anything up."""

from __future__ import annotations

import pytest

from local.credential import AsyncOfflineCredential
from shared.adapters.arm import AzureArm
from shared.domain import arm
from shared.engine.ports import RESOURCE_EXISTS
from shared.errors import FatalError
from tests.integration.engine_harness import harness

pytestmark = pytest.mark.integration

FIRST = {"name": "race", "resourceGroup": "rg-race", "location": "westeurope", "tags": {"team": "first"}}
SECOND = {**FIRST, "tags": {"team": "second"}, "onFailure": "cleanup"}


async def test_a_second_instance_creating_the_same_name_never_overwrites_the_first_ones_cluster(
        armemu, azurite_connection_string):
    async with harness(armemu, azurite_connection_string) as first:
        made = await first.wait_done(await first.submit(FIRST), timeout=60)
        assert made["state"] == "succeeded", made.get("error")
    async with harness(armemu, azurite_connection_string) as second:  # its own registry: it does not know `race`
        op = await second.wait_done(await second.submit(SECOND), timeout=60)
        assert op["state"] == "failed" and op["error"]["code"] == "ClusterNameTaken", op.get("error")
        assert op["error"]["step"] == "put:cluster"
        cluster_id = next(r["id"] for r in armemu.inventory()
                                        if r["id"].lower().endswith("/managedclusters/race"))
        cluster = await second.engine.arm.get(arm.CLUSTER.name, cluster_id, arm.CLUSTER.api_version)
    assert cluster is not None and cluster["tags"]["team"] == "first"
    conditional = [r for r in armemu.requests() if r["method"] == "PUT" and r["status"] == 412]
    assert len(conditional) == 1 and conditional[0]["path"].lower().endswith("/managedclusters/race")
    assert not [r for r in armemu.requests() if r["method"] == "DELETE"]  # onFailure cleanup did not run


async def test_the_adapter_sends_if_none_match_and_maps_the_412(armemu):
    group = f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-cond"
    async with AzureArm(AsyncOfflineCredential(), armemu.subscription_id, **armemu.sdk_kwargs()) as client:
        made = await client.put(arm.RESOURCE_GROUP.name, group, arm.RESOURCE_GROUP.api_version,
                                {"location": "westeurope", "tags": {"v": "1"}}, only_new=True)
        assert made.status in (200, 201)
        with pytest.raises(FatalError) as refused:
            await client.put(arm.RESOURCE_GROUP.name, group, arm.RESOURCE_GROUP.api_version,
                             {"location": "westeurope", "tags": {"v": "2"}}, only_new=True)
        assert refused.value.code == RESOURCE_EXISTS
        found = await client.get(arm.RESOURCE_GROUP.name, group, arm.RESOURCE_GROUP.api_version)
        assert found is not None and found["tags"] == {"v": "1"}
        await client.put(arm.RESOURCE_GROUP.name, group, arm.RESOURCE_GROUP.api_version,
                         {"location": "westeurope", "tags": {"v": "3"}})  # unconditional: an update, as before
        found = await client.get(arm.RESOURCE_GROUP.name, group, arm.RESOURCE_GROUP.api_version)
        assert found is not None and found["tags"] == {"v": "3"}
