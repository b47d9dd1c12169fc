"""`GET .../managedClusters/{name}/upgradeProfiles/default`: the upgrades AKS offers a cluster.

The body is a `ManagedClusterUpgradeProfile` (api-version 2026-08-01, what azure-mgmt-containerservice's
`managed_clusters.get_upgrade_profile` reads): `id`, `name` "default", `type`, and `properties` with the
`controlPlaneProfile` (the cluster's current version, `osType` Linux, `upgrades`) and one `agentPoolProfiles` entry
per pool (its current version, OS type and upgrades). The upgrades come from the emulator's version table
(`World.versions`, versions.py): the newer patches of the current minor and the patches of the next minor.
Only GET, only the name `default`; a missing cluster is 404 `ResourceNotFound`.
"""

from __future__ import annotations

from typing import Any

from ..errors import method_not_allowed, no_route, resource_not_found
from ..store import Resource
from ..world import Call, Reply
from .aks_common import CLUSTERS, POOLS
from .base import ResourceType

PROFILES = "Microsoft.ContainerService/managedClusters/upgradeProfiles"


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
