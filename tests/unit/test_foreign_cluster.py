"""aksvend acts only on what it made (or what an admin adopted): a create that never made its cluster owns no cluster.

Attack review (findings 1 and 2): a create that lost the race for its name (`ClusterNameTaken`: ARM answered its
`If-None-Match: *` cluster PUT with 412) was retried with an unconditional PUT that overwrote the other cluster, and
a DELETE of the kept failed record deleted it; a failed create's record whose request said Entra handed a `read`
caller the other cluster's local-account kubeconfig. Over the fakes; tests/integration/test_foreign_cluster.py runs
the retry and the delete on the emulator.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from shared.domain import arm as arm_ids
from shared.domain.policy import Policy
from shared.engine import Engine, RetryRefused, retry, submit
from shared.engine.adopt import _only_new
from shared.errors import FatalError
from shared.refusals import InConflict, NotFound, NotPermitted
from shared.services.cluster_reads import ClusterReads
from shared.services.clusters import Clusters
from tests.fakes import FakeArm, FakeStepQueue, drain, engine_over_fakes, state
from tests.principals import pid, principal
from tests.requests import valid_request

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [
    {"principals": [pid("dev")], "subscriptions": ["*"], "resourceGroups": ["rg-team-a"],
     "actions": ["create", "change", "delete", "read"]},
    {"principals": [pid("reader")], "subscriptions": ["*"], "resourceGroups": ["rg-team-a"], "actions": ["read"]}]})
RAW: dict[str, Any] = {"name": "c1", "resourceGroup": "rg-team-a", "location": "westeurope",
                       "access": {"ownerGroup": "6f1c2b4e-0000-4000-8000-00000000abcd",
                                  "role": "Azure Kubernetes Service RBAC Reader"}}
CERT = "users:\n- name: clusterUser\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n"


def _world() -> tuple[Engine, FakeStepQueue, FakeArm, Clusters]:
    engine, queue, arm, _clock = engine_over_fakes()
    return engine, queue, arm, Clusters(engine, POLICY, SUB)


def _foreign(arm: FakeArm) -> dict[str, Any]:
    """A cluster of the create's name that someone else made after the create was accepted (no aadProfile)."""
    cluster_id = arm_ids.ids(valid_request(RAW))["cluster"]
    arm.resources[cluster_id.lower()] = foreign = {"id": cluster_id, "tags": {"owner": "portal-team"},
                                                   "properties": {"provisioningState": "Succeeded"}}
    arm.actions[f"{cluster_id}/listClusterUserCredential".lower()] = {"kubeconfigs": [
        {"name": "clusterUser", "value": base64.b64encode(CERT.encode()).decode()}]}
    return foreign


async def _name_taken() -> tuple[Engine, FakeStepQueue, FakeArm, Clusters, str, dict[str, Any]]:
    engine, queue, arm, clusters = _world()
    accepted = await clusters.create(RAW, principal("dev"))
    foreign = _foreign(arm)
    await drain(engine, queue)
    loaded = await engine.load(accepted.operation_id)
    assert loaded is not None and loaded.op.error is not None and loaded.op.error["code"] == "ClusterNameTaken"
    return engine, queue, arm, clusters, accepted.operation_id, foreign


async def test_a_create_that_lost_its_name_cannot_be_retried_and_the_other_cluster_is_untouched():
    engine, queue, arm, clusters, op_id, foreign = await _name_taken()
    with pytest.raises(InConflict) as refused:
        await clusters.retry(op_id, principal("dev"))
    assert refused.value.code == "ClusterNameTaken" and "adopt" in refused.value.detail
    with pytest.raises(RetryRefused):
        await retry(engine, (await engine.load(op_id)).op)  # type: ignore[union-attr]
    await drain(engine, queue)
    cluster_id = arm_ids.ids(valid_request(RAW))["cluster"]
    assert arm.resources[cluster_id.lower()] is foreign and foreign["tags"] == {"owner": "portal-team"}
    assert arm.puts.count(cluster_id) == 1  # the one refused conditional PUT


async def test_a_refused_conditional_put_is_not_a_sent_create():
    """Were a retry of it run, its cluster PUT would go with If-None-Match: * again (adopt.py `_only_new`)."""
    engine, _, _, _, op_id, _ = await _name_taken()
    failed = await engine.load(op_id)
    assert failed is not None
    as_retry = dataclasses.replace(failed, op=failed.op.with_(id="retry-of-it", retry_of=op_id))
    assert await _only_new(engine, as_retry, failed.specs["put:cluster"])


