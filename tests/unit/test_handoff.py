"""The hand-off's pure parts and its use of ARM over fakes: the list's filters and pages (shared/services/listing.py),
the `observed` view and the credentials (shared/services/handoff.py), and the routes through function_app's HTTP
function (tests/worker.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import UTC, datetime

import pytest

from shared.domain.rules import check
from shared.engine.records import ClusterRecord, cluster_key
from shared.errors import RetryableError
from shared.refusals import InConflict, MalformedInput, NotPermitted, Unavailable
from shared.services import handoff, listing
from tests.worker import SUB, Worker, as_caller, fake_runtime, problem_of

GROUP = "6f1c2b4e-0000-4000-8000-00000000abcd"
OTHER_GROUP = "6f1c2b4e-0000-4000-8000-00000000ffff"


def record(name: str, rg: str = "rg-b", *, state: str = "ready", owner: str | None = None,
           tags: dict[str, str] | None = None) -> ClusterRecord:
    request = {"name": name, "resourceGroup": rg, "tags": tags or {}, **({"access": {"ownerGroup": owner}} if owner
                                                                         else {})}
    return ClusterRecord(cluster_key(SUB, rg, name), SUB, rg, name, "westeurope", state, request, "h",
                         updated_at=datetime(2026, 11, 29, tzinfo=UTC))


RECORDS = [record("a1", owner=GROUP, tags={"Team": "shop"}), record("a2", state="failed"),
           record("a3", "rg-c", owner=GROUP.upper(), tags={"team": "shop"}), record("a4", owner=OTHER_GROUP),
           record("a5", owner=GROUP)]


def names(query: listing.Query) -> list[str]:
    return [c.name for c in listing.page(RECORDS, query)[0]]


def test_each_filter_narrows_the_list_and_all_of_them_must_hold():
    q = listing.parse_query
    # in the registry's order (subscription, resource group, name); object ids compare case-insensitively
    assert names(q([("owner", GROUP.upper())])) == ["a1", "a5", "a3"]
    assert names(q([("resourceGroup", "RG-C")])) == ["a3"]
    assert names(q([("state", "failed")])) == ["a2"]
    assert names(q([("tag", "team:shop")])) == ["a1", "a3"]  # tag names are case-insensitive, values are not
    assert names(q([("tag", "team:Shop")])) == []
    assert names(q([("owner", GROUP), ("tag", "team:shop"), ("resourceGroup", "rg-b")])) == ["a1"]


def test_pages_follow_the_keys_and_the_token_resumes_after_the_last_one_shown():
    seen, token, pages = [], None, 0
    while True:
        params = [("owner", GROUP), ("$top", "1")] + ([("continuationToken", token)] if token else [])
        shown, token = listing.page(RECORDS, listing.parse_query(params))
        seen += [c.name for c in shown]
        pages += 1
        if token is None:
            break
    assert (seen, pages) == (["a1", "a5", "a3"], 3)


@pytest.mark.parametrize(("params", "code"), [
    ([("owner", "team-x")], "InvalidQuery"),
    ([("state", "running")], "InvalidQuery"),
    ([("tag", "no-colon")], "InvalidQuery"),
    ([("$top", "0")], "InvalidQuery"),
    ([("$top", "201")], "InvalidQuery"),
    ([("$top", "1e3")], "InvalidQuery"),
    ([("state", "ready"), ("state", "failed")], "InvalidQuery"),
    ([("ownr", GROUP)], "InvalidQuery"),
    ([("continuationToken", "not base64 json!")], "InvalidContinuationToken"),
    ([("continuationToken", "x" * 2000)], "InvalidContinuationToken"),
])
def test_a_query_that_is_not_read_is_refused_naming_its_parameter(params, code):
    with pytest.raises(MalformedInput) as refused:
        listing.parse_query(params)
    assert refused.value.code == code


def test_a_token_made_for_other_filters_or_edited_is_refused():
    _, token = listing.page(RECORDS, listing.parse_query([("owner", GROUP), ("$top", "1")]))
    assert token is not None
    with pytest.raises(MalformedInput, match="continuationToken"):
        listing.parse_query([("owner", OTHER_GROUP), ("continuationToken", token)])
    doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**doc, "q": "0" * 16}).encode()).decode()
    with pytest.raises(MalformedInput, match="continuationToken"):
        listing.parse_query([("owner", GROUP), ("continuationToken", edited)])



@pytest.mark.parametrize("after", ["\ud800", "x\u0000y", "a\u001fb"])
def test_a_token_whose_position_is_no_key_is_refused_not_sent_to_the_table(after):
    """A lone surrogate cannot be encoded for the table service (it was a 503); a control character is no key."""
    query = listing.parse_query([("owner", GROUP)])
    doc = {"v": 1, "after": after, "q": query.fingerprint()}
    forged = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()
    with pytest.raises(MalformedInput, match="continuationToken"):
        listing.parse_query([("owner", GROUP), ("continuationToken", forged)])


ARM_CLUSTER = {
    "id": "/subscriptions/x/resourceGroups/rg-b/providers/Microsoft.ContainerService/managedClusters/shop",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/subscriptions/x/.../id-shop": {}}},
    "properties": {
        "provisioningState": "Succeeded", "powerState": {"code": "Running"}, "kubernetesVersion": "1.33",
        "currentKubernetesVersion": "1.33.2", "fqdn": "shop-1a2b.hcp.westeurope.azmk8s.io",
        "nodeResourceGroup": "MC_rg-b_shop_westeurope", "oidcIssuerProfile": {"issuerURL": "https://oidc.example/"},
        "identityProfile": {"kubeletidentity": {"resourceId": "/k", "clientId": "c", "objectId": "o"}},
        "aadProfile": {"managed": True, "enableAzureRBAC": True, "tenantID": "t"},
        "agentPoolProfiles": [
            {"name": "system", "mode": "System", "count": 3, "powerState": {"code": "Running"},
             "vnetSubnetID": "/subnets/snet-nodes"},
            {"name": "batch", "mode": "User", "count": 0, "powerState": {"code": "Stopped"},
             "vnetSubnetID": "/subnets/snet-nodes"}],
        "windowsProfile": {"adminUsername": "azureuser"}}}


def test_the_observed_view_names_what_a_team_needs_and_nothing_else():
    view = handoff.observed_view(ARM_CLUSTER)
    assert view["fqdn"] == "shop-1a2b.hcp.westeurope.azmk8s.io" and view["privateFqdn"] is None
    assert view["nodeResourceGroup"] == "MC_rg-b_shop_westeurope"
    assert view["kubeletIdentity"] == {"resourceId": "/k", "clientId": "c", "objectId": "o"}
    assert view["controlPlaneIdentity"]["userAssignedIdentities"] == ["/subscriptions/x/.../id-shop"]
    assert view["oidcIssuerUrl"] == "https://oidc.example/"
    assert (view["kubernetesVersion"], view["currentKubernetesVersion"]) == ("1.33", "1.33.2")
    assert [(p["name"], p["count"], p["powerState"]) for p in view["pools"]] == [
        ("system", 3, "Running"), ("batch", 0, "Stopped")]
    assert view["subnetIds"] == ["/subnets/snet-nodes"] and view["entra"] == {"managed": True, "azureRbac": True}
    assert "azureuser" not in json.dumps(view)


class Reader:
    """An ARM reader that answers `answer`, raises it, or never answers (`hang`)."""

    def __init__(self, answer: object = None, *, hang: bool = False) -> None:
        self.answer, self.hang, self.posts = answer, hang, []

    async def _reply(self):
        if self.hang:
            await asyncio.Event().wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def get(self, resource_type, resource_id, api_version):
        return await self._reply()

    async def post(self, resource_type, resource_id, api_version, params=None):
        self.posts.append((resource_id, params))
        return await self._reply()


def request(**extra):
    req, violations = check({"name": "shop", "resourceGroup": "rg-b", "location": "westeurope", **extra},
                            default_subscription_id=SUB)
    assert req is not None, violations
    return req


async def test_observed_says_when_arm_cannot_be_read_and_never_fails():
    slow = await handoff.observed(Reader(hang=True), request(), timeout=0.05)
    down = await handoff.observed(Reader(RetryableError("ArmTimeout", "no answer")), request())
    assert slow["reachable"] is False and "0.05 s" in slow["reason"]
    assert down == {"reachable": False, "exists": None, "reason": "ARM could not be read (ArmTimeout)"}
    assert await handoff.observed(Reader(None), request()) == {"reachable": True, "exists": False}
    found = await handoff.observed(Reader(ARM_CLUSTER), request())
    assert found["reachable"] and found["exists"] and found["fqdn"]


def kubeconfig_answer(text: str) -> dict:
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(text.encode()).decode()}]}


async def test_credentials_are_the_user_kubeconfig_in_kubelogins_form_for_an_entra_cluster_and_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    reader = Reader(kubeconfig_answer("users:\n- user:\n    exec:\n      command: kubelogin\n"))
    entra = await handoff.credentials(reader, request(access={"ownerGroup": GROUP}), entra=True, certificate=False)
    plain = await handoff.credentials(Reader(kubeconfig_answer("users:\n- user:\n    token: t\n")), request(),
                                      entra=False, certificate=True)
    assert [p for p in reader.posts] == [
        (f"/subscriptions/{SUB}/resourceGroups/rg-b/providers/Microsoft.ContainerService/managedClusters/shop/"
         "listClusterUserCredential", {"format": "exec"})]
    assert entra["format"] == "exec" and "kubelogin" in entra["kubeconfig"] and "kubelogin" in entra["usage"]
    assert plain["format"] == "default" and plain["name"] == "clusterUser"
    assert "kubelogin" not in caplog.text


async def test_an_entra_cluster_without_access_gets_kubelogins_form_and_hint_too():
    """New-user review: the production profile's entraId without `access` answered `format: default` and "KUBECONFIG=
    <file> kubectl get nodes" beside a kubelogin kubeconfig. The form keys on Entra integration: `entraId` in the
    request, or a kubelogin user in ARM's answer (ARM gives one whenever the cluster has an aadProfile)."""
    reader = Reader(kubeconfig_answer("users:\n- user:\n    exec:\n      command: kubelogin\n"))
    by_request = await handoff.credentials(reader, request(entraId={"managed": True, "azureRbac": True}),
                                           entra=True, certificate=False)
    assert reader.posts[-1][1] == {"format": "exec"}
    by_arm = await handoff.credentials(reader, request(), entra=False, certificate=False)  # not in our request
    for answer in (by_request, by_arm):
        assert answer["format"] == "exec" and "kubelogin" in answer["usage"] and "KUBECONFIG" not in answer["usage"]


