"""The honest baseline: the real Azure CLI (azure-cli pinned in requirements-azcli.txt, `.venv-azcli/bin/az`) run
command by command as a careful operator would, each waiting for its resource before the next, for the same
production setup aksvend builds (shared/domain/examples.py: the production profile and one private endpoint).

The commands (what `az` needs between them: the identity's principalId and resource ids, which the script passes on):
`az group create`; `az identity create`; `az network vnet create` with the node subnet and its service endpoints,
`az network vnet subnet create` for the private endpoints' subnet; `az role assignment create` (Network
Contributor on the node subnet for the cluster identity); `az network private-dns zone create` and `link vnet
create`; `az network private-endpoint create` and `dns-zone-group create`; `az aks create` with the system pool
(3 x Standard_D4s_v5 over zones 1 2 3, CriticalAddonsOnly taint, Azure CNI Overlay, the identity, the subnet);
then `az aks nodepool add` for `apps`, `gpu` and `batch` (spot), each waited for; then `az aks
maintenanceconfiguration add` for the two maintenance windows. The production profile's options go in as az's flags
(`--enable-private-cluster`, `--enable-aad --enable-azure-rbac`, `--disable-local-accounts`, `--enable-oidc-issuer
--enable-workload-identity`, `--network-dataplane cilium --network-policy cilium`, `--os-sku`).

Left out on purpose, against aksvend's request: the monitoring add-on (`--enable-addons monitoring` makes az create
a default Log Analytics workspace and data collection rules first, which would only add to az's time); everything
else the plan sets that az has a flag for is passed.

`python -m bench.baseline_azcli --base-url URL --ca-cert PATH` runs it once against a running emulator; `--print`
prints the commands.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shared.domain.examples import PRODUCTION_REQUEST
from shared.domain.plan import plan
from shared.domain.rules import check

SUB = "00000000-0000-0000-0000-000000000000"
Az = Callable[..., Any]  # runs `az <args> -o json`, returns the parsed output, raises when az exits non-zero


def commands(raw: Mapping[str, Any] = PRODUCTION_REQUEST) -> tuple[list[tuple[str, list[str]]], dict[str, str]]:
    """The operator's script for the request: (step name, az arguments) in order, with `{principalId}` to fill in
    from the identity's creation; and the names the script uses."""
    request, violations = check(dict(raw), default_subscription_id=SUB)
    if request is None:
        raise ValueError(f"invalid request: {violations}")
    p = plan(request)
    res = {r.key: r for r in p.resources}
    rg, loc, name = request.resource_group, request.location, request.name
    vnet = res["vnet"].body["properties"]
    nodes, endpoints = vnet["subnets"][0], vnet["subnets"][1]
    vnet_name = res["vnet"].id.rsplit("/", 1)[1]
    identity_id = res["identity"].id
    subnet_id = f"{res['vnet'].id}/subnets/{nodes['name']}"
    cluster = res["cluster"].body["properties"]
    system = next(a for a in cluster["agentPoolProfiles"] if a["mode"] == "System")
    net = cluster["networkProfile"]
    script: list[tuple[str, list[str]]] = [
        ("resourceGroup", ["group", "create", "-n", rg, "-l", loc]),
        ("identity", ["identity", "create", "-g", rg, "-n", identity_id.rsplit("/", 1)[1], "-l", loc]),
        ("vnet", ["network", "vnet", "create", "-g", rg, "-n", vnet_name, "-l", loc,
                  "--address-prefixes", *vnet["addressSpace"]["addressPrefixes"],
                  "--subnet-name", nodes["name"], "--subnet-prefixes", nodes["properties"]["addressPrefix"]]),
        ("subnet service endpoints", ["network", "vnet", "subnet", "update", "-g", rg, "--vnet-name", vnet_name,
                                      "-n", nodes["name"], "--service-endpoints",
                                      *(e["service"] for e in nodes["properties"]["serviceEndpoints"])]),
        ("subnet for private endpoints", ["network", "vnet", "subnet", "create", "-g", rg, "--vnet-name", vnet_name,
                                          "-n", endpoints["name"], "--address-prefixes",
                                          endpoints["properties"]["addressPrefix"],
                                          "--private-endpoint-network-policies", "Disabled"]),
        ("roleAssignment", ["role", "assignment", "create", "--assignee-object-id", "{principalId}",
                            "--assignee-principal-type", "ServicePrincipal", "--role", "Network Contributor",
                            "--scope", subnet_id]),
    ]
    for key in [k for k in res if k.startswith("dnsZone:")]:
        zone = res[key].id.rsplit("/", 1)[1]
        link = res[key.replace("dnsZone:", "dnsLink:")].id.rsplit("/", 1)[1]
        script += [(key, ["network", "private-dns", "zone", "create", "-g", rg, "-n", zone]),
                   (f"dnsLink:{zone}", ["network", "private-dns", "link", "vnet", "create", "-g", rg, "-z", zone,
                                        "-n", link, "-v", vnet_name, "-e", "false"])]
    for key in [k for k in res if k.startswith("privateEndpoint:")]:
        endpoint = res[key]
        connection = endpoint.body["properties"]["privateLinkServiceConnections"][0]
        group = res[key.replace("privateEndpoint:", "dnsZoneGroup:")]
        zone_config = group.body["properties"]["privateDnsZoneConfigs"][0]
        pe_name = endpoint.id.rsplit("/", 1)[1]
        script += [(key, ["network", "private-endpoint", "create", "-g", rg, "-n", pe_name, "-l", loc,
                          "--vnet-name", vnet_name, "--subnet", endpoints["name"],
                          "--private-connection-resource-id", connection["properties"]["privateLinkServiceId"],
                          "--group-id", *connection["properties"]["groupIds"],
                          "--connection-name", connection["name"]]),
                   (f"dnsZoneGroup:{pe_name}", ["network", "private-endpoint", "dns-zone-group", "create", "-g", rg,
                                                "--endpoint-name", pe_name, "-n", group.id.rsplit("/", 1)[1],
                                                "--private-dns-zone", zone_config["properties"]["privateDnsZoneId"],
                                                "--zone-name", zone_config["name"]])]
    script.append(("cluster (system pool only)", [
        "aks", "create", "-g", rg, "-n", name, "-l", loc, "--kubernetes-version", cluster["kubernetesVersion"],
        "--tier", res["cluster"].body["sku"]["tier"].lower(), "--dns-name-prefix", cluster["dnsPrefix"],
        "--nodepool-name", system["name"], "--node-count", str(system["count"]), "--node-vm-size", system["vmSize"],
        "--zones", *system["availabilityZones"], "--nodepool-taints", *system["nodeTaints"],
        "--nodepool-labels", *(f"{k}={v}" for k, v in system["nodeLabels"].items()),
        "--max-pods", str(system["maxPods"]), "--network-plugin", net["networkPlugin"],
        "--network-plugin-mode", net["networkPluginMode"], "--pod-cidr", net["podCidr"],
        "--service-cidr", net["serviceCidr"], "--dns-service-ip", net["dnsServiceIP"],
        "--vnet-subnet-id", subnet_id, "--assign-identity", identity_id, "--skip-subnet-role-assignment",
        "--enable-addons", "azure-policy", "--auto-upgrade-channel", cluster["autoUpgradeProfile"]["upgradeChannel"],
        "--node-os-upgrade-channel", cluster["autoUpgradeProfile"]["nodeOSUpgradeChannel"], "--no-ssh-key",
        *_production_flags(cluster, system)]))
    for pool in [a for a in cluster["agentPoolProfiles"] if a["mode"] != "System"]:
        script.append((f"agentPool:{pool['name']}", _nodepool_add(rg, name, pool)))
    for key in [k for k in res if k.startswith("maintenance:")]:
        window = res[key].body["properties"]["maintenanceWindow"]
        script.append((key, ["aks", "maintenanceconfiguration", "add", "-g", rg, "--cluster-name", name,
                             "-n", key.split(":", 1)[1], "--schedule-type", "Weekly",
                             "--interval-weeks", str(window["schedule"]["weekly"]["intervalWeeks"]),
                             "--day-of-week", window["schedule"]["weekly"]["dayOfWeek"],
                             "--start-time", window["startTime"], "--duration", str(window["durationHours"]),
                             "--utc-offset", window["utcOffset"]]))
    return script, {"resourceGroup": rg, "cluster": name}


