"""Who gets a cluster's kubeconfig (shared/services/cluster_reads.py, docs/security.md): on a cluster without Entra ID
integration the user credential is a client certificate in `system:masters`, full control of the cluster (Azure/AKS
issue #1343: "the certificate in the kubeconfig ... has 'system:masters' as the organization, and thus full control
in the cluster"), so `read` alone does not hand it out: it takes `change`. On an Entra-integrated cluster the
kubeconfig is kubelogin's exec form, which carries no right of its own, and `read` suffices."""

from __future__ import annotations

import base64

import pytest

from shared.domain import arm as arm_ids
from shared.domain.policy import Policy, allow_all
from shared.domain.rules import check
from shared.refusals import NotPermitted
from shared.services.cluster_reads import ClusterReads
from shared.services.clusters import Clusters
from tests.fakes import drain
from tests.principals import pid, principal
from tests.unit.test_engine import world  # noqa: F401 (the fixture)

SUB = "00000000-0000-0000-0000-000000000000"
POLICY = Policy.model_validate({"rules": [
    {"principals": [pid("reader")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["read"]},
    {"principals": [pid("team")], "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["read", "change"]}]})


async def test_a_reader_gets_no_cluster_admin_certificate_and_the_team_that_may_change_the_cluster_does(world):  # noqa: F811
    engine, queue, arm, _ = world
    raw = {"name": "plain", "resourceGroup": "rg-k", "location": "westeurope"}
    await Clusters(engine, allow_all(), SUB).create(raw, principal("root"))
    await drain(engine, queue)
    request, _ = check(raw, default_subscription_id=SUB)
    assert request is not None and request.access is None
    action = f"{arm_ids.ids(request)['cluster']}/listClusterUserCredential".lower()
    arm.actions[action] = {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(b"certificate").decode()}]}
    reads = ClusterReads(Clusters(engine, POLICY, SUB))
    with pytest.raises(NotPermitted) as refused:
        await reads.credentials(SUB, "rg-k", "plain", principal("reader"))
    assert "change" in refused.value.detail and "system:masters" in refused.value.detail
    assert arm.posts == []  # ARM was not even asked
    assert (await reads.credentials(SUB, "rg-k", "plain", principal("team")))["kubeconfig"] == "certificate"


async def test_a_reader_gets_the_kubelogin_kubeconfig_of_an_entra_cluster_made_without_access(world):  # noqa: F811
    """`entraId` without `access` (the production profile's) makes the cluster Entra-integrated as much as `access`
    does: its user kubeconfig is kubelogin's, with no right of its own, so `read` suffices and the form is exec."""
    engine, queue, arm, _ = world
    raw = {"name": "entra", "resourceGroup": "rg-k", "location": "westeurope",
           "entraId": {"managed": True, "azureRbac": True}}
    await Clusters(engine, allow_all(), SUB).create(raw, principal("root"))
    await drain(engine, queue)
    request, _ = check(raw, default_subscription_id=SUB)
    assert request is not None and request.access is None
    action = f"{arm_ids.ids(request)['cluster']}/listClusterUserCredential".lower()
    arm.actions[action] = {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(
        b"users:\n- user:\n    exec:\n      command: kubelogin\n").decode()}]}
    answer = await ClusterReads(Clusters(engine, POLICY, SUB)).credentials(SUB, "rg-k", "entra", principal("reader"))
    assert answer["format"] == "exec" and "kubelogin" in answer["usage"]
