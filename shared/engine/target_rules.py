"""Steps on what aksvend shares with others: a service endpoint target's VNet rules (edited in place of a PUT or
DELETE, docs/engine.md), and the DELETE of a private DNS zone or of its VNet link (`delete_resource`, below).

A step with `StepSpec.edit` reads the target (a storage account or Key Vault that is not aksvend's), adds ("add", a
create) or removes ("remove", a delete) only the cluster's subnets in its `networkAcls.virtualNetworkRules` and PATCHes
the rule set back with everything else in it as read (`shared.domain.arm.edited_acls`). Nothing to change (a step
sent again after its write landed): no write, the step is done. A target that is gone: nothing to remove; nothing to
add a rule to is a failed create (`ResourceNotFound`), as a private endpoint's missing target is.

Concurrent writers: when ARM's answer carries an `etag`, the PATCH is sent `If-Match` it, so a change made between the
read and the write is refused (412, retried by the engine: read again, apply again) instead of overwritten. Without
one (the storage and Key Vault REST models define none on the account or vault), the read and the write are as close
as one step makes them, as `az storage account network-rule add` does.

"When the caller may write it": aksvend's identity may lack the right to write the target (another team's resource,
granted per target; docs/security.md). ARM's 403 (`AuthorizationFailed`, `LinkedAuthorizationFailed`) then does not
fail the create, whose cluster works without the rule where the target admits it otherwise: the step ends done, and
the operation's history records it as `skipped` with what to grant or add by hand. A skipped "remove" is recorded as
rules left behind, naming the subnets: their ids derive from the cluster's name, so a later cluster of that name in
that resource group would be admitted by them until the target's owner removes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from shared.domain import armid
from shared.domain.arm import DNS_LINK, DNS_ZONE, edited_acls
from shared.domain.operations import StepSpec
from shared.engine.history import History
from shared.engine.ports import ArmPort, ArmResult
from shared.engine.records import Loaded
from shared.errors import FatalError

NO_PERMISSION = frozenset({"AuthorizationFailed", "LinkedAuthorizationFailed", "HTTP403"})
DONE = ArmResult(200, None, None, None)  # nothing sent, nothing to wait for
SKIPPED = ArmResult(403, None, None, None)  # an add that aksvend may not write: done, nothing added (`skipped`)


class EditParts(Protocol):
    """What the edit uses of the engine (`shared.engine.Engine` has them)."""

    arm: ArmPort
    history: History


def subnets_of(spec: StepSpec) -> list[str]:
    """The subnet ids the step's body names (its `virtualNetworkRules`, as the plan shows them)."""
    body: Mapping[str, Any] = spec.body or {}
    rules = ((body.get("properties") or {}).get("networkAcls") or {}).get("virtualNetworkRules") or []
    return [str(r["id"]) for r in rules]


async def edit_target(engine: EditParts, loaded: Loaded, spec: StepSpec) -> ArmResult:
    """Add or remove the cluster's VNet rules on the target (module docstring); the PATCH's answer, or `DONE`."""
    assert spec.edit is not None
    try:
        target = await engine.arm.get(spec.resource_type, spec.resource_id, spec.api_version)
        if target is None:
            if spec.edit == "remove":
                return DONE
            raise FatalError("ResourceNotFound", f"the service endpoint target {spec.resource_id} does not exist; "
                                                 "create it before the cluster, or leave it out of "
                                                 "network.serviceEndpointTargets")
        body = edited_acls(spec.resource_type, target, subnets_of(spec), spec.edit)
        if body is None:
            return DONE
        etag = target.get("etag")
        return await engine.arm.patch(spec.resource_type, spec.resource_id, spec.api_version, body,
                                      etag=etag if isinstance(etag, str) else None)
    except FatalError as err:
        if err.code not in NO_PERMISSION:
            raise
        code = err.code
    if spec.edit == "remove":  # left behind: the subnet ids derive from the cluster's name (module docstring)
        await engine.history.record(loaded.op.id, "skipped", f"{spec.id}: left behind: the VNet rules of "
                                    f"{', '.join(subnets_of(spec))} on {spec.resource_id}; aksvend may not write it "
                                    f"({code}). The target's owner must remove them: a later cluster of this name in "
                                    "this resource group has the same subnet ids and would be admitted (docs/"
                                    "request.md, \"Service endpoint targets\")")
        return DONE
    await engine.history.record(loaded.op.id, "skipped", f"{spec.id}: aksvend may not write {spec.resource_id} "
                                f"({code}); add the cluster's subnets to its networkAcls.virtualNetworkRules by hand, "
                                "or grant aksvend's identity the write on it (docs/request.md, \"Service endpoint "
                                "targets\")")
    return SKIPPED