def _production_flags(cluster: Mapping[str, Any], system: Mapping[str, Any]) -> list[str]:
    """az aks create's flags for the production profile's options the plan sets (private API server, Entra ID with
    Azure RBAC, no local accounts, OIDC and workload identity, Cilium, the OS SKU)."""
    flags: list[str] = []
    api = cluster.get("apiServerAccessProfile") or {}
    if api.get("enablePrivateCluster"):
        flags += ["--enable-private-cluster", "--private-dns-zone", api.get("privateDNSZone", "system")]
    aad = cluster.get("aadProfile") or {}
    if aad.get("managed"):
        flags.append("--enable-aad")
        if aad.get("enableAzureRBAC"):
            flags.append("--enable-azure-rbac")
    if cluster.get("disableLocalAccounts"):
        flags.append("--disable-local-accounts")
    if (cluster.get("oidcIssuerProfile") or {}).get("enabled"):
        flags.append("--enable-oidc-issuer")
    if ((cluster.get("securityProfile") or {}).get("workloadIdentity") or {}).get("enabled"):
        flags.append("--enable-workload-identity")
    net = cluster["networkProfile"]
    if net.get("networkDataplane"):
        flags += ["--network-dataplane", net["networkDataplane"]]
    if net.get("networkPolicy"):
        flags += ["--network-policy", net["networkPolicy"]]
    if system.get("osSKU"):
        flags += ["--os-sku", system["osSKU"]]
    return flags


