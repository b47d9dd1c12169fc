"""The read routes of the hand-off (docs/api.md): the list with filters and pages, one cluster with what ARM reports
beside its desired request, and its user credentials. Each checks `read` on the cluster's subscription and resource
group, as `Clusters` does, before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.domain.caller import Caller
from shared.domain.request import ClusterRequest
from shared.engine.records import ClusterRecord, cluster_key
from shared.refusals import InConflict, NotFound, NotPermitted
from shared.services import handoff, listing
from shared.services.clusters import Clusters
from shared.services.drift import DRIFT_PARTITION, drift_row
from shared.services.views import cluster_view


class ClusterReads:
    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    async def list(self, caller: Caller, params: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """A page of the clusters the caller may read that match the query; `continuationToken` while more follow.
        Each item says who owns it (`owner`: the request's owner group) and when it last changed (`updatedAt`)."""
        query = listing.parse_query(params)
        policy, registry = self.clusters.policy, self.clusters.engine.registry
        shown, token = await listing.read_page(registry, query, lambda c: policy.allows(
            caller, c.subscription_id, c.resource_group, "read"))
        found = await registry.table.get_many(DRIFT_PARTITION, [c.key for c in shown]) if shown else {}
        drift = {key: v.entity for key, v in found.items()}
        items = [{**cluster_view(c, drift.get(c.key)), "owner": listing.owner_of(c.request)} for c in shown]
        return {"value": items, "continuationToken": token}

    async def cluster(self, sub: str, rg: str, name: str, caller: Caller) -> dict[str, Any]:
        """The cluster's view and, beside its desired request, `observed`: what ARM reports now (or why not)."""
        record = await self._readable(sub, rg, name, caller)
        view = cluster_view(record, await drift_row(self.clusters.engine.registry.table, record.key))
        request = ClusterRequest.model_validate(record.request)
        return {**view, "owner": listing.owner_of(record.request),
                "observed": await handoff.observed(self.clusters.engine.arm, request)}

    async def credentials(self, sub: str, rg: str, name: str, caller: Caller) -> dict[str, Any]:
        """The user kubeconfig (never the admin one): to callers with `read` for a cluster that ARM says is
        Entra-integrated (kubelogin's exec form, no right of its own); else to callers with `change`, since a cluster
        without Entra ID gives its user credential `system:masters`, full control of the cluster (Azure/AKS issue
        #1343). 409 for a cluster whose create has not succeeded: ARM's cluster of the name may not be its own."""
        record = await self._readable(sub, rg, name, caller)
        if record.state == "deleting":
            raise InConflict("ClusterDeleting", f"cluster '{name[:63]}' is being deleted: it has no credentials")
        if record.applied is None and record.state in ("provisioning", "failed"):
            raise InConflict("ClusterNotCreated", f"the create of cluster '{name[:63]}' has not succeeded: no "
                                                  "credentials until it has (a cluster of the name that ARM may have "
                                                  "is not known to be the one aksvend made)")
        request = ClusterRequest.model_validate(record.request)
        arm = self.clusters.engine.arm
        may_change = self.clusters.policy.allows(caller, sub, rg, "change")
        entra = await handoff.arm_entra(arm, request)
        if not entra and not may_change:
            raise NotPermitted("Forbidden", f"caller {caller.display} may not read the credentials of cluster "
                                            f"'{name[:63]}': without Entra ID its user credential is a system:masters "
                                            "certificate (full control), handed out with `change` only")
        return await handoff.credentials(arm, request, entra=entra, certificate=may_change)

    async def _readable(self, sub: str, rg: str, name: str, caller: Caller) -> ClusterRecord:
        if not self.clusters.policy.allows(caller, sub, rg, "read"):
            raise NotPermitted("Forbidden", f"caller {caller.display} may not read clusters in subscription {sub}, "
                                            f"resource group {rg}")
        record = await self.clusters.engine.registry.get(cluster_key(sub, rg, name))
        if record is None or record.state == "deleted":
            raise NotFound("ClusterNotFound", f"aksvend manages no cluster '{name[:63]}' in {rg[:90]}")
        return record