async def test_a_create_that_lost_its_name_owns_no_cluster_delete_change_read_and_credentials_are_refused():
    engine, queue, arm, clusters, _, foreign = await _name_taken()
    reads = ClusterReads(clusters)
    with pytest.raises(NotFound):
        await clusters.delete_cluster(SUB, "rg-team-a", "c1", principal("dev"), None)
    with pytest.raises(NotFound):
        await clusters.delete_pool(SUB, "rg-team-a", "c1", "user1", principal("dev"), None)
    for who in ("dev", "reader"):
        with pytest.raises(NotFound):
            await reads.credentials(SUB, "rg-team-a", "c1", principal(who))
        with pytest.raises(NotFound):
            await reads.cluster(SUB, "rg-team-a", "c1", principal(who))
    await drain(engine, queue)
    assert arm.resources[arm_ids.ids(valid_request(RAW))["cluster"].lower()] is foreign and arm.posts == []


async def test_a_change_queued_behind_a_create_that_lost_its_name_never_reaches_the_other_cluster():
    engine, queue, arm, _ = _world()
    request = valid_request(RAW)
    create = (await submit(engine, "create-cluster", request)).operation_id
    pool = (await submit(engine, "put-pool", request, pool=request.system_pool.name)).operation_id
    _foreign(arm)
    await drain(engine, queue)
    loaded = await engine.load(pool)
    assert await state(engine, create) == "failed" and loaded is not None and loaded.op.state == "failed"
    assert loaded.op.error is not None and loaded.op.error["code"] == "ClusterNotManaged"
    assert not [p for p in arm.puts if "/agentPools/" in p]


async def test_deleting_a_failed_create_deletes_only_what_it_made_never_a_cluster_that_appeared_since():
    engine, queue, arm, clusters = _world()
    ids = arm_ids.ids(valid_request(RAW))
    arm.errors[ids["cluster"]] = [FatalError("InternalError", "no")]  # the cluster PUT fails: no cluster made
    accepted = await clusters.create(RAW, principal("dev"))
    await drain(engine, queue)
    assert await state(engine, accepted.operation_id) == "failed" and ids["vnet"].lower() in arm.resources
    foreign = _foreign(arm)  # then someone makes a cluster of that name
    arm.errors[ids["identity"]] = [FatalError("InternalError", "not now")]  # the delete fails once
    deleting = await clusters.delete_cluster(SUB, "rg-team-a", "c1", principal("dev"), None)
    await drain(engine, queue)
    assert await state(engine, deleting.operation_id) == "failed"
    again = await clusters.retry(deleting.operation_id, principal("dev"))  # skips what the delete skipped
    await drain(engine, queue)
    assert await state(engine, again.operation_id) == "succeeded"
    assert arm.resources[ids["cluster"].lower()] is foreign  # never the cluster it did not make
    assert ids["vnet"].lower() not in arm.resources and ids["identity"].lower() not in arm.resources
    loaded = await engine.load(again.operation_id)
    assert loaded is not None and loaded.steps["delete:cluster"].outputs.get("skipped")


async def test_credentials_follow_arms_cluster_not_the_desired_request():
    engine, queue, arm, clusters = _world()
    reads = ClusterReads(clusters)
    ids = arm_ids.ids(valid_request(RAW))
    arm.errors[ids["cluster"]] = [FatalError("InternalError", "no")]
    await clusters.create(RAW, principal("dev"))
    await drain(engine, queue)
    _foreign(arm)  # a failed, kept create; ARM's cluster of the name is another's, without Entra ID
    for who in ("dev", "reader"):
        with pytest.raises(InConflict) as refused:
            await reads.credentials(SUB, "rg-team-a", "c1", principal(who))
        assert refused.value.code == "ClusterNotCreated"
    assert arm.posts == []


async def test_a_reader_gets_no_certificate_when_arms_cluster_lost_its_entra_integration():
    engine, queue, arm, clusters = _world()
    reads = ClusterReads(clusters)
    await clusters.create(RAW, principal("dev"))
    await drain(engine, queue)
    ids = arm_ids.ids(valid_request(RAW))
    assert arm.resources[ids["cluster"].lower()]["properties"].get("aadProfile")  # made Entra-integrated
    _foreign(arm)  # replaced outside aksvend by one without aadProfile
    with pytest.raises(NotPermitted) as refused:
        await reads.credentials(SUB, "rg-team-a", "c1", principal("reader"))
    assert "system:masters" in refused.value.detail and arm.posts == []
    answer = await reads.credentials(SUB, "rg-team-a", "c1", principal("dev"))  # `change`: as for any local account
    assert answer["format"] == "default" and "client-certificate-data" in answer["kubeconfig"]