async def test_entra_is_what_arms_cluster_says_and_a_client_certificate_is_never_handed_out_without_change():
    """Attack review: the desired request said `access` (Entra) while ARM's cluster of the name had no aadProfile;
    its user kubeconfig (a system:masters certificate) went to a caller with `read` only. Entra is read from ARM's
    `aadProfile`, and a kubeconfig with a client certificate is refused unless `certificate` is allowed."""
    entra_request = request(access={"ownerGroup": GROUP})
    assert not await handoff.arm_entra(Reader({"properties": {"provisioningState": "Succeeded"}}), entra_request)
    assert await handoff.arm_entra(Reader({"properties": {"aadProfile": {"managed": True}}}), request())
    with pytest.raises(InConflict):
        await handoff.arm_entra(Reader(None), entra_request)
    certificate = kubeconfig_answer("users:\n- user:\n    client-certificate-data: Q0VSVA==\n")
    with pytest.raises(NotPermitted) as refused:
        await handoff.credentials(Reader(certificate), entra_request, entra=True, certificate=False)
    assert "Q0VSVA" not in refused.value.detail and "change" in refused.value.detail
    allowed = await handoff.credentials(Reader(certificate), entra_request, entra=True, certificate=True)
    assert allowed["format"] == "default"  # a certificate is never presented as kubelogin's form


