"""Microsoft.ContainerService managed clusters and agent pools, behaving like AKS where it matters.

- One mutating operation per cluster: pool operations take the cluster's lock too. A second one gets 409
  `OperationNotAllowed`; during a delete everything else is refused. A cluster DELETE cancels a running operation.
- Pools live as child resources; a cluster's `agentPoolProfiles` is rendered from them. At creation a cluster PUT
  may carry several pools; afterwards adding or removing pools through the cluster PUT is a 400.
- AKS fills in `nodeResourceGroup` (`MC_<rg>_<cluster>_<location>`, created as a resource group), `fqdn`,
  `powerState`, the spot label and taint, and, only once the create has finished, `identityProfile` (kubelet
  identity, created in the node resource group).
- Secrets sent in (a service principal's `secret`, `windowsProfile.adminPassword`) are kept but never returned.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..armid import derived_uuid
from ..errors import invalid, no_route
from ..lro import Operation
from ..store import Resource
from ..workmodel import cluster_create_seconds
from ..world import Call, Reply
from . import aks_actions, aks_features, aks_power, byo_network
from . import aks_refusals as refuse
from . import aks_rules as rules
from . import aks_upgrades as upgrades
from .aks_common import CLUSTERS, POOLS, AksType, pool_defaults, short_hash
from .base import normalize_location
from .compute import check_quota
from .loganalytics import check_monitoring

# Write-only properties: AKS keeps them but never returns them (the REST reference marks them write-only;
# the Azure CLI's recorded cluster bodies show `servicePrincipalProfile` with `clientId` only).
SECRET_PROPERTIES = (
    ("servicePrincipalProfile", "secret"),
    ("windowsProfile", "adminPassword"),
    ("aadProfile", "serverAppSecret"),
)

DEFAULT_SKU = {"name": "Base", "tier": "Free"}


class ManagedClusters(AksType):
    type_name = CLUSTERS
    patch_mode = "async"

    def guard(self, call: Call, existing: Resource | None) -> None:
        self.guard_cluster(existing)
        if call.method in ("PUT", "PATCH"):
            aks_power.refuse_if_stopped(existing, "updating")

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        rules.check_cluster_name(call.path.name)
        props = body.get("properties") or {}
        rules.check_windows_profile(props.get("windowsProfile"))
        check_monitoring(self.world, props.get("addonProfiles", existing and existing.properties.get("addonProfiles")))
        profiles = props.get("agentPoolProfiles") or []
        stored = {str(p["vnetSubnetID"]): self.world.store.get(str(p["vnetSubnetID"]))
                  for p in profiles if p.get("vnetSubnetID")}
        subnets = {k: None if v is None else v.body for k, v in stored.items()}
        aks_features.check_cluster(props, body, existing.properties if existing else None, subnets)
        byo_network.check_subnets_exist(subnets)
        location = normalize_location(body.get("location") or (existing and existing.body.get("location")) or "")
        for profile in profiles:
            refuse.check_pool_request(self.world.versions, profile.get("name", ""), profile, location)
        if existing is None:
            rules.check_pool_set(profiles)
            refuse.check_version(self.world.versions, props.get("kubernetesVersion"), pool=False)
            plane = self.world.versions.resolve(props.get("kubernetesVersion") or self.world.versions.default())
            for profile in profiles:
                rules.check_pool(profile.get("name", ""), profile, props, None)
                refuse.check_skew(self.world.versions.resolve(profile.get("orchestratorVersion") or plane), plane)
            shaped = [pool_defaults("", p, props, self.world.versions) for p in profiles]
            check_quota(self.world, call.path.subscription, location, shaped, set())
            return
        self._check_update(props, existing)
        pools = {p.name.lower(): p for p in self.world.store.children(existing.id, POOLS)}
        plane = str(props.get("kubernetesVersion") or existing.properties.get("kubernetesVersion"))
        refuse.check_profile_versions(profiles, {k: p.properties for k, p in pools.items()}, plane)
        wanted = {p.get("name", "").lower() for p in profiles}
        if profiles and wanted - set(pools):
            raise invalid(
                "Adding agent pools to an existing cluster is not allowed through managed cluster "
                "operations. Use the agentPools API to add pools.",
                "agentPoolProfiles",
            )
        if profiles and set(pools) - wanted:
            raise invalid(
                "Removing agent pools from an existing cluster is not allowed through managed cluster "
                "operations. Use the agentPools API to delete pools.",
                "agentPoolProfiles",
            )
        merged = {**existing.properties, **props}
        for profile in profiles:
            rules.check_pool(profile["name"], profile, merged, pools[profile["name"].lower()].properties)

    def _check_update(self, props: dict[str, Any], existing: Resource) -> None:
        """What AKS refuses on an existing cluster: fixed properties, unknown versions, skipped minors, downgrades."""
        old = existing.properties
        refuse.check_cluster_change(old, props)
        refuse.check_version(self.world.versions, props.get("kubernetesVersion"), pool=False)
        if props.get("kubernetesVersion"):
            current = old.get("currentKubernetesVersion")
            refuse.check_upgrade(self.world.versions, current,
                                 self.world.versions.running(props["kubernetesVersion"], current))

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        props = stored["properties"]
        path = call.path
        old = existing.properties if existing else {}
        location = stored["location"]
        if not props.get("kubernetesVersion"):  # absent or "" (the CLI's "not set"): kept, or AKS's default
            props["kubernetesVersion"] = old.get("kubernetesVersion") or self.world.versions.default()
        props["currentKubernetesVersion"] = old.get("currentKubernetesVersion") or self.world.versions.running(
            props["kubernetesVersion"], None)  # an upgrade moves it when the control plane's stage ends
        if not props.get("dnsPrefix"):  # absent or "": kept, or made up as AKS does
            props["dnsPrefix"] = (
                old.get("dnsPrefix") or f"{path.name[:10]}-{path.resource_group[:16]}-{path.subscription[:6]}")
        suffix = short_hash(path.resource_id)
        props["fqdn"] = f"{props['dnsPrefix']}-{suffix}.hcp.{location}.azmk8s.io"
        props["azurePortalFQDN"] = f"{props['dnsPrefix']}-{suffix}.portal.hcp.{location}.azmk8s.io"
        aks_features.fill(props, path.resource_id, location, suffix, self.world.settings.tenant_id)
        props["nodeResourceGroup"] = (
            old.get("nodeResourceGroup")
            or props.get("nodeResourceGroup")
            or (f"MC_{path.resource_group}_{path.name}_{location}")
        )
        props["maxAgentPools"] = rules.MAX_POOLS
        # AKS's defaults when the request names none (Azure CLI recordings test_aks_create_default, 2023, and
        # test_aks_nodepool_stop_and_start, 2025): the Free tier and community support.
        stored["sku"] = stored.get("sku") or (existing.body.get("sku") if existing else None) or dict(DEFAULT_SKU)
        props["supportPlan"] = props.get("supportPlan") or old.get("supportPlan") or "KubernetesOfficial"
        props["powerState"] = old.get("powerState") or {"code": "Running"}
        network = {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "podCidr": "10.244.0.0/16",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
            "outboundType": "loadBalancer",
            "loadBalancerSku": "standard",
            **(old.get("networkProfile") or {}),
            **(props.get("networkProfile") or {}),
        }
        if network.get("networkPluginMode") != "overlay" and "podCidr" not in (props.get("networkProfile") or {}):
            network.pop("podCidr", None)
        props["networkProfile"] = network
        if "identityProfile" in old:
            props["identityProfile"] = old["identityProfile"]
        self._fill_identity(stored, path.resource_id)
        stored["extra_pools"] = props.pop("agentPoolProfiles", None) or []
        return stored

    def _fill_identity(self, stored: dict[str, Any], rid: str) -> None:
        identity = stored.get("identity")
        if not identity:
            return
        kind = identity.get("type", "")
        if kind == "SystemAssigned":
            identity.update(principalId=derived_uuid(rid, "system"), tenantId=self.world.settings.tenant_id)
        for uai_id in list((identity.get("userAssignedIdentities") or {}).keys()):
            uai = self.world.store.get(uai_id)
            if uai is None:
                raise invalid(f"User assigned identity '{uai_id}' was not found.", "identity.userAssignedIdentities")
            identity["userAssignedIdentities"][uai_id] = {
                "principalId": uai.properties["principalId"],
                "clientId": uai.properties["clientId"],
            }

    def extra_children(self, resource: Resource) -> None:
        profiles = resource.body.pop("extra_pools", [])
        state = resource.properties["provisioningState"]
        for profile in profiles:
            name = profile["name"]
            pool_id = f"{resource.id}/agentPools/{name}"
            pool = self.world.store.get(pool_id)
            before = pool.properties if pool else {}
            props = pool_defaults(
                name, {**before, **{k: v for k, v in profile.items() if not rules.is_blank(k, v)}},
                resource.properties, self.world.versions,
                before.get("currentOrchestratorVersion"),
            )
            props["currentOrchestratorVersion"] = before.get("currentOrchestratorVersion") or props[
                "currentOrchestratorVersion"]  # an existing pool's moves when its last upgrade batch ends
            aks_power.keep_through_cluster_put(props, pool, profile)
            props["provisioningState"] = state
            body = {"id": pool_id, "name": name, "type": POOLS, "properties": props}
            if pool is None:
                self.world.store.add(Resource(pool_id, POOLS, body, resource.id, resource.subscription, False))
            else:
                pool.body = body

    def kind(self, body: dict[str, Any], existing: Resource | None) -> str:
        """`upgrade` when the PUT moves the control plane's version or a pool's (aks_upgrades.py)."""
        if existing is None:
            return "create"
        props, versions = body.get("properties") or {}, self.world.versions
        plane = existing.properties.get("currentKubernetesVersion")
        if upgrades.target(versions, props.get("kubernetesVersion"), plane):
            return "upgrade"
        pools = {p.name.lower(): p.properties for p in self.world.store.children(existing.id, POOLS)}
        for profile in props.get("agentPoolProfiles") or []:
            current = pools.get(str(profile.get("name", "")).lower(), {}).get("currentOrchestratorVersion")
            if upgrades.pool_moves(versions, profile, current):
                return "upgrade"
        return "update"

    def work_seconds(self, resource: Resource, kind: str, before: dict[str, Any] | None) -> float:
        """A create: control plane plus the slowest pool; an upgrade: its stages (aks_common.py)."""
        if kind == "create":
            pools = [p.properties for p in self.world.store.children(resource.id, POOLS)]
            return cluster_create_seconds(self.world.latency.figure, pools)
        return super().work_seconds(resource, kind, before)

    def upgrade_stages(self, resource: Resource) -> upgrades.Stages:
        pools = self.world.store.children(resource.id, POOLS)
        return upgrades.cluster_stages(self.world.latency.figure, self.world.versions, resource, pools)

    def on_created(self, resource: Resource, op: Operation | None) -> None:
        for pool in self.world.store.children(resource.id, POOLS):
            pool.properties["provisioningState"] = "Succeeded"
        self._ensure_node_resource_group(resource)

    def _ensure_node_resource_group(self, cluster: Resource) -> None:
        """AKS creates the node resource group and the kubelet identity in it; identityProfile appears after the op."""
        sub = cluster.subscription
        group_name = cluster.properties["nodeResourceGroup"]
        group_id = f"/subscriptions/{sub}/resourceGroups/{group_name}"
        if self.world.store.get(group_id) is None:
            body = {
                "id": group_id,
                "name": group_name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": cluster.body["location"],
                "managedBy": cluster.id,
                "properties": {"provisioningState": "Succeeded"},
            }
            self.world.store.add(Resource(group_id, body["type"], body, f"/subscriptions/{sub}", sub, True))
        kubelet_id = f"{group_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{cluster.name}-agentpool"
        kubelet = {
            "resourceId": kubelet_id,
            "clientId": derived_uuid(kubelet_id, "client"),
            "objectId": derived_uuid(kubelet_id, "principal"),
        }
        if self.world.store.get(kubelet_id) is None:
            body = {
                "id": kubelet_id,
                "name": f"{cluster.name}-agentpool",
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                "location": cluster.body["location"],
                "properties": {
                    "tenantId": self.world.settings.tenant_id,
                    "principalId": kubelet["objectId"],
                    "clientId": kubelet["clientId"],
                },
            }
            self.world.store.add(Resource(kubelet_id, body["type"], body, group_id, sub, True))
        cluster.properties["identityProfile"] = {"kubeletidentity": kubelet}

    def render(self, resource: Resource) -> dict[str, Any]:
        props = {k: v for k, v in resource.properties.items()}
        for profile, secret in SECRET_PROPERTIES:
            if isinstance(props.get(profile), dict) and secret in props[profile]:
                props[profile] = {k: v for k, v in props[profile].items() if k != secret}
        props["agentPoolProfiles"] = [
            {"name": p.name, **p.properties} for p in self.world.store.children(resource.id, POOLS)
        ]
        return {**resource.body, "properties": props}

    def action(self, call: Call, name: str) -> Reply:
        """POST actions on a cluster: `stop` and `start` (aks_power.py); others are aks_actions.py's."""
        if name.lower() in ("stop", "start"):
            return aks_power.cluster_action(self, call, name.lower())
        if name.lower() in ("listclusterusercredential", "listclusteradmincredential"):
            cluster = self.find(dataclasses.replace(call.path, types=call.path.types[:-1]))
            return aks_actions.credentials(cluster, name, call.query, self.world.settings.tenant_id)
        raise no_route(call.method, call.path.resource_id)

    def delete(self, call: Call) -> Reply:
        cluster = self.world.store.get(call.path.resource_id)
        running = cluster.busy if cluster is not None else None
        if running is not None and not running.done and running.kind == "delete" and running.resource_id == cluster.id:
            return Reply(
                202,
                None,
                {
                    "Location": self.operation_url(call, running, results=True),
                    "Azure-AsyncOperation": self.operation_url(call, running, results=False),
                },
            )
        if running is not None and not running.done:
            self.world.ops.cancel(running)
            cluster.busy = None
        return super().delete(call)

    def _finish_delete(self, resource: Resource, holder: Resource, op: Operation) -> None:
        super()._finish_delete(resource, holder, op)
        if not op.error:
            node_group = (
                f"/subscriptions/{resource.subscription}/resourceGroups/{resource.properties['nodeResourceGroup']}"
            )
            self.world.store.remove(node_group)
