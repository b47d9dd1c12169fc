"""A running cluster's life after its create (issue 17): change it with a JSON merge patch, change its system pool's
VM size (a pool swap), upgrade it to a version ARM offers, and adopt one that ARM has and aksvend does not manage.

Each is a use case on top of `Clusters` (shared/services/clusters.py): the same policy check, registry read and
submit, so refusals are the same (404 for a cluster aksvend does not manage, 409 `ClusterBusy`, ...). Changes are
engine `Change`s: applied to the desired request as it is when accepted, re-validated by the rules of a create.
Actions: patch and upgrade need `change` (the policy's write action), reading the upgrades `read`, adopting `admin`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain import arm
from shared.domain.adoption import request_from_arm, unsupported
from shared.domain.arm import NODE_SUBNET
from shared.domain.caller import Caller
from shared.domain.events.upgrade import offered_versions
from shared.domain.operations import OperationKind
from shared.domain.patch import Swap, immutable, merge_patch, only_system_pool, swap_plan, swapped
from shared.domain.request import ClusterRequest
from shared.domain.violations import Violation
from shared.engine import Change
from shared.engine.records import ClusterRecord, cluster_key, request_hash
from shared.refusals import InConflict, InvalidInput, NotFound
from shared.services.arm_views import upgrades_view
from shared.services.clusters import Accepted, Clusters
from shared.services.handoff import vnet_subnets
from shared.services.pool_change import fits, revalidate
from shared.services.targets import authorize_links

# The cluster PUT carries the system pool's bounds, taints and labels (with ARM's count); a new count needs its PUT.
_POOL_FIELDS = ("count",)


class Lifecycle:
    """Patch, upgrade and adopt a cluster, through the `Clusters` use cases' checks and engine."""

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters
        self.engine = clusters.engine

    # ---- patch ---------------------------------------------------------------------------------------------
    async def patch(self, sub: str, rg: str, name: str, patch: Any, caller: Caller, key: str | None) -> Accepted:
        """A JSON merge patch of the desired request (RFC 7396): 422 naming each field that may not change, or the
        rules the patched request breaks; else a `patch-cluster` operation (a cluster PUT, and the system pool's
        PUT when it changed), or a `swap-system-pool` one for a new system pool VM size."""
        if not isinstance(patch, dict) or not patch:
            raise InvalidInput("InvalidPatch", "a patch is a JSON object of the fields to change (RFC 7396)",
                               [Violation("SCHEMA_TYPE", "", "the patch must be a non-empty JSON object")])
        record = await self.clusters._cluster(sub, rg, name, caller, "change")
        refused = immutable(patch, record.request)
        swap = None if refused else swap_plan(record.request, merge_patch(record.request, patch))
        if swap is not None:
            refused += only_system_pool(patch)
        if refused:
            raise InvalidInput("InvalidPatch", "the patch changes what cannot change on a running cluster",
                               refused)
        kind: OperationKind = "swap-system-pool" if swap else "patch-cluster"
        pool = swap.old if swap else self._changed_pool(record.request, patch)

        def apply(desired: Mapping[str, Any]) -> ClusterRequest:
            patched = merge_patch(desired, patch)
            now = swap_plan(desired, patched)
            if now != swap:
                raise InConflict("ConcurrentChange", "the system pool changed while this patch was accepted; read "
                                                     "the cluster and patch it again")
            full = swapped(patched, now) if now else patched
            after = self._revalidate(full, full["systemPool"].get("name") if "systemPool" in patch else None)
            if desired.get("deletionProtection") is True and not after.deletion_protection:  # as it is when accepted
                self.clusters._authorize(caller, sub, rg, "delete")  # it guards nothing but the delete
            return after

        await self._held(record, apply(record.request), swap, "systemPool" in patch, caller)
        return await self.clusters._submit(kind, Change(record.key, {"patch": patch}, apply), caller, key,
                                           pool=pool, where=f"'{name}' in {rg}")

    async def _held(self, record: ClusterRecord, after: ClusterRequest, swap: Swap | None, pool_changed: bool,
                    caller: Caller) -> None:
        """What a patch is held to beside the request's rules (and `delete` to turn the deletion protection off,
        checked by its `apply`), as a pool change is: the caller policy's budget; and a system pool change must fit
        the node subnet as ARM has it (a swap: the new pool beside the old one, as both run while it moves)."""
        before = ClusterRequest.model_validate(record.request)
        authorize_links(self.clusters.policy, caller, after, before)  # a link the patch adds is the caller's to give
        self.clusters._within_policy_budget(after, caller, "change", after.system_pool.name if pool_changed else None)
        if pool_changed:
            subnets = await vnet_subnets(self.engine.arm, before)
            during = after.model_copy(update={"user_pools": [*after.user_pools, before.system_pool]}) if swap \
                else after
            fits(before, during, after.system_pool.name, subnets.get(NODE_SUBNET))

    @staticmethod
    def _changed_pool(desired: Mapping[str, Any], patch: Mapping[str, Any]) -> str | None:
        """The system pool's name when the patch changes its count, which only the pool's own PUT sends."""
        pool, current = patch.get("systemPool") or {}, desired["systemPool"]
        changed = any(f in pool and pool[f] != current.get(f) for f in _POOL_FIELDS)
        return str(current["name"]) if changed else None

    def _revalidate(self, desired: Mapping[str, Any], changed: str | None = None) -> ClusterRequest:
        """`changed`: the pool the change touches, named by a budget refusal."""
        return revalidate(dict(desired), prefix="PATCH", default_subscription_id=self.clusters.default_subscription_id,
                          today=self.engine.clock.now().date(), changed=changed)

    # ---- upgrade --------------------------------------------------------------------------------------------
    async def upgrades(self, sub: str, rg: str, name: str, caller: Caller) -> dict[str, Any]:
        """What ARM's upgrade profile (`upgradeProfiles/default`) offers: the control plane's version and upgrades,
        and each pool's."""
        record = await self.clusters._cluster(sub, rg, name, caller, "read")
        return upgrades_view(await self._profile(record))

    async def upgrade(self, sub: str, rg: str, name: str, raw: Any, caller: Caller, key: str | None) -> Accepted:
        """An `upgrade` operation to a version ARM offers the cluster now: the control plane, then each pool in
        order (each with its maxSurge); a failing step stops the rollout and the operation's error names it."""
        version = raw.get("kubernetesVersion") if isinstance(raw, dict) else None
        if not isinstance(version, str) or set(raw) != {"kubernetesVersion"}:
            raise InvalidInput("InvalidUpgrade", "the body is {\"kubernetesVersion\": \"<major.minor.patch>\"}",
                               [Violation("SCHEMA_REQUIRED", "/kubernetesVersion", "'kubernetesVersion' (a string) "
                                          "is required, and nothing else")])
        record = await self.clusters._cluster(sub, rg, name, caller, "change")
        offered = offered_versions(await self._profile(record)) or ()
        if version not in {o.version for o in offered}:
            listed = ", ".join(o.version for o in offered) or "none"
            raise InvalidInput("VersionNotOffered", f"ARM's upgrade profile of the cluster does not offer {version}",
                               [Violation("UPGRADE_NOT_OFFERED", "/kubernetesVersion", f"'{version[:16]}' is not an "
                                          f"upgrade ARM offers this cluster (offered: {listed}; GET .../upgrades)")])
        if record.request.get("profile") == "production" and any(o.preview for o in offered if o.version == version):
            raise InvalidInput("PreviewVersion", f"{version} is a preview version: not for a production cluster",
                               [Violation("UPGRADE_PREVIEW_PRODUCTION", "/kubernetesVersion", "AKS previews are "
                                          "excluded from the SLA and not meant for production use; choose a version "
                                          "ARM offers without isPreview (GET .../upgrades)")])

        def apply(desired: Mapping[str, Any]) -> ClusterRequest:
            return self._revalidate({**desired, "kubernetesVersion": version})

        apply(record.request)
        return await self.clusters._submit("upgrade", Change(record.key, {"kubernetesVersion": version}, apply),
                                           caller, key, where=f"'{name}' in {rg}")

    async def _profile(self, record: ClusterRecord) -> Any:
        profile_id = arm.ids(ClusterRequest.model_validate(record.request))["cluster"] + "/upgradeProfiles/default"
        body = await self.engine.arm.get(arm.CLUSTER.name, profile_id, arm.CLUSTER.api_version)
        if body is None:
            raise NotFound("ClusterNotInArm", f"ARM has no cluster '{record.name}' in {record.resource_group} (it "
                                              "was deleted outside aksvend)")
        return body

    # ---- adopt ----------------------------------------------------------------------------------------------
    async def adopt(self, sub: str, rg: str, name: str, caller: Caller) -> dict[str, Any]:
        """Record a cluster that ARM has and aksvend does not manage as desired, as ARM describes it (needs `admin`).
        409 `ClusterAlreadyManaged` for one aksvend manages; 404 when ARM has none; 422 `AdoptUnsupported` naming
        what ARM has that the contract cannot express, or `InvalidRequest` naming the rules ARM's cluster breaks.
        Answers the cluster's view; no operation runs (nothing in ARM changes)."""
        self.clusters._authorize(caller, sub, rg, "admin")
        key = cluster_key(sub, rg, name)
        existing = await self.engine.registry.get(key)
        if existing is not None and existing.state != "deleted":
            raise InConflict("ClusterAlreadyManaged", f"aksvend manages cluster '{name}' in {rg} already")
        _nothing_pending(existing)
        found = await self.engine.arm.get(arm.CLUSTER.name, _cluster_id(sub, rg, name), arm.CLUSTER.api_version)
        if found is None:
            raise NotFound("ClusterNotInArm", f"ARM has no cluster '{name[:63]}' in {rg[:90]} to adopt")
        refused = unsupported(found)
        if refused:
            raise InvalidInput("AdoptUnsupported", f"ARM's cluster '{name[:63]}' has settings aksvend cannot express; "
                                                   "it is not adopted (nothing changed)", refused)
        request = self._revalidate(request_from_arm(found, sub, rg))
        payload = request.model_dump(mode="json", by_alias=True)
        record = ClusterRecord(key, sub, rg, request.name, request.location, "ready", payload, request_hash(payload),
                               updated_at=self.engine.clock.now(), applied=payload)
        stored: ClusterRecord | None
        if existing is None:
            stored = await self.engine.registry.create_or_get(record)
        else:
            stored = await self.engine.registry.change(key, lambda c: record.with_(
                last_operation=c.last_operation) if c.state == "deleted" and _nothing_pending(c) else None)
        if stored is None or stored.request_hash != record.request_hash:
            raise InConflict("ClusterAlreadyManaged", f"cluster '{name}' in {rg} was claimed meanwhile")
        return await self.clusters.cluster(sub, rg, name, caller)


def _nothing_pending(record: ClusterRecord | None) -> bool:
    """409 `OperationsPending` while the deleted row of the name still has operations queued or running (changes
    accepted before a create of the name failed): they were planned on that request, not on the cluster adopted, and
    would overwrite it; they fail as they start (start_checks.py), after which the adopt may be asked again."""
    if record is not None and record.queue:
        raise InConflict("OperationsPending", f"operations {', '.join(record.queue[:5])} of the former request of "
                                              f"cluster '{record.name[:63]}' are still queued or running: adopt it "
                                              "once they ended (GET /api/operations/{id})")
    return True


def _cluster_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"

