"""An adopted cluster's request states every option as ARM has it (shared/domain/adoption.py, adoption_options.py;
issue 17): the body aksvend would send for it (a PATCH's or an upgrade's cluster PUT) carries ARM's value of every
option, so no profile default (a private API server, Entra ID, Azure Linux ...) ever reaches a cluster aksvend did not
make; and what the contract cannot express is a 422 naming it, not a silent change."""

from __future__ import annotations

import copy
import random
from datetime import date
from typing import Any

import pytest

from shared.domain import arm
from shared.domain.adoption import request_from_arm, unsupported
from shared.domain.arm import carry
from shared.domain.operations import steps_for
from shared.domain.plan import plan
from shared.domain.policy import allow_all
from shared.domain.profiles import expand
from shared.engine import Engine
from shared.engine.adopt import current_body
from shared.engine.records import cluster_key
from shared.refusals import InvalidInput
from shared.services.clusters import Clusters
from shared.services.lifecycle import Lifecycle
from shared.services.pool_change import revalidate
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue
from tests.principals import principal
from tests.requests import PAYMENTS

SUB = "00000000-0000-0000-0000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-old"
WORKSPACE = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/log-old"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-old"
SUBNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet-old/subnets/nodes"
MISSING = object()


def pool(name: str, mode: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "mode": mode, "count": 3, "vmSize": "Standard_D4s_v5", "osType": "Linux",
            "type": "VirtualMachineScaleSets", "maxPods": 110, "enableAutoScaling": False,
            "availabilityZones": ["1", "2", "3"], "orchestratorVersion": "1.33.2", **extra}


# A public cluster made in the portal: Standard tier, no Entra ID, local accounts on, Ubuntu, kubenet, no add-ons.
PUBLIC: dict[str, Any] = {
    "name": "old", "location": "westeurope", "sku": {"name": "Base", "tier": "Standard"},
    "identity": {"type": "SystemAssigned"}, "tags": {"team": "a"},
    "properties": {
        "kubernetesVersion": "1.33.2", "dnsPrefix": "old-dns", "enableRBAC": True,
        "agentPoolProfiles": [pool("nodepool1", "System", osSKU="Ubuntu", upgradeSettings={"maxSurge": "1"}),
                              pool("work", "User", osSKU="Ubuntu", count=2, availabilityZones=None)],
        "networkProfile": {"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16",
                           "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer", "loadBalancerSku": "standard"},
        "addonProfiles": {"omsagent": {"enabled": False}},
        "disableLocalAccounts": False,
        "autoUpgradeProfile": {"nodeOSUpgradeChannel": "Unmanaged"},
        "storageProfile": {"diskCSIDriver": {"enabled": True}, "fileCSIDriver": {"enabled": True},
                           "blobCSIDriver": {"enabled": False}},
    },
}

