"""The baseline aksvend is measured against: what a careful `az aks` script does, with the sync SDK clients.

Each resource is created and waited for in turn (`begin_*().result()`, the SDK's own poller, which honours the
server's Retry-After), in the order a script must use so that every reference exists: resource group, identity,
VNet (with its subnets), the Network Contributor role assignment on the node subnet, the private DNS zone and its
VNet link, the private endpoint and its DNS zone group, then the cluster with only its system pool (`az aks create`),
then each user pool added one by one through the agentPools API (`az aks nodepool add`), each waited for, then
the maintenance windows (`az aks maintenanceconfiguration add`).

The request bodies are the plan's own (so both sides ask ARM for the same resources); the only value a script must
look up between steps, the identity's principalId, comes from the identity create's response, as
`az identity create --query principalId` would give it.

`python -m bench.baseline_az --base-url URL --ca-cert PATH` runs it once against a running emulator.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from local.credential import OfflineCredential
from shared.domain.arm import agent_pool_properties
from shared.domain.examples import PRODUCTION_REQUEST
from shared.domain.operations import resolve
from shared.domain.plan import plan
from shared.domain.rules import check

SUB = "00000000-0000-0000-0000-000000000000"


def _wire(model: Any) -> dict[str, Any]:
    """A response model as the JSON ARM sent (msrest models serialize, TypeSpec models are dicts already)."""
    if hasattr(model, "serialize"):
        return model.serialize(keep_readonly=True)
    return model.as_dict()


def provision(base_url: str, ca_cert: str, raw: Mapping[str, Any] = PRODUCTION_REQUEST) -> dict[str, Any]:
    """Create everything the production request asks for, one resource after the other; returns the timings."""
    request, violations = check(dict(raw), default_subscription_id=SUB)
    if request is None:
        raise ValueError(f"invalid request: {violations}")
    p = plan(request)
    res = {r.key: r for r in p.resources}
    kw = {"credential": OfflineCredential(), "subscription_id": SUB, "base_url": base_url,
          "connection_verify": ca_cert}
    resources, msi = ResourceManagementClient(**kw), ManagedServiceIdentityClient(**kw)
    network, dns = NetworkManagementClient(**kw), PrivateDnsManagementClient(**kw)
    auth, aks = AuthorizationManagementClient(**kw), ContainerServiceClient(**kw)
    rg = request.resource_group
    outputs: dict[str, dict[str, Any]] = {}
    timings: list[dict[str, Any]] = []

    def body(key: str) -> Any:
        return resolve(res[key].body, outputs, lambda name: "Aksvend-Bench-Secret-1")

    def step(name: str, create: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        result = create()
        timings.append({"step": name, "seconds": round(time.perf_counter() - t0, 3)})
        return result

    def name_of(key: str) -> str:
        return res[key].id.rsplit("/", 1)[1]

    started = time.perf_counter()
    try:
        step("resourceGroup", lambda: resources.resource_groups.create_or_update(rg, body("resourceGroup")))
        identity = step("identity", lambda: msi.user_assigned_identities.create_or_update(
            rg, name_of("identity"), body("identity")))
        outputs["identity"] = {"properties.principalId": _wire(identity)["properties"]["principalId"]}
        step("vnet", lambda: network.virtual_networks.begin_create_or_update(
            rg, name_of("vnet"), body("vnet")).result())
        role = res["roleAssignment"]
        scope, _, role_name = role.id.rpartition("/providers/Microsoft.Authorization/roleAssignments/")
        step("roleAssignment", lambda: auth.role_assignments.create(scope, role_name, body("roleAssignment")))
        for key in [k for k in res if k.startswith("dnsZone:")]:
            link = key.replace("dnsZone:", "dnsLink:")
            zone = name_of(key)
            step(key, lambda key=key, zone=zone: dns.private_zones.begin_create_or_update(
                rg, zone, body(key)).result())
            step(link, lambda link=link, zone=zone: dns.virtual_network_links.begin_create_or_update(
                rg, zone, name_of(link), body(link)).result())
        for key in [k for k in res if k.startswith("privateEndpoint:")]:
            group = key.replace("privateEndpoint:", "dnsZoneGroup:")
            endpoint = name_of(key)
            step(key, lambda key=key, endpoint=endpoint: network.private_endpoints.begin_create_or_update(
                rg, endpoint, body(key)).result())
            step(group, lambda group=group, endpoint=endpoint: network.private_dns_zone_groups.begin_create_or_update(
                rg, endpoint, name_of(group), body(group)).result())
        cluster = body("cluster")
        cluster["properties"]["agentPoolProfiles"] = [a for a in cluster["properties"]["agentPoolProfiles"]
                                                      if a["mode"] == "System"]
        step("cluster (system pool only)", lambda: aks.managed_clusters.begin_create_or_update(
            rg, request.name, cluster).result())
        for pool in request.user_pools:
            pool_body = {"properties": agent_pool_properties(request, pool, system=False)}
            step(f"agentPool:{pool.name}", lambda pool=pool, pool_body=pool_body:
                 aks.agent_pools.begin_create_or_update(rg, request.name, pool.name, pool_body).result())
        for key in [k for k in res if k.startswith("maintenance:")]:  # synchronous in ARM
            step(key, lambda key=key: aks.maintenance_configurations.create_or_update(
                rg, request.name, key.split(":", 1)[1], body(key)))
    finally:
        for client in (resources, msi, network, dns, auth, aks):
            client.close()
    return {"seconds": round(time.perf_counter() - started, 3), "steps": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca-cert", required=True)
    args = parser.parse_args()
    print(json.dumps(provision(args.base_url, args.ca_cert), indent=2))


if __name__ == "__main__":
    main()
