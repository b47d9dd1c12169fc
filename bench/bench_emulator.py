"""Benchmark of the ARM emulator: is it ever the bottleneck? (`python -m bench.bench_emulator`; prints, asserts nothing)

The emulator runs as `python -m local.armemu` in a child process pinned to one core (`sched_setaffinity`), with
throttling off and time factor 0 (operations end at the next request), and this process, on the other core, drives it
over HTTPS with keep-alive connections through aiohttp. Figures:
- GETs/s of a managed cluster (the heaviest render: pools composed in) with one cluster, then again with a thousand
  clusters' worth of resources (resource group, VNet + 2 subnets, identity, role assignment, cluster + 4 pools,
  private DNS zone + link, storage account, private endpoint + DNS zone group: 15 resources each);
- the emulator's own CPU time per request (from /proc), i.e. what one core can serve even when the client is slower;
- PUTs/s while populating, and list latency for a resource group with a cluster in it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from local.credential import OfflineCredential

SUB = "00000000-0000-0000-0000-000000000000"
AKS_API, NET_API, RG_API = "2026-08-01", "2026-03-01", "2025-04-01"
ROOT = Path(__file__).resolve().parents[1]


def start_emulator() -> tuple[subprocess.Popen[str], str, str]:
    args = [sys.executable, "-m", "local.armemu", "--time-factor", "0", "--no-throttling"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = json.loads(process.stdout.readline())  # type: ignore[union-attr]
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(process.pid, {0})
        os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))
    return process, ready["baseUrl"], ready["caCert"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_resources(i: int) -> list[tuple[str, str, dict]]:
    """(path, api-version, body) of one cluster's worth of resources, in dependency order."""
    rg = f"/subscriptions/{SUB}/resourceGroups/rg-{i:04d}"
    net = f"{rg}/providers/Microsoft.Network"
    vnet = f"{net}/virtualNetworks/vnet"
    storage = f"{rg}/providers/Microsoft.Storage/storageAccounts/st{i:04d}bench"
    zone = f"{net}/privateDnsZones/privatelink.blob.core.windows.net"
    cluster = f"{rg}/providers/Microsoft.ContainerService/managedClusters/c{i:04d}"
    pool = {"vmSize": "Standard_D4s_v5", "count": 3}
    pools = [
        {"name": "system", "mode": "System", **pool},
        {"name": "apps", "mode": "User", **pool},
        {"name": "batch", "mode": "User", "scaleSetPriority": "Spot", **pool},
        {"name": "gpu", "mode": "User", "vmSize": "Standard_NC4as_T4_v3", "count": 1},
    ]
    loc = {"location": "westeurope"}
    role = (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7"
    )
    return [
        (rg, RG_API, loc),
        (
            vnet,
            NET_API,
            {
                **loc,
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.40.0.0/16"]},
                    "subnets": [
                        {"name": "nodes", "properties": {"addressPrefix": "10.40.0.0/22"}},
                        {"name": "pe", "properties": {"addressPrefix": "10.40.4.0/24"}},
                    ],
                },
            },
        ),
        (f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id", "2024-11-30", loc),
        (
            f"{vnet}/subnets/nodes/providers/Microsoft.Authorization/roleAssignments/{i:08d}-0000-4000-8000-000000000000",
            "2022-04-01",
            {"properties": {"roleDefinitionId": role, "principalId": f"{i:08d}-1111-4111-8111-111111111111"}},
        ),
        (cluster, AKS_API, {**loc, "properties": {"dnsPrefix": f"c{i}", "agentPoolProfiles": pools}}),
        (zone, "2024-06-01", {"location": "global"}),
        (
            f"{zone}/virtualNetworkLinks/link",
            "2024-06-01",
            {"location": "global", "properties": {"virtualNetwork": {"id": vnet}}},
        ),
        (storage, "2024-01-01", {**loc, "sku": {"name": "Standard_LRS"}}),
        (
            f"{net}/privateEndpoints/pe",
            NET_API,
            {
                **loc,
                "properties": {
                    "subnet": {"id": f"{vnet}/subnets/pe"},
                    "privateLinkServiceConnections": [
                        {"name": "c", "properties": {"privateLinkServiceId": storage, "groupIds": ["blob"]}}
                    ],
                },
            },
        ),
        (
            f"{net}/privateEndpoints/pe/privateDnsZoneGroups/default",
            NET_API,
            {"properties": {"privateDnsZoneConfigs": [{"name": "blob", "properties": {"privateDnsZoneId": zone}}]}},
        ),
    ]