# A private, Entra-integrated cluster with every option aksvend models turned on.
PRIVATE: dict[str, Any] = {
    "name": "locked", "location": "westeurope", "sku": {"name": "Base", "tier": "Standard"},
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
    "properties": {
        "kubernetesVersion": "1.33.2", "dnsPrefix": "locked", "enableRBAC": True,
        "agentPoolProfiles": [
            pool("system", "System", osSKU="AzureLinux", vnetSubnetID=SUBNET, upgradeSettings={"maxSurge": "33%"},
                 nodeTaints=["CriticalAddonsOnly=true:NoSchedule"]),
            pool("apps", "User", osSKU="AzureLinux", vnetSubnetID=SUBNET, enableEncryptionAtHost=True,
                 kubeletConfig={"podMaxPids": 2048, "imageGcHighThreshold": 80}, scaleDownMode="Deallocate",
                 enableAutoScaling=True, minCount=2, maxCount=6, nodeLabels={"tier": "web"},
                 upgradeSettings={"maxSurge": "2"})],
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16",
                           "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
                           "networkPolicy": "cilium", "networkDataplane": "cilium"},
        "apiServerAccessProfile": {"enablePrivateCluster": True, "privateDNSZone": "system",
                                   "enablePrivateClusterPublicFQDN": False},
        "aadProfile": {"managed": True, "enableAzureRBAC": True,
                       "adminGroupObjectIDs": ["6f1c2b4e-0000-4000-8000-00000000abcd"]},
        "disableLocalAccounts": True,
        "securityProfile": {"workloadIdentity": {"enabled": True},
                            "imageCleaner": {"enabled": True, "intervalHours": 48},
                            "defender": {"securityMonitoring": {"enabled": True},
                                         "logAnalyticsWorkspaceResourceId": WORKSPACE}},
        "oidcIssuerProfile": {"enabled": True, "issuerURL": "https://westeurope.oic.prod-aks.azure.com/x/"},
        "autoUpgradeProfile": {"upgradeChannel": "stable", "nodeOSUpgradeChannel": "SecurityPatch"},
        "addonProfiles": {"omsagent": {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": WORKSPACE}},
                          "azurepolicy": {"enabled": True},
                          "azureKeyvaultSecretsProvider": {"enabled": True,
                                                           "config": {"enableSecretRotation": "true"}}},
        "metricsProfile": {"costAnalysis": {"enabled": True}},
        "azureMonitorProfile": {"metrics": {"enabled": True}},
        "autoScalerProfile": {"scan-interval": "20s", "expander": "least-waste",
                              "balance-similar-node-groups": "true"},
        "storageProfile": {"blobCSIDriver": {"enabled": True}},
    },
}

# Each option aksvend's cluster body writes, by its path, and AKS's value when the body leaves it out.
CLUSTER_PATHS: list[tuple[str, Any]] = [
    ("sku.tier", "Free"), ("properties.kubernetesVersion", None), ("properties.dnsPrefix", None),
    ("properties.apiServerAccessProfile.enablePrivateCluster", False),
    ("properties.apiServerAccessProfile.authorizedIPRanges", []),
    ("properties.aadProfile.managed", False), ("properties.aadProfile.enableAzureRBAC", False),
    ("properties.aadProfile.adminGroupObjectIDs", []), ("properties.disableLocalAccounts", False),
    ("properties.securityProfile.workloadIdentity.enabled", False),
    ("properties.securityProfile.imageCleaner.enabled", False),
    ("properties.securityProfile.defender.securityMonitoring.enabled", False),
    ("properties.oidcIssuerProfile.enabled", False),
    ("properties.autoUpgradeProfile.upgradeChannel", "none"),
    ("properties.autoUpgradeProfile.nodeOSUpgradeChannel", "NodeImage"),
    ("properties.addonProfiles.omsagent.enabled", False), ("properties.addonProfiles.azurepolicy.enabled", False),
    ("properties.addonProfiles.azureKeyvaultSecretsProvider.enabled", False),
    ("properties.metricsProfile.costAnalysis.enabled", False),
    ("properties.azureMonitorProfile.metrics.enabled", False),
    ("properties.storageProfile.diskCSIDriver.enabled", True),
    ("properties.storageProfile.fileCSIDriver.enabled", True),
    ("properties.storageProfile.blobCSIDriver.enabled", False),
    ("properties.networkProfile.networkPlugin", None), ("properties.networkProfile.networkPluginMode", None),
    ("properties.networkProfile.networkPolicy", None), ("properties.networkProfile.networkDataplane", None),
    ("properties.networkProfile.serviceCidr", None), ("properties.networkProfile.dnsServiceIP", None),
    ("properties.networkProfile.outboundType", None),
]
# Only where ARM turns the option on (else the body may leave it out, and AKS ignores it).
WHEN_ON: list[tuple[str, str]] = [
    ("properties.apiServerAccessProfile.privateDNSZone", "properties.apiServerAccessProfile.enablePrivateCluster"),
    ("properties.apiServerAccessProfile.enablePrivateClusterPublicFQDN",
     "properties.apiServerAccessProfile.enablePrivateCluster"),
    ("properties.securityProfile.imageCleaner.intervalHours", "properties.securityProfile.imageCleaner.enabled"),
    ("properties.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID",
     "properties.addonProfiles.omsagent.enabled"),
    ("properties.securityProfile.defender.logAnalyticsWorkspaceResourceId",
     "properties.securityProfile.defender.securityMonitoring.enabled"),
    ("properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation",
     "properties.addonProfiles.azureKeyvaultSecretsProvider.enabled"),
]
# A pool's maxSurge: "If not specified, the default is 10%" (managedClusters.json, AgentPoolUpgradeSettings).
POOL_PATHS: list[tuple[str, Any]] = [
    ("vmSize", None), ("count", None), ("osType", "Linux"), ("osSKU", None), ("mode", None), ("maxPods", None),
    ("enableAutoScaling", False), ("minCount", None), ("maxCount", None), ("availabilityZones", None),
    ("nodeTaints", []), ("enableEncryptionAtHost", False), ("kubeletConfig", None), ("gpuInstanceProfile", None),
    ("scaleDownMode", None), ("upgradeSettings.maxSurge", "10%"), ("osDiskType", None), ("osDiskSizeGB", None),
    ("vnetSubnetID", None), ("scaleSetPriority", None),
]


