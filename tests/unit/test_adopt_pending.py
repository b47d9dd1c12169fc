"""An adopt never lets operations planned on another request overwrite the cluster it adopts.

Attack review (second pass, finding 2): a create failed `ClusterNameTaken` (its row `deleted`) while a PATCH of it was
queued; an admin adopted ARM's cluster of the name before that PATCH started, and the PATCH then PUT the failed
request's body over the adopted cluster (its identity, network plugin and tags). Now the adopt is refused (409
`OperationsPending`) while the name's row still has operations queued; they fail as they start, and the adopt may be
asked again. Over the fakes.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.domain.policy import Policy
from shared.engine import cluster_key
from shared.refusals import InConflict
from shared.services.clusters import Clusters
from shared.services.lifecycle import Lifecycle
from tests.fakes import drain, engine_over_fakes, state
from tests.principals import pid, principal
from tests.unit.test_adoption_options import PUBLIC

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-team-a"],
     "actions": ["create", "change", "delete", "read"]},
    {"principals": [pid("admin")], "subscriptions": ["*"], "resourceGroups": ["*"],
     "actions": ["create", "change", "delete", "read", "admin"]}]})
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/rg-team-a/providers/Microsoft.ContainerService/managedClusters/old"


async def test_an_adopt_waits_until_the_operations_of_a_failed_create_ended_and_they_never_touch_the_cluster():
    engine, queue, arm, _clock = engine_over_fakes(timed_arm=True)
    clusters = Clusters(engine, POLICY, SUB)
    life = Lifecycle(clusters)
    create = (await clusters.create({"name": "old", "resourceGroup": "rg-team-a", "location": "westeurope"},
                                    principal("dev"))).operation_id
    patch = (await life.patch(SUB, "rg-team-a", "old", {"tags": {"x": "y"}}, principal("dev"), None)).operation_id
    theirs: dict[str, Any] = {**copy.deepcopy(PUBLIC), "id": CLUSTER}
    arm.resources[CLUSTER.lower()] = theirs  # made in the portal after the create was accepted
    for _ in range(200):  # the create runs until it fails ClusterNameTaken; the PATCH has not started yet
        if await state(engine, create) == "failed":
            break
        message = (await queue.receive(1, 30))[0]
        await engine.handle(message.body)
        await queue.delete(message)
    assert await state(engine, create) == "failed" and await state(engine, patch) == "queued"
    with pytest.raises(InConflict) as refused:
        await life.adopt(SUB, "rg-team-a", "old", principal("admin"))
    assert refused.value.code == "OperationsPending" and patch in refused.value.detail
    await drain(engine, queue)
    assert await state(engine, patch) == "failed" and arm.puts.count(CLUSTER) == 1  # the create's refused one
    adopted = await life.adopt(SUB, "rg-team-a", "old", principal("admin"))
    record = await engine.registry.get(cluster_key(SUB, "rg-team-a", "old"))
    assert adopted["state"] == "ready" and record is not None and record.queue == ()
    assert arm.resources[CLUSTER.lower()] is theirs and theirs["tags"] == {"team": "a"}
    assert theirs["identity"] == {"type": "SystemAssigned"}
