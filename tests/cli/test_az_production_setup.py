"""The seed's production setup built with the real Azure CLI against the emulator, command by command (issue 16).

The steps run in file order on one cluster and each asserts az's exit code and the state it leaves, through az's
JSON output and through the emulator. It is what a careful operator types: `az group create`, `az network vnet
create`, `az aks create` (3 x Standard_D4s_v5 over zones 1 2 3, CriticalAddonsOnly taint, on the subnet: az then
grants the cluster identity Network Contributor on it), `az role assignment create --role` by name, `az aks
nodepool add` for the user, GPU and spot pools,
scale, stop/start, get-credentials, get-upgrades, upgrade, show, list, nodepool delete, the 409 of two back-to-back
`nodepool add --no-wait`, and `az aks delete`.

Time: az starts in ~1.5-3 s per command (loading its command modules), ~25 commands, so the module takes about a
minute; the emulator's time factor is 0 (conftest.py), so no command waits for an operation or a poll interval.
"""

from __future__ import annotations

import pathlib

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient

from .azcli import AzCli

# One scenario in order (create, add, scale, ..., delete) on one emulator: `make test` runs a file in one worker
# (pytest-xdist `--dist loadfile`), in file order.
pytestmark = pytest.mark.cli

RG, LOCATION, CLUSTER, VNET = "rg-prod", "westeurope", "aks-prod", "vnet-prod"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
POOL = ("-g", RG, "--cluster-name", CLUSTER, "-o", "json")
seen: dict[str, object] = {}  # what one step learns and a later one uses (the steps run in file order)


def subnet_id(subscription: str) -> str:
    group = f"/subscriptions/{subscription}/resourceGroups/{RG}"
    return f"{group}/providers/Microsoft.Network/virtualNetworks/{VNET}/subnets/nodes"


def test_group_create(az: AzCli):
    group = az("group", "create", "-n", RG, "-l", LOCATION, "-o", "json").json
    assert (group["name"], group["location"], group["properties"]["provisioningState"]) == (RG, LOCATION, "Succeeded")


def test_vnet_create_with_the_node_subnet(az: AzCli, cli_emulator):
    out = az(
        "network",
        "vnet",
        "create",
        "-g",
        RG,
        "-n",
        VNET,
        "--address-prefixes",
        "10.0.0.0/8",
        "--subnet-name",
        "nodes",
        "--subnet-prefixes",
        "10.240.0.0/16",
        "-o",
        "json",
    ).json["newVNet"]
    assert out["provisioningState"] == "Succeeded"
    assert [(s["name"], s["addressPrefix"]) for s in out["subnets"]] == [("nodes", "10.240.0.0/16")]
    assert out["subnets"][0]["id"] == subnet_id(cli_emulator.subscription_id)


def test_aks_create_with_the_system_pool_over_three_zones(az: AzCli, cli_emulator):
    subnet = subnet_id(cli_emulator.subscription_id)
    created = az(
        "aks",
        "create",
        "-g",
        RG,
        "-n",
        CLUSTER,
        "-l",
        LOCATION,
        "--node-count",
        "3",
        "--node-vm-size",
        "Standard_D4s_v5",
        "--zones",
        "1",
        "2",
        "3",
        "--nodepool-taints",
        SYSTEM_TAINT,
        "--vnet-subnet-id",
        subnet,
        "--no-ssh-key",
        "-o",
        "json",
    )
    cluster = created.json
    assert cluster["provisioningState"] == "Succeeded" and cluster["powerState"]["code"] == "Running"
    [system] = cluster["agentPoolProfiles"]
    assert (system["count"], system["vmSize"], system["mode"]) == (3, "Standard_D4s_v5", "System")
    assert system["availabilityZones"] == ["1", "2", "3"] and system["nodeTaints"] == [SYSTEM_TAINT]
    assert system["vnetSubnetId"] == subnet
    assert cluster["fqdn"].endswith(f".hcp.{LOCATION}.azmk8s.io")
    assert cluster["nodeResourceGroup"] == f"MC_{RG}_{CLUSTER}_{LOCATION}"
    # az grants the cluster's identity Network Contributor on the subnet (role definitions listed by name first)
    assert "Could not create a role assignment" not in created.stderr
    auth = cli_emulator.client(AuthorizationManagementClient)
    grants = [
        (a.principal_id, a.role_definition_id.rsplit("/", 1)[-1]) for a in auth.role_assignments.list_for_scope(subnet)
    ]
    assert grants == [(cluster["identity"]["principalId"], NETWORK_CONTRIBUTOR)]


