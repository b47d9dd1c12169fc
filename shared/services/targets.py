"""The resources outside a cluster's resource group that its request binds it to: private endpoint targets, service
endpoint targets (whose VNet rules aksvend edits), the Log Analytics workspace and a private API server's own DNS
zone. aksvend's identity, which may act on whole
subscriptions, makes the endpoints (approved at once when their maker has rights on the target), points the
monitoring add-on at the workspace and grants the cluster identity Private DNS Zone Contributor on the zone (it may
then write records in it), so a create is
authorized for their subscriptions and resource groups as for the cluster's own (`Clusters.create`): otherwise a
caller could link a cluster to another team's storage account or Key Vault through aksvend (a confused deputy).
"""

from __future__ import annotations

from shared.domain import armid
from shared.domain.caller import Caller
from shared.domain.plan import api_server_dns_zone
from shared.domain.policy import Policy
from shared.domain.request import ClusterRequest
from shared.refusals import NotPermitted


def authorize_create(policy: Policy, caller: Caller, request: ClusterRequest) -> None:
    """403 Forbidden unless the caller may create in the cluster's resource group and in each one its request links
    it to (`foreign_targets`): the create's check, and the plan's, which answers what the create would."""
    if not policy.allows(caller, request.subscription_id, request.resource_group, "create"):
        raise NotPermitted("Forbidden", f"caller {caller.display} may not create clusters in subscription "
                                        f"{request.subscription_id}, resource group {request.resource_group}")
    for sub, rg in foreign_targets(request):  # aksvend's identity links them: the caller must own them too
        if not policy.allows(caller, sub, rg, "create"):
            raise NotPermitted("Forbidden", f"caller {caller.display} may not create in subscription {sub}, "
                                            f"resource group {rg}, which the request links the cluster to (a "
                                            "private endpoint's target or the Log Analytics workspace)")


def foreign_targets(request: ClusterRequest) -> list[tuple[str, str]]:
    """(subscription, resource group) of each such resource that is not in the cluster's own, in request order,
    once each. An id that does not parse is the request rules' to refuse (ARM_ID_FORMAT), not listed here."""
    ids = [pe.target_resource_id for pe in request.network.private_endpoints]
    ids += [t.target_resource_id for t in request.network.service_endpoint_targets]  # their firewalls are edited
    if request.addons.log_analytics_workspace_id:
        ids.append(request.addons.log_analytics_workspace_id)
    if (zone := api_server_dns_zone(request)) is not None:
        ids.append(zone)
    own = (request.subscription_id.lower(), request.resource_group.lower())
    out: list[tuple[str, str]] = []
    for resource_id in ids:
        parsed = armid.parse(resource_id)
        if parsed is None or parsed.resource_group is None:
            continue
        where = (parsed.subscription_id, parsed.resource_group)
        if (where[0].lower(), where[1].lower()) != own and where not in out:
            out.append(where)
    return out
