"""`GET .../managedClusters/{name}/upgradeProfiles/default`: the upgrades AKS offers a cluster.

The body is a `ManagedClusterUpgradeProfile` (api-version 2026-08-01, what azure-mgmt-containerservice's
`managed_clusters.get_upgrade_profile` reads): `id`, `name` "default", `type`, and `properties` with the
`controlPlaneProfile` (the cluster's current version, `osType` Linux, `upgrades`) and one `agentPoolProfiles` entry
per pool (its current version, OS type and upgrades). The upgrades come from the emulator's version table
(`World.versions`, versions.py): the newer patches of the current minor and the patches of the next minor.
Only GET, only the name `default`; a missing cluster is 404 `ResourceNotFound`.

`GET .../agentPools/{pool}/upgradeProfiles/default` (`az aks nodepool get-upgrades`; REST
`AgentPools_GetUpgradeProfile`, what `agent_pools.get_upgrade_profile` reads) is an `AgentPoolUpgradeProfile`:
`properties.kubernetesVersion` (the pool's current version), `osType`, `upgrades` and `latestNodeImageVersion`. A pool
may not run newer than its control plane (AKS's version skew rule), so it is offered only the upgrades up to the
control plane's current version.
"""

from __future__ import annotations

from typing import Any

from ..errors import method_not_allowed, no_route, resource_not_found
from ..store import Resource
from ..versions import parse
from ..world import Call, Reply
from .aks_common import CLUSTERS, NODE_IMAGE, POOLS
from .base import ResourceType

PROFILES = "Microsoft.ContainerService/managedClusters/upgradeProfiles"
POOL_PROFILES = "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles"


class UpgradeProfiles(ResourceType):
    type_name = PROFILES
    scope_kind = "child"

    def get(self, call: Call) -> Reply:
        path = call.path
        self.require_resource_group(path)
        cluster = self.world.store.get(path.parent_id)
        if cluster is None or cluster.type != CLUSTERS:
            raise resource_not_found(CLUSTERS, path.names[0], path.resource_group)
        if path.name.lower() != "default":
            raise resource_not_found(PROFILES, "/".join(path.names), path.resource_group)
        return Reply(200, self.profile(cluster))

    def profile(self, cluster: Resource) -> dict[str, Any]:
        versions = self.world.versions
        current = cluster.properties.get("currentKubernetesVersion") or versions.resolve(
            cluster.properties.get("kubernetesVersion") or versions.default())
        pools = []
        for pool in self.world.store.children(cluster.id, POOLS):
            running = pool.properties.get("currentOrchestratorVersion") or current
            pools.append({"name": pool.name, "kubernetesVersion": running,
                          "osType": pool.properties.get("osType", "Linux"), "upgrades": versions.upgrades(running)})
        return {
            "id": f"{cluster.id}/upgradeProfiles/default",
            "name": "default",
            "type": PROFILES,
            "properties": {
                "controlPlaneProfile": {"kubernetesVersion": current, "name": None, "osType": "Linux",
                                        "upgrades": versions.upgrades(current)},
                "agentPoolProfiles": pools,
            },
        }

    def list(self, call: Call) -> Reply:
        raise no_route(call.method, call.path.resource_id)

    def put(self, call: Call) -> Reply:
        raise method_not_allowed(call.method, self.type_name)

    def patch(self, call: Call) -> Reply:
        raise method_not_allowed(call.method, self.type_name)

    def delete(self, call: Call) -> Reply:
        raise method_not_allowed(call.method, self.type_name)


class AgentPoolUpgradeProfiles(UpgradeProfiles):
    type_name = POOL_PROFILES

    def get(self, call: Call) -> Reply:
        path = call.path
        self.require_resource_group(path)
        cluster = self.world.store.get(path.parent_id.rsplit("/", 2)[0])
        if cluster is None or cluster.type != CLUSTERS:
            raise resource_not_found(CLUSTERS, path.names[0], path.resource_group)
        pool = self.world.store.get(path.parent_id)
        if pool is None or pool.type != POOLS:
            raise resource_not_found(POOLS, "/".join(path.names[:2]), path.resource_group)
        if path.name.lower() != "default":
            raise resource_not_found(POOL_PROFILES, "/".join(path.names), path.resource_group)
        return Reply(200, self.pool_profile(cluster, pool))

    def pool_profile(self, cluster: Resource, pool: Resource) -> dict[str, Any]:
        versions = self.world.versions
        plane = cluster.properties.get("currentKubernetesVersion") or versions.default()
        running = pool.properties.get("currentOrchestratorVersion") or plane
        ceiling = parse(plane) or (0, 0, 0)
        upgrades = [u for u in versions.upgrades(running) if (parse(u["kubernetesVersion"]) or ceiling) <= ceiling]
        return {
            "id": f"{pool.id}/upgradeProfiles/default",
            "name": "default",
            "type": POOL_PROFILES,
            "properties": {"kubernetesVersion": running, "osType": pool.properties.get("osType", "Linux"),
                           "upgrades": upgrades,
                           "latestNodeImageVersion": pool.properties.get("nodeImageVersion") or NODE_IMAGE},
        }