def test_role_assignment_create_by_role_name_and_list(az: AzCli, cli_emulator):
    """Issue 16 saw `az role assignment create --role "Network Contributor"` fail: no role definitions to look up."""
    scope = f"/subscriptions/{cli_emulator.subscription_id}/resourceGroups/{RG}"
    principal = "11111111-2222-3333-4444-555555555555"
    created = az(
        "role", "assignment", "create", "--assignee-object-id", principal, "--assignee-principal-type",
        "ServicePrincipal", "--role", "Network Contributor", "--scope", scope, "-o", "json",
    ).json
    role = created.get("roleDefinitionId") or created["properties"]["roleDefinitionId"]
    assert role.endswith(f"/roleDefinitions/{NETWORK_CONTRIBUTOR}")
    listed = az("role", "assignment", "list", "--scope", scope, "--fill-principal-name", "false", "-o", "json").json
    assert [(a["principalId"], a["roleDefinitionName"], a["scope"]) for a in listed] == [
        (principal, "Network Contributor", scope)
    ]


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        (
            "user",
            ("--node-count", "5", "--node-vm-size", "Standard_D8s_v5", "--zones", "1", "2", "3"),
            {"count": 5, "vmSize": "Standard_D8s_v5", "mode": "User", "availabilityZones": ["1", "2", "3"]},
        ),
        (
            "gpu",
            ("--node-count", "2", "--node-vm-size", "Standard_NC24ads_A100_v4", "--node-taints", GPU_TAINT),
            {"count": 2, "vmSize": "Standard_NC24ads_A100_v4", "nodeTaints": [GPU_TAINT]},
        ),
        (
            "spot",
            (
                "--node-count",
                "3",
                "--node-vm-size",
                "Standard_D8s_v5",
                "--priority",
                "Spot",
                "--eviction-policy",
                "Delete",
                "--spot-max-price",
                "-1",
            ),
            {
                "count": 3,
                "scaleSetPriority": "Spot",
                "scaleSetEvictionPolicy": "Delete",
                "spotMaxPrice": -1.0,
                "nodeTaints": [SPOT_TAINT],
                "nodeLabels": {"kubernetes.azure.com/scalesetpriority": "spot"},
            },
        ),
    ],
)
def test_nodepool_add(az: AzCli, name, args, expected):
    pool = az("aks", "nodepool", "add", *POOL, "-n", name, *args).json
    assert pool["provisioningState"] == "Succeeded" and pool["powerState"]["code"] == "Running"
    assert {k: pool[k] for k in expected} == expected


def test_nodepool_scale(az: AzCli, cli_emulator):
    pool = az("aks", "nodepool", "scale", *POOL, "-n", "user", "--node-count", "7").json
    assert (pool["count"], pool["provisioningState"]) == (7, "Succeeded")


def test_nodepool_stop_goes_to_count_0_and_start_restores_the_count(az: AzCli):
    stopped = az("aks", "nodepool", "stop", *POOL, "-n", "user").json
    assert (stopped["powerState"]["code"], stopped["count"], stopped["provisioningState"]) == (
        "Stopped",
        0,
        "Succeeded",
    )
    started = az("aks", "nodepool", "start", *POOL, "-n", "user").json
    assert (started["powerState"]["code"], started["count"], started["provisioningState"]) == (
        "Running",
        7,
        "Succeeded",
    )


def test_get_credentials_writes_a_kubeconfig_naming_the_fqdn(az: AzCli, tmp_path: pathlib.Path):
    kubeconfig = tmp_path / "kubeconfig"
    done = az("aks", "get-credentials", "-g", RG, "-n", CLUSTER, "--file", str(kubeconfig))
    assert done.code == 0, done.stderr
    fqdn = az("aks", "show", "-g", RG, "-n", CLUSTER, "--query", "fqdn", "-o", "json").json
    text = kubeconfig.read_text()
    assert f"server: https://{fqdn}:443" in text and f"current-context: {CLUSTER}" in text