def _nodepool_add(rg: str, cluster: str, pool: Mapping[str, Any]) -> list[str]:
    args = ["aks", "nodepool", "add", "-g", rg, "--cluster-name", cluster, "-n", pool["name"],
            "--node-count", str(pool["count"]), "--node-vm-size", pool["vmSize"], "--max-pods", str(pool["maxPods"]),
            "--vnet-subnet-id", pool["vnetSubnetID"], "--mode", "User",
            "--labels", *(f"{k}={v}" for k, v in pool.get("nodeLabels", {}).items())]
    if pool.get("osSKU"):
        args += ["--os-sku", pool["osSKU"]]
    if pool.get("availabilityZones"):
        args += ["--zones", *pool["availabilityZones"]]
    if pool.get("nodeTaints"):
        args += ["--node-taints", ",".join(pool["nodeTaints"])]
    if pool.get("enableAutoScaling"):
        args += ["--enable-cluster-autoscaler", "--min-count", str(pool["minCount"]),
                 "--max-count", str(pool["maxCount"])]
    if pool.get("scaleSetPriority") == "Spot":
        args += ["--priority", "Spot", "--eviction-policy", pool["scaleSetEvictionPolicy"],
                 "--spot-max-price", str(pool["spotMaxPrice"])]
    return args


def provision(az: Az, raw: Mapping[str, Any] = PRODUCTION_REQUEST) -> dict[str, Any]:
    """Run the script with `az`, each command waited for; returns the total and each command's seconds."""
    script, _ = commands(raw)
    filled: dict[str, str] = {}
    timings: list[dict[str, Any]] = []
    started = time.perf_counter()
    for step, args in script:
        t0 = time.perf_counter()
        out = az(*(a.format(**filled) if "{" in a else a for a in args))
        timings.append({"step": step, "seconds": round(time.perf_counter() - t0, 3)})
        if step == "identity":
            filled["principalId"] = out["principalId"]
    return {"seconds": round(time.perf_counter() - started, 3), "commands": len(script), "steps": timings}


def logged_in(base_url: str, ca_cert: str, subscription: str = SUB) -> Az:
    """az (`.venv-azcli/bin/az`, which `make test` installs) with a config folder of its own, logged in to the
    emulator by docs/emulator.md's recipe exactly as the cli test tier runs it (tests/cli/azcli.py: no telemetry,
    nothing beyond 127.0.0.1)."""
    from tests.cli.azcli import AZ, AzCli, recipe_lines

    if not AZ.exists():
        raise RuntimeError(f"{AZ} is missing: `make test` (or `make .venv-azcli/.installed`) installs azure-cli")
    cli = AzCli(Path(tempfile.mkdtemp(prefix="aksvend-bench-az-")), base_url, ca_cert, subscription)
    done = cli.login(recipe_lines())
    if done.returncode != 0:
        raise RuntimeError(f"the documented az recipe failed: {done.stderr[-2000:]}")

    def az(*args: str) -> Any:
        return cli(*args, "-o", "json").json

    return az


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the commands instead of running them")
    parser.add_argument("--base-url")
    parser.add_argument("--ca-cert")
    args = parser.parse_args()
    script, _ = commands()
    if args.print or not args.base_url:
        for step, argv in script:
            print(f"# {step}\naz {' '.join(argv)}")
        return
    print(json.dumps(provision(logged_in(args.base_url, args.ca_cert)), indent=2))


if __name__ == "__main__":
    main()