def at(body: Any, path: str, default: Any = None) -> Any:
    for part in path.split("."):
        body = body.get(part, MISSING) if isinstance(body, dict) else MISSING
        if body is MISSING:
            return default
    return default if body is None else body


def sent(cluster: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    raw = request_from_arm(cluster, SUB, "rg-old")
    request = revalidate(raw, prefix="ADOPT", default_subscription_id=SUB, today=date(2026, 11, 29))
    return arm.managed_cluster_body(request), request


@pytest.mark.parametrize("cluster", [PUBLIC, PRIVATE], ids=["public", "private"])
def test_the_body_aksvend_sends_for_an_adopted_cluster_carries_arms_value_of_every_option(cluster):
    assert unsupported(cluster) == []
    body, request = sent(cluster)
    for path, default in CLUSTER_PATHS:
        assert at(body, path, default) == at(cluster, path, default), path
    for path, switch in WHEN_ON:
        if at(cluster, switch, False):
            assert at(body, path) == at(cluster, path), path
    autoscaler = at(cluster, "properties.autoScalerProfile", {})
    assert {k: v for k, v in at(body, "properties.autoScalerProfile", {}).items() if k in autoscaler} == autoscaler
    assert body["identity"] == cluster["identity"] and body["location"] == cluster["location"]
    mine = {p["name"]: p for p in body["properties"]["agentPoolProfiles"]}
    for theirs in cluster["properties"]["agentPoolProfiles"]:
        ours = mine[theirs["name"]]
        for path, default in POOL_PATHS:
            assert at(ours, path, default) == at(theirs, path, default), (theirs["name"], path)
        labels = {k: v for k, v in ours["nodeLabels"].items() if k != "aksvend.io/workload"}
        assert labels == (theirs.get("nodeLabels") or {}), theirs["name"]
    assert request.maintenance.auto_upgrade_window is None and request.maintenance.node_os_upgrade_window is None
    assert not any(r.type == arm.MAINTENANCE.name for r in plan(request).resources)  # never PUT nor deleted


def test_an_option_arm_does_not_report_is_aks_default_never_the_production_profiles():
    bare = copy.deepcopy(PUBLIC)
    props = bare["properties"]
    for key in ("disableLocalAccounts", "autoUpgradeProfile", "storageProfile", "addonProfiles"):
        del props[key]
    for p in props["agentPoolProfiles"]:
        p.pop("osSKU")
        p.pop("upgradeSettings", None)
    body, request = sent(bare)
    assert request.profile == "production"  # Standard tier; none of its options
    assert (request.api_server.private, request.entra_id, request.security.workload_identity,
            request.security.oidc_issuer) == (False, None, False, False)
    assert [p.os_sku for p in request.pools] == ["Ubuntu", "Ubuntu"]
    assert (request.network.policy, request.network.dataplane) == ("none", "azure")
    assert (request.reactions.auto_upgrade, request.maintenance.node_os_upgrade_channel) == ("none", "NodeImage")
    assert (request.addons.monitoring, request.addons.azure_policy, request.addons.csi_drivers) == (
        False, False, ["disk", "file"])
    for key in ("apiServerAccessProfile", "aadProfile", "disableLocalAccounts", "oidcIssuerProfile", "securityProfile"):
        assert key not in body["properties"], key


@pytest.mark.parametrize(("change", "where"), [
    ({"sku": {"name": "Base", "tier": "Premium"}}, "/sku/tier"),
    ({"properties.aadProfile": {"managed": False, "clientAppID": "x"}}, "/properties/aadProfile/managed"),
    ({"properties.enableRBAC": False}, "/properties/enableRBAC"),
    ({"properties.storageProfile": {"snapshotController": {"enabled": False}}},
     "/properties/storageProfile/snapshotController/enabled"),
    ({"properties.windowsProfile": {"adminUsername": "them"}}, "/properties/windowsProfile"),
    # a service principal cluster: a PATCH would PUT identity id-<name> onto it and a DELETE delete id-<name>
    ({"identity": None, "properties.servicePrincipalProfile": {"clientId": "1111"}}, "/identity"),
    ({"identity": {"type": "None"}}, "/identity"),
    ({"properties.agentPoolProfiles": [pool("a", "System"), pool("b", "System")]},
     "/properties/agentPoolProfiles/1/mode"),
])
def test_what_the_contract_cannot_express_is_named_and_not_adopted(change, where):
    cluster = copy.deepcopy(PUBLIC)
    for path, value in change.items():
        *parents, last = path.split(".")
        node = cluster
        for part in parents:
            node = node[part]
        node[last] = value
    assert [v.path for v in unsupported(cluster)] == [where]


@pytest.mark.parametrize("change", [
    {"apiServerAccessProfile": {"disableRunCommand": True}}, {"addonProfiles": {"ingressApplicationGateway": {
        "enabled": True}}}, {"autoScalerProfile": {"skip-nodes-with-custom-controller-pods": "false"}},
    {"linuxProfile": {"adminUsername": "them"}}, {"workloadAutoScalerProfile": {"keda": {"enabled": True}}}])
def test_what_aksvend_never_writes_is_adopted_and_carried_through_instead(change):
    cluster = copy.deepcopy(PUBLIC)
    cluster["properties"].update(change)
    cluster["properties"]["agentPoolProfiles"][0]["kubeletConfig"] = {"cpuManagerPolicy": "static"}
    assert unsupported(cluster) == []
    sent(cluster)  # and the rules hold


def adopt_over(cluster: dict[str, Any]) -> tuple[Lifecycle, FakeArm]:
    clock = FakeClock()
    fake = FakeArm()
    engine = Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=FakeStepQueue("s", clock=clock),
                    arm=fake, clock=clock, secrets=FakeSecrets(), rng=random.Random(1))
    cid = f"{RG}/providers/Microsoft.ContainerService/managedClusters/{cluster['name']}"
    fake.resources[cid.lower()] = {**cluster, "id": cid}
    return Lifecycle(Clusters(engine, allow_all(), SUB)), fake


