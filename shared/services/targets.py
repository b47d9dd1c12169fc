"""The resources outside a cluster's resource group that its request binds it to: private endpoint targets, service
endpoint targets (whose VNet rules aksvend edits), the Log Analytics workspace, a private API server's own DNS
zone, and what a bring-your-own network or identity names (existing subnets, the hub VNet, central DNS zones, an
existing identity: shared/domain/byo.py). aksvend's identity, which may act on whole subscriptions, makes the
endpoints (approved at once when their maker has rights on the target), points the monitoring add-on at the
workspace, grants the cluster identity Private DNS Zone Contributor on the zone and Network Contributor on existing
subnets, peers to the hub and hands AKS the identity, so a create is authorized for their subscriptions and
resource groups as for the cluster's own (`Clusters.create`), and a change for the ones it adds (`authorize_links`):
otherwise a caller could link a cluster to another team's storage account, Key Vault, subnet or identity through
aksvend (a confused deputy).
"""

from __future__ import annotations

from shared.domain import armid
from shared.domain.byo import is_subnet_id
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
    authorize_links(policy, caller, request)


def authorize_links(policy: Policy, caller: Caller, request: ClusterRequest,
                    before: ClusterRequest | None = None) -> None:
    """403 unless the caller may create in the resource group of each resource the request links the cluster to
    that `before` (the desired request a change starts from) did not: a change is held to each link it adds, even in
    a group the cluster already links to, not to the ones an admin adopted or a create was authorized for."""
    known = {_link_key(link) for link in links(before)} if before is not None else set()
    added = [resource_id for use, resource_id in links(request) if _link_key((use, resource_id)) not in known]
    for sub, rg in _foreign(request, added):  # aksvend's identity links them: the caller must own them too
        if not policy.allows(caller, sub, rg, "create"):
            raise NotPermitted("Forbidden", f"caller {caller.display} may not create in subscription {sub}, "
                                            f"resource group {rg}, which the request links the cluster to (a "
                                            "private endpoint's or service endpoint's target, the Log Analytics "
                                            "workspace, a DNS zone, an existing subnet, VNet or identity)")


def links(request: ClusterRequest) -> list[tuple[str, str]]:
    """(use, id) of every resource outside the cluster that the request links it to, in request order. The use
    counts: a subnet the cluster had for its private endpoints (no role on it) is a new link as a pool's subnet
    (Network Contributor granted on it)."""
    n = request.network
    out = [("privateEndpoint", pe.target_resource_id) for pe in n.private_endpoints]
    out += [("serviceEndpointTarget", t.target_resource_id) for t in n.service_endpoint_targets]  # firewalls edited
    if request.addons.log_analytics_workspace_id:
        out.append(("workspace", request.addons.log_analytics_workspace_id))
    if (zone := api_server_dns_zone(request)) is not None:
        out.append(("apiServerDnsZone", zone))
    if n.existing is not None:
        out += [(use, i) for use, i in (("nodeSubnet", n.existing.node_subnet_id),
                                        ("endpointSubnet", n.existing.private_endpoint_subnet_id)) if i]
    out += [("nodeSubnet", p.subnet) for p in request.user_pools if p.subnet and is_subnet_id(p.subnet)]
    out += [("hub", n.hub_vnet_id)] if n.hub_vnet_id else []
    out += [("dnsZone", zone_id) for zone_id in n.private_dns_zones.values()]
    if request.identity is not None and request.identity.resource_id:
        out.append(("identity", request.identity.resource_id))
    return out


def _link_key(link: tuple[str, str]) -> tuple[str, str]:
    return link[0], armid.fold_case(link[1].rstrip("/"))


def foreign_targets(request: ClusterRequest) -> list[tuple[str, str]]:
    """(subscription, resource group) of each linked resource that is not in the cluster's own, in request order,
    once each."""
    return _foreign(request, [resource_id for _, resource_id in links(request)])


def _foreign(request: ClusterRequest, ids: list[str]) -> list[tuple[str, str]]:
    """Resource groups compare as ARM and the policy compare them (`armid.fold_case`: ASCII only). An id that does
    not parse is the request rules' to refuse (ARM_ID_FORMAT); one with no resource group counts as the
    subscription's resource group '' (only a rule for every group of it allows that)."""
    own = (armid.fold_case(request.subscription_id), armid.fold_case(request.resource_group))
    out: list[tuple[str, str]] = []
    for resource_id in ids:
        parsed = armid.parse(resource_id)
        if parsed is None:
            continue
        where = (parsed.subscription_id, parsed.resource_group or "")
        if (armid.fold_case(where[0]), armid.fold_case(where[1])) != own and where not in out:
            out.append(where)
    return out