async def test_the_credentials_usage_says_where_access_comes_from_as_the_request_granted_it():
    """New-user review: `usage` said "your access comes from the role granted to the owner group" on a production
    cluster without `access`, where aksvend granted no role at all."""
    reader = Reader(kubeconfig_answer("users:\n- user:\n    exec:\n      command: kubelogin\n"))
    rbac = {"managed": True, "azureRbac": True, "disableLocalAccounts": True}
    owner = await handoff.credentials(reader, request(access={"ownerGroup": GROUP, "role": "Azure Kubernetes "
                                                                                              "Service RBAC Reader"}),
                                       entra=True, certificate=False)
    admins = await handoff.credentials(reader, request(entraId={**rbac, "adminGroupObjectIds": [GROUP]}),
                                        entra=True, certificate=False)
    nobody = await handoff.credentials(reader, request(entraId=rbac), entra=True, certificate=False)
    assert "'Azure Kubernetes Service RBAC Reader' aksvend granted the owner group" in owner["usage"]
    assert "admin groups" in admins["usage"] and "owner group" not in admins["usage"]
    assert "aksvend granted no role" in nobody["usage"] and "owner group" not in nobody["usage"]


async def test_credentials_refuse_clearly_when_arm_has_no_cluster_or_cannot_answer():
    with pytest.raises(InConflict) as absent:
        await handoff.credentials(Reader(None), request(), entra=False, certificate=True)
    with pytest.raises(Unavailable) as down:
        await handoff.credentials(Reader(RetryableError("Throttled", "token=abc")), request(), entra=False,
                                  certificate=True)
    with pytest.raises(Unavailable) as slow:
        await handoff.credentials(Reader(hang=True), request(), entra=False, certificate=True, timeout=0.05)
    with pytest.raises(Unavailable) as unreadable:
        await handoff.credentials(Reader({"kubeconfigs": [{"name": "clusterUser", "value": "%%%"}]}), request(),
                                  entra=False, certificate=True)
    assert absent.value.code == "ClusterNotInArm"
    assert (down.value.code, slow.value.code, unreadable.value.code) == ("ArmUnavailable", "ArmUnavailable",
                                                                         "CredentialsUnreadable")
    assert "abc" not in down.value.detail and down.value.__suppress_context__