class Driver:
    def __init__(self, base_url: str, ca_cert: str, concurrency: int) -> None:
        self.base_url = base_url
        token = OfflineCredential().get_token("https://management.azure.com/.default").token
        self.headers = {"Authorization": f"Bearer {token}"}
        context = ssl.create_default_context(cafile=ca_cert)
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=concurrency))
        self.concurrency = concurrency

    async def call(self, method: str, path: str, api: str, body: dict | None = None) -> int:
        url = f"{self.base_url}{path}?api-version={api}"
        async with self.session.request(method, url, json=body, headers=self.headers) as response:
            await response.read()
            return response.status

    async def control(self, method: str, name: str, body: dict | None = None) -> dict:
        async with self.session.request(method, f"{self.base_url}/_emulator/{name}", json=body) as response:
            return await response.json()

    async def populate(self, clusters: int) -> tuple[int, float]:
        """Create `clusters` clusters' worth of resources, `concurrency` clusters at a time; returns (PUTs, seconds)."""
        queue = list(range(clusters))
        puts = 0

        async def worker() -> None:
            nonlocal puts
            while queue:
                for path, api, body in cluster_resources(queue.pop()):
                    status = await self.call("PUT", path, api, body)
                    if status >= 300:
                        raise RuntimeError(f"PUT {path} -> {status}")
                    puts += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return puts, time.perf_counter() - started

    async def hammer(self, paths: list[tuple[str, str]], seconds: float, pid: int) -> dict[str, float]:
        """GET random paths for `seconds` from `concurrency` workers; returns rate, latency and server CPU figures."""
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds
        rng = random.Random(1)

        async def worker() -> None:
            while time.perf_counter() < deadline:
                path, api = rng.choice(paths)
                started = time.perf_counter()
                status = await self.call("GET", path, api)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"GET {path} -> {status}")

        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
        latencies.sort()
        return {
            "gets": len(latencies),
            "per_second": len(latencies) / elapsed,
            "server_cpu_s": cpu,
            "gets_per_server_cpu_s": len(latencies) / cpu if cpu else float("inf"),
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        }


def report(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label:<44} {figures['per_second']:>8.0f} GET/s  {figures['gets_per_server_cpu_s']:>8.0f} GET/server-CPU-s"
        f"  p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms  ({figures['gets']} GETs)",
        flush=True,
    )


async def run(args: argparse.Namespace) -> None:
    process, base_url, ca_cert = start_emulator()
    driver = Driver(base_url, ca_cert, args.concurrency)
    try:
        await driver.control(
            "PUT",
            "quota",
            {
                "*": {
                    "standardDSv5Family": 10**9,
                    "cores": 10**9,
                    "lowPriorityCores": 10**9,
                    "Standard NCASv3_T4 Family": 10**9,
                }
            },
        )
        await driver.populate(1)
        one = [(cluster_resources(0)[4][0], AKS_API)]
        report("GET cluster, 1 cluster", await driver.hammer(one, args.seconds, process.pid))
        puts, seconds = await driver.populate(args.clusters)
        inventory = await driver.control("GET", "inventory")
        print(
            f"populated {args.clusters} clusters: {puts} PUTs in {seconds:.1f} s = {puts / seconds:.0f} PUT/s; "
            f"{inventory['count']} resources in the emulator",
            flush=True,
        )
        many = [(cluster_resources(i)[4][0], AKS_API) for i in range(args.clusters)]
        report(f"GET cluster, {args.clusters} clusters", await driver.hammer(many, args.seconds, process.pid))
        mixed = [(path, api) for i in range(0, args.clusters, 7) for path, api, _ in cluster_resources(i)]
        report(
            f"GET any resource type, {args.clusters} clusters", await driver.hammer(mixed, args.seconds, process.pid)
        )
        lists = [
            (
                f"/subscriptions/{SUB}/resourceGroups/rg-{i:04d}/providers/Microsoft.ContainerService/managedClusters/"
                f"c{i:04d}/agentPools",
                AKS_API,
            )
            for i in range(args.clusters)
        ]
        report(f"LIST agent pools, {args.clusters} clusters", await driver.hammer(lists, args.seconds, process.pid))
    finally:
        await driver.session.close()
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_emulator", description=__doc__)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each GET measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    print(
        f"ARM emulator benchmark: {os.cpu_count()} CPUs, emulator pinned to CPU 0, {args.concurrency} connections",
        flush=True,
    )
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
