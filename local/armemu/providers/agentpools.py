"""Microsoft.ContainerService agent pools: created, scaled (provisioningState `Scaling` when only `count` changes),
updated and deleted through the agentPools API, under the cluster's lock; the last System pool cannot go."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import invalid
from ..lro import Operation
from ..store import Resource
from ..workmodel import pool_create_seconds, scale_seconds
from ..world import Call
from . import aks_power, byo_network
from . import aks_refusals as refuse
from . import aks_rules as rules
from . import aks_upgrades as upgrades
from .aks_common import POOLS, AksType, pool_defaults
from .compute import check_quota
from .loganalytics import check_monitoring


class AgentPools(AksType):
    type_name = POOLS
    scope_kind = "child"
    requires_location = False
    patch_mode = None

    def guard(self, call: Call, existing: Resource | None) -> None:
        cluster = self.world.store.get(call.path.parent_id)
        self.guard_cluster(cluster)
        if call.method == "PUT":
            aks_power.refuse_if_stopped(cluster, "adding an agent pool" if existing is None else "updating a pool")

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        cluster = self.world.store.get(call.path.parent_id)
        aks_power.check_pool_power(body, existing)
        check_monitoring(self.world, cluster.properties.get("addonProfiles"))  # AKS checks it on a scale too
        body = aks_power.effective(body, existing)
        props = body.get("properties") or {}
        rules.check_pool(call.path.name, props, cluster.properties, existing.properties if existing else None)
        if props.get("vnetSubnetID"):  # AKS: the subnet must exist (byo_network.py)
            subnet = str(props["vnetSubnetID"])
            byo_network.check_subnets_exist({subnet: self.world.store.get(subnet)})
        refuse.check_pool_request(self.world.versions, call.path.name, props, cluster.body["location"])
        if not rules.is_blank("orchestratorVersion", props.get("orchestratorVersion")):
            before = existing.properties.get("currentOrchestratorVersion") if existing else None
            running = self.world.versions.running(props["orchestratorVersion"], before)
            if existing is not None:
                refuse.check_upgrade(self.world.versions, before, running)
            refuse.check_skew(running, cluster.properties.get("currentKubernetesVersion", running))
        siblings = [p for p in self.world.store.children(cluster.id, POOLS) if p is not existing]
        if existing is None and len(siblings) + 1 > rules.MAX_POOLS:
            raise invalid(f"A cluster can have at most {rules.MAX_POOLS} pools.", "agentPoolProfiles")
        rules.check_total_nodes(sum(int(p.properties.get("count", 0)) for p in siblings) + int(props.get("count", 1)))
        demotes_system = (
            existing is not None and existing.properties.get("mode") == "System" and props.get("mode") == "User"
        )
        if demotes_system and not any(p.properties.get("mode") == "System" for p in siblings):
            raise rules.ArmError(400, "MustDefineAtLeastOneSystemPool", "Must define at least one system pool.")
        shaped = pool_defaults(call.path.name, props, cluster.properties, self.world.versions)
        check_quota(
            self.world, call.path.subscription, cluster.body["location"], [shaped], {call.path.resource_id.lower()}
        )

    def kind(self, body: dict[str, Any], existing: Resource | None) -> str:
        if existing is None:
            return "create"
        power = aks_power.pool_power_kind(body, existing)
        if power is not None:
            return power
        props = body.get("properties") or {}
        if upgrades.pool_moves(self.world.versions, props, existing.properties.get("currentOrchestratorVersion")):
            return "upgrade"
        changed = {k for k, v in props.items() if k not in ("name", "powerState")
                   and not rules.is_blank(k, v) and existing.properties.get(k) != v}
        return "scale" if changed <= {"count"} and "count" in changed else "update"

    def work_seconds(self, resource: Resource, kind: str, before: dict[str, Any] | None) -> float:
        """A create by family and count, a scale by the nodes added or removed, a version change by surge batches."""
        props, figure = resource.properties, self.world.latency.figure
        if kind == "create":
            return pool_create_seconds(figure, props)
        if before is None:
            return super().work_seconds(resource, kind, before)
        if kind == "scale":
            return scale_seconds(figure, int(before.get("count") or 0), int(props.get("count") or 0))
        return super().work_seconds(resource, kind, before)

    def upgrade_stages(self, resource: Resource) -> upgrades.Stages:
        return upgrades.pool_stages(self.world.latency.figure, self.world.versions, resource)

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        cluster = self.world.store.get(call.path.parent_id)
        body = aks_power.effective(body, existing)
        props = copy.deepcopy(body.get("properties") or {})
        if existing is not None:  # a blank value, or a fixed one left out, keeps what the pool has (AKS never resets)
            kept = {k: v for k, v in existing.properties.items()
                    if rules.is_blank(k, props.get(k)) and (k in props or k in rules.FIXED_AFTER_CREATE)}
            props.update(copy.deepcopy(kept))
        props = pool_defaults(
            call.path.name,
            props,
            cluster.properties,
            self.world.versions,
            existing.properties.get("currentOrchestratorVersion") if existing else None,
        )
        if existing is not None:  # it moves when the upgrade's last batch ends (aks_upgrades.py)
            props["currentOrchestratorVersion"] = existing.properties.get("currentOrchestratorVersion") or props[
                "currentOrchestratorVersion"]
        aks_power.shape_pool_power(props, existing, aks_power.pool_power_kind(body, existing))
        return {"properties": props}

    def on_created(self, resource: Resource, op: Operation | None) -> None:
        aks_power.finish_pool_power(resource, op)

    def check_delete(self, resource: Resource) -> None:
        if resource.properties.get("mode") != "System":
            return
        others = [
            p
            for p in self.world.store.children(resource.parent, POOLS)
            if p is not resource and p.properties.get("mode") == "System"
        ]
        if not others:
            raise rules.ArmError(
                400,
                "MustDefineAtLeastOneSystemPool",
                f"Pool '{resource.name}' is the last System pool and can not be deleted.",
            )