async def test_an_adopt_is_refused_with_a_422_naming_the_field_or_the_rule_and_nothing_is_recorded():
    premium = {**PUBLIC, "sku": {"name": "Base", "tier": "Premium"}}
    uc, _ = adopt_over(premium)
    with pytest.raises(InvalidInput) as refused:
        await uc.adopt(SUB, "rg-old", "old", principal("dev"))
    assert refused.value.code == "AdoptUnsupported"
    assert [(v.code, v.path) for v in refused.value.violations] == [("ADOPT_UNSUPPORTED", "/sku/tier")]
    small = copy.deepcopy(PUBLIC)
    small["properties"]["agentPoolProfiles"][0]["count"] = 2  # Standard tier: production's rules, 3 system nodes
    uc, _ = adopt_over(small)
    with pytest.raises(InvalidInput) as refused:
        await uc.adopt(SUB, "rg-old", "old", principal("dev"))
    assert refused.value.code == "InvalidRequest"
    assert [(v.code, v.path) for v in refused.value.violations] == [("SYSTEM_POOL_MIN_NODES", "/systemPool/count")]
    assert await uc.engine.registry.get(cluster_key(SUB, "rg-old", "old")) is None


class OneCluster:
    """An ArmPort whose GET answers one resource."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource

    async def get(self, *_: Any) -> dict[str, Any]:
        return self.resource


def test_every_property_aksvends_bodies_write_is_listed_as_its_own():
    body, request = sent(PRIVATE)
    payments, _ = expand(PAYMENTS, default_subscription_id=SUB)
    assert payments is not None
    def listed(props: dict[str, Any], writes: Any) -> None:
        for key, value in props.items():
            assert key in writes, key
            if writes[key] is not None:
                assert set(value) <= writes[key], key

    for made in (body, arm.managed_cluster_body(payments)):
        listed(made["properties"], carry.CLUSTER_WRITES)
        for profile in made["properties"]["agentPoolProfiles"]:
            listed(profile, carry.POOL_WRITES)
    listed(arm.agent_pool_body(request, request.user_pools[0])["properties"], carry.POOL_WRITES)


async def test_a_change_carries_through_what_aksvend_does_not_model_and_never_what_it_writes_or_arm_computes():
    _, request = sent(PUBLIC)
    spec = next(s for s in steps_for("patch-cluster", request) if s.id == "update:cluster")
    now = copy.deepcopy(PUBLIC)
    props = now["properties"]
    props.update(linuxProfile={"adminUsername": "them", "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAA"}]}},
                 workloadAutoScalerProfile={"keda": {"enabled": True}}, provisioningState="Succeeded",
                 fqdn="old.hcp.westeurope.azmk8s.io", apiServerAccessProfile={"enablePrivateCluster": True},
                 dnsPrefix="changed-meanwhile", securityProfile={"azureKeyVaultKms": {"enabled": True}})
    props["networkProfile"]["loadBalancerProfile"] = {"managedOutboundIPs": {"count": 2},
                                                      "effectiveOutboundIPs": [{"id": "/x"}]}
    props["agentPoolProfiles"][0].update(podSubnetID=SUBNET, nodeImageVersion="AKSUbuntu-2204", count=4,
                                         upgradeSettings={"maxSurge": "50%", "drainTimeoutInMinutes": 5})
    sent_body = await current_body(OneCluster(now), spec, spec.body)  # type: ignore[arg-type]
    out = sent_body["properties"]
    assert out["linuxProfile"] == props["linuxProfile"] and out["workloadAutoScalerProfile"] == {"keda": {
        "enabled": True}}
    assert "provisioningState" not in out and "fqdn" not in out  # ARM's, read-only
    assert "apiServerAccessProfile" not in out and out["dnsPrefix"] == "old-dns"  # aksvend's: the request's
    system = out["agentPoolProfiles"][0]
    assert (system["podSubnetID"], system["count"], "nodeImageVersion" in system) == (SUBNET, 4, False)
    assert system["upgradeSettings"] == {"maxSurge": "1", "drainTimeoutInMinutes": 5}  # the request's surge
    assert out["networkProfile"]["loadBalancerProfile"] == {"managedOutboundIPs": {"count": 2}}
    assert out["networkProfile"]["networkPlugin"] == "kubenet" and out["securityProfile"] == {
        "azureKeyVaultKms": {"enabled": True}}


async def test_a_pool_put_that_sets_its_own_count_carries_through_what_aksvend_does_not_model_too():
    _, request = sent(PUBLIC)
    spec = next(s for s in steps_for("put-pool", request, "work"))
    assert not spec.current and spec.body is not None
    arm_pool = {**PUBLIC["properties"]["agentPoolProfiles"][1], "count": 9, "podSubnetID": SUBNET,
                "provisioningState": "Succeeded"}
    out = (await current_body(OneCluster({"properties": arm_pool}), spec, spec.body))["properties"]  # type: ignore
    assert (out["count"], out["podSubnetID"], "provisioningState" in out) == (2, SUBNET, False)
    assert await current_body(NoneArm(), spec, spec.body) is spec.body  # a new pool: as it is


class NoneArm:
    async def get(self, *_: Any) -> None:
        return None