def skipped_edit(result: ArmResult) -> dict[str, str] | None:
    """The outputs of a step whose edit was skipped (`SKIPPED`): it made nothing, so neither a cleanup nor a DELETE
    of a create that never succeeded removes the rules the target's owner may have added by hand since
    (start_checks.py `made_by`); None for any other result."""
    return {"skipped": "aksvend may not write the target; nothing was added"} if result is SKIPPED else None


async def delete_resource(engine: EditParts, loaded: Loaded, spec: StepSpec) -> ArmResult:
    """A delete step's DELETE, except where a private DNS zone is shared. Two clusters' endpoints of one group id in
    one resource group use one zone `privatelink.<service>` (it must have that name), each with a VNet link of its
    own; a central zone (`network.privateDnsZones`) holds many teams' links. So a link is deleted only when it still
    names the cluster's VNet (the VNet its step's body names), and a zone only when no VNet link is left in it (its
    `numberOfVirtualNetworkLinks`): ARM refuses to delete a zone with links anyway (409 `CannotDeleteResource`,
    "Cannot delete resource while nested resources exist"), which would only be retried until the step's deadline.
    A link of an existing VNet (`network.existing`) is never deleted: every cluster on that VNet shares it.
    What is left is recorded as `skipped` in the operation's history, and the step is done."""
    if spec.resource_type not in (DNS_ZONE.name, DNS_LINK.name):
        return await engine.arm.delete(spec.resource_type, spec.resource_id, spec.api_version)
    resource_id = spec.resource_id
    found = await engine.arm.get(spec.resource_type, resource_id, spec.api_version)
    if found is None and spec.resource_type == DNS_LINK.name:  # made before links were named by a hash: its old name
        resource_id = resource_id.rsplit("-", 1)[0]  # link-<vnet name>, deleted too only if it names the VNet
        found = await engine.arm.get(spec.resource_type, resource_id, spec.api_version)
    if found is None:
        return DONE
    props: Mapping[str, Any] = found.get("properties") or {}
    if spec.resource_type == DNS_ZONE.name:
        others = props.get("numberOfVirtualNetworkLinks") or 0
        why = f"it still has {others} VNet link(s) of other clusters or teams, which use it" if others else None
    elif (loaded.op.request.get("network") or {}).get("existing") is not None:
        # an existing (shared) VNet: other clusters and workloads on it resolve through the same link (a VNet links to
        # a zone once), so the link lives as long as the network, which is its owner's to unlink
        why = "it links an existing VNet, which other clusters or workloads on it may use through this zone"
    else:
        ours = (((spec.body or {}).get("properties") or {}).get("virtualNetwork") or {}).get("id") or ""
        theirs = str((props.get("virtualNetwork") or {}).get("id") or "")
        why = (f"it links {theirs}, not the cluster's VNet" if armid.fold_case(armid.key(theirs))
               != armid.fold_case(armid.key(ours)) else None)
    if why is None:
        return await engine.arm.delete(spec.resource_type, resource_id, spec.api_version)
    await engine.history.record(loaded.op.id, "skipped", f"{spec.id}: {resource_id} is left: {why}")
    return DONE