def test_get_upgrades_offers_the_next_minor(az: AzCli):
    profile = az("aks", "get-upgrades", "-g", RG, "-n", CLUSTER, "-o", "json").json
    current = profile["controlPlaneProfile"]["kubernetesVersion"]
    offered = [u["kubernetesVersion"] for u in profile["controlPlaneProfile"]["upgrades"]]
    minor = lambda v: tuple(int(x) for x in v.split(".")[:2])  # noqa: E731
    assert offered and all(minor(v) in {minor(current), (minor(current)[0], minor(current)[1] + 1)} for v in offered)
    assert sorted(p["name"] for p in profile["agentPoolProfiles"]) == ["gpu", "nodepool1", "spot", "user"]
    seen["upgrade_to"] = max(offered, key=lambda v: tuple(int(x) for x in v.split(".")))


def test_upgrade_moves_the_control_plane_and_every_pool(az: AzCli, cli_emulator):
    target = seen["upgrade_to"]
    cluster = az("aks", "upgrade", "-g", RG, "-n", CLUSTER, "--kubernetes-version", target, "--yes", "-o", "json").json
    assert (cluster["provisioningState"], cluster["currentKubernetesVersion"]) == ("Succeeded", target)
    assert {p["name"]: p["currentOrchestratorVersion"] for p in cluster["agentPoolProfiles"]} == dict.fromkeys(
        ["nodepool1", "user", "gpu", "spot"], target
    )
    assert cli_emulator.control("GET", "operations")["value"] == []  # settled: nothing left running on the cluster


def test_show_and_list(az: AzCli):
    cluster = az("aks", "show", "-g", RG, "-n", CLUSTER, "-o", "json").json
    counts = {p["name"]: (p["count"], p["mode"]) for p in cluster["agentPoolProfiles"]}
    assert counts == {"nodepool1": (3, "System"), "user": (7, "User"), "gpu": (2, "User"), "spot": (3, "User")}
    listed = az("aks", "list", "-g", RG, "-o", "json").json
    assert [(c["name"], c["provisioningState"]) for c in listed] == [(CLUSTER, "Succeeded")]


def test_nodepool_delete(az: AzCli, cli_emulator):
    done = az("aks", "nodepool", "delete", "-g", RG, "--cluster-name", CLUSTER, "-n", "spot")
    assert done.code == 0, done.stderr
    pools = {
        r["id"].rsplit("/", 1)[-1]
        for r in cli_emulator.inventory("Microsoft.ContainerService/managedClusters/agentPools")
    }
    assert pools == {"nodepool1", "user", "gpu"}


def test_back_to_back_nodepool_add_no_wait_gives_the_second_a_409(az: AzCli, cli_emulator):
    cli_emulator.control(
        "PUT", "operations/hold", {"hold": True}
    )  # the first add is still running when the second comes
    try:
        first = az("aks", "nodepool", "add", *POOL, "-n", "extra1", "--node-count", "1", "--no-wait")
        second = az("aks", "nodepool", "add", *POOL, "-n", "extra2", "--node-count", "1", "--no-wait")
    finally:
        cli_emulator.control("PUT", "operations/hold", {"hold": False})
    assert first.code == 0, first.stderr
    assert second.code != 0
    assert "(OperationNotAllowed)" in second.stderr and "in progress create node pool operation" in second.stderr
    assert "extra1" in second.stderr  # the message names the pool whose operation holds the cluster
    cli_emulator.control("POST", "operations/finish")
    waited = az(
        "aks",
        "nodepool",
        "wait",
        "-g",
        RG,
        "--cluster-name",
        CLUSTER,
        "-n",
        "extra1",
        "--created",
        "--interval",
        "1",
        "--timeout",
        "60",
    )
    assert waited.code == 0, waited.stderr
    pools = {
        r["id"].rsplit("/", 1)[-1]: r["provisioningState"]
        for r in cli_emulator.inventory("Microsoft.ContainerService/managedClusters/agentPools")
    }
    assert pools == {"nodepool1": "Succeeded", "user": "Succeeded", "gpu": "Succeeded", "extra1": "Succeeded"}


def test_aks_delete(az: AzCli, cli_emulator):
    done = az("aks", "delete", "-g", RG, "-n", CLUSTER, "--yes")
    assert done.code == 0, done.stderr
    assert az("aks", "list", "-g", RG, "-o", "json").json == []
    assert cli_emulator.inventory("Microsoft.ContainerService/managedClusters") == []
