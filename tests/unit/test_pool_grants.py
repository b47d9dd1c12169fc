"""The Network Contributor role aksvend gives the cluster's identity on a pool's existing subnet (the pool's `subnet`
an ARM id) goes with the pool: delete-pool deletes it, the subnet stays (it is its owner's), and a pool without a
subnet of its own gets no DELETEs for one (shared/domain/operations.py)."""

from __future__ import annotations

import pytest

from shared.domain.policy import Policy
from shared.services.clusters import Clusters
from tests.fakes import FakeArm, drain, engine_over_fakes
from tests.principals import pid, principal

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [{"principals": [pid("dev")], "subscriptions": ["*"],
                                           "resourceGroups": ["rg-team*"],
                                           "actions": ["create", "change", "delete", "read"]}]})
NET = f"/subscriptions/{SUB}/resourceGroups/rg-team-net/providers/Microsoft.Network/virtualNetworks/vnet-shared"
GPU = f"{NET}/subnets/snet-gpu"


@pytest.fixture
def world():
    engine, queue, fake, _clock = engine_over_fakes()
    return engine, queue, fake, Clusters(engine, POLICY, SUB)


def grants(fake: FakeArm) -> list[str]:
    return [k for k in fake.resources if k.startswith(f"{GPU.lower()}/providers/microsoft.authorization/")]


@pytest.mark.parametrize("existing_network", [False, True], ids=["own-vnet", "existing-vnet"])
async def test_delete_pool_deletes_the_grant_on_the_pools_existing_subnet(world, existing_network):
    engine, queue, fake, clusters = world
    fake.resources[GPU.lower()] = {"id": GPU, "properties": {"addressPrefix": "10.9.1.0/24"}}
    raw = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope",
           "userPools": [{"name": "gpu", "vmSize": "Standard_D4s_v5", "count": 1, "subnet": GPU}]}
    if existing_network:
        raw["network"] = {"existing": {"nodeSubnetId": f"{NET}/subnets/snet-nodes"}, "serviceEndpoints": []}
    await clusters.create(raw, principal("dev"))
    await drain(engine, queue)
    assert len(grants(fake)) == 1
    accepted = await clusters.delete_pool(SUB, "rg-team-a", "c1", "gpu", principal("dev"), None)
    await drain(engine, queue)
    op = await clusters.operation(accepted.operation_id, principal("dev"))
    assert op["state"] == "succeeded"
    assert [s["id"] for s in op["steps"]] == ["delete:pool:gpu", "delete:roleAssignment:gpu"]
    assert grants(fake) == [] and GPU.lower() in fake.resources  # the subnet is its owner's


async def test_delete_pool_of_a_pool_without_its_own_subnet_deletes_only_the_pool(world):
    engine, queue, _, clusters = world
    raw = {"name": "c2", "resourceGroup": "rg-team-a", "location": "westeurope",
           "userPools": [{"name": "apps", "vmSize": "Standard_D4s_v5", "count": 1}]}
    await clusters.create(raw, principal("dev"))
    await drain(engine, queue)
    accepted = await clusters.delete_pool(SUB, "rg-team-a", "c2", "apps", principal("dev"), None)
    await drain(engine, queue)
    op = await clusters.operation(accepted.operation_id, principal("dev"))
    assert (op["state"], [s["id"] for s in op["steps"]]) == ("succeeded", ["delete:pool:apps"])
