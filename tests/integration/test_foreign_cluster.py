"""A create that lost the race for its name owns no cluster, on the emulator (attack review, finding 1): the second
instance's create fails `ClusterNameTaken` (tests/integration/test_create_race.py); then neither a retry of it nor a
DELETE of the cluster (both asked by a caller with `create` and `delete`, no admin) sends anything to ARM, and the
first instance's cluster is as it made it. Before the fix the retry's PUT went without `If-None-Match` and
overwrote it, and the DELETE deleted it."""

from __future__ import annotations

import pytest

from shared.domain import arm
from shared.domain.policy import Policy
from shared.refusals import InConflict, NotFound
from shared.services.clusters import Clusters
from tests.integration.engine_harness import harness
from tests.principals import pid, principal

pytestmark = pytest.mark.integration

FIRST = {"name": "taken", "resourceGroup": "rg-taken", "location": "westeurope", "tags": {"team": "first"}}
SECOND = {**FIRST, "tags": {"team": "second"}}
POLICY = Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                           "resourceGroups": ["rg-taken"], "actions": ["create", "delete", "read"]}]})


async def test_neither_a_retry_nor_a_delete_of_a_create_that_lost_its_name_touches_the_other_cluster(
        armemu, azurite_connection_string):
    async with harness(armemu, azurite_connection_string) as first:
        made = await first.wait_done(await first.submit(FIRST), timeout=60)
        assert made["state"] == "succeeded", made.get("error")
    async with harness(armemu, azurite_connection_string) as second:  # its own registry: it does not know `taken`
        op_id = await second.submit(SECOND)
        op = await second.wait_done(op_id, timeout=60)
        assert op["state"] == "failed" and op["error"]["code"] == "ClusterNameTaken", op.get("error")
        sent = len(armemu.requests())
        clusters = Clusters(second.engine, POLICY, armemu.subscription_id)
        with pytest.raises(InConflict) as refused:
            await clusters.retry(op_id, principal("dev"))
        assert refused.value.code == "ClusterNameTaken"
        with pytest.raises(NotFound):
            await clusters.delete_cluster(armemu.subscription_id, "rg-taken", "taken", principal("dev"), None)
        cluster_id = (f"/subscriptions/{armemu.subscription_id}/resourceGroups/rg-taken/providers/"
                      "Microsoft.ContainerService/managedClusters/taken")
        cluster = await second.engine.arm.get(arm.CLUSTER.name, cluster_id, arm.CLUSTER.api_version)
    assert cluster is not None and cluster["tags"]["team"] == "first"
    assert [r for r in armemu.requests()[sent:] if r["method"] != "GET"] == []