@pytest.fixture
async def worker():
    w = Worker(fake_runtime())
    yield w
    await w.close()


async def test_the_routes_list_in_pages_and_show_observed_and_credentials_to_readers_only(worker):
    for name in ("shop1", "shop2", "shop3"):
        body = {"name": name, "resourceGroup": "rg-b", "location": "westeurope", "tags": {"team": name[-1]}}
        created = await worker.request("POST", "/api/clusters", json_body=body, headers=as_caller("alice"))
        assert created.status_code == 202, created.get_body()
    first = await worker.request("GET", "/api/clusters", headers=as_caller("bob"), query="%24top=2")
    page1 = json.loads(first.get_body())
    assert [c["name"] for c in page1["value"]] == ["shop1", "shop2"] and page1["continuationToken"]
    assert all(c["owner"] is None and c["updatedAt"] for c in page1["value"])
    second = await worker.request("GET", "/api/clusters", headers=as_caller("bob"),
                                  query=f"%24top=2&continuationToken={page1['continuationToken']}")
    assert [c["name"] for c in json.loads(second.get_body())["value"]] == ["shop3"]
    tagged = await worker.request("GET", "/api/clusters", headers=as_caller("bob"), query="tag=team:2")
    assert [c["name"] for c in json.loads(tagged.get_body())["value"]] == ["shop2"]
    assert json.loads((await worker.request("GET", "/api/clusters")).get_body())["value"] == []  # dev: rg-a only
    bad = await worker.request("GET", "/api/clusters", headers=as_caller("bob"), query="state=running")
    assert (bad.status_code, problem_of(bad)["code"]) == (400, "InvalidQuery")
    cluster = json.loads((await worker.request("GET", f"/api/clusters/{SUB}/rg-b/shop1",
                                               headers=as_caller("bob"))).get_body())
    assert cluster["observed"] == {"reachable": True, "exists": False}  # the fake ARM has it once the steps ran
    early = await worker.request("GET", f"/api/clusters/{SUB}/rg-b/shop1/credentials", headers=as_caller("alice"))
    assert (early.status_code, problem_of(early)["code"]) == (409, "ClusterNotCreated")  # its create has not run
    reader = await worker.request("GET", f"/api/clusters/{SUB}/rg-b/shop1/credentials", headers=as_caller("bob"))
    assert (reader.status_code, problem_of(reader)["code"]) == (409, "ClusterNotCreated")
    stranger = await worker.request("GET", f"/api/clusters/{SUB}/rg-b/shop1/credentials")
    assert stranger.status_code == 403
