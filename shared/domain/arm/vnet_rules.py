"""The other half of a service endpoint: the VNet rules that admit the cluster's subnets to a storage account's or Key
Vault's firewall (`network.serviceEndpointTargets`, docs/request.md "Service endpoint targets").

The target is not aksvend's: it belongs to another team and has rules of its own. So its step is no PUT of a body
aksvend owns but an edit of one field of it: read the target, add (or, when the cluster is deleted, remove) only the
cluster's subnets in `properties.networkAcls.virtualNetworkRules`, and PATCH `properties.networkAcls` back, the way
`az storage account network-rule add` and `az keyvault network-rule add` do (GET, append, update). Both services'
PATCH replaces `networkAcls` as a whole (its `defaultAction` is required in the storage REST model), so the body is
the target's own rule set with the change applied: its default action, bypass, IP rules and the other rules are sent
back as they were read. The functions here are pure; `shared/engine/target_rules.py` reads and writes.

The two services spell a rule differently (REST models `VirtualNetworkRule` of Microsoft.Storage and of
Microsoft.KeyVault): storage `{"id": <subnet>, "action": "Allow"}`, Key Vault `{"id": <subnet>}`. Subnet ids are
compared case-insensitively (Key Vault answers them lower-cased).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from shared.domain.arm.names import ids, pool_subnet_id
from shared.domain.arm.record import ResourceType
from shared.domain.byo import is_subnet_id
from shared.domain.request import ClusterRequest

Edit = Literal["add", "remove"]
# The default action of a target that has no rule set yet: both services' default (the firewall admits everyone), so
# a rule set written only to carry the cluster's rules changes nobody's access.
DEFAULT_ACTION = "Allow"


def cluster_subnets(r: ClusterRequest) -> list[str]:
    """The ids of the subnets that carry the request's service endpoints: aksvend's node subnet and each pool's own
    that aksvend adds to its VNet (an existing subnet is its owner's: shared/domain/byo.py; its endpoints are not
    the request's)."""
    if r.network.existing is not None:
        return []
    own = (pool_subnet_id(r, p) for p in r.user_pools if p.subnet and not is_subnet_id(p.subnet))
    return [ids(r)["nodeSubnet"], *own]


def rule(resource_type: str, subnet_id: str) -> dict[str, Any]:
    """One VNet rule as the target's service spells it (module docstring)."""
    if resource_type.lower() == KEY_VAULT.name.lower():
        return {"id": subnet_id}
    return {"id": subnet_id, "action": "Allow"}


def vnet_rules_body(resource_type: str, subnet_ids: Sequence[str]) -> dict[str, Any]:
    """What the plan shows of the edit: the rules aksvend adds to the target's own (never the whole rule set)."""
    return {"properties": {"networkAcls": {"virtualNetworkRules": [rule(resource_type, s) for s in subnet_ids]}}}


def edited_acls(resource_type: str, target: Mapping[str, Any], subnet_ids: Sequence[str],
                edit: Edit) -> dict[str, Any] | None:
    """The PATCH body that adds (`add`) or removes (`remove`) the subnets' rules in `target`'s rule set (as ARM's GET
    answered it), everything else in it kept as it is; None when there is nothing to change (an edit done before: a
    redelivered step writes nothing)."""
    props = target.get("properties")
    acls = dict(props.get("networkAcls") or {}) if isinstance(props, Mapping) else {}
    have = [r for r in acls.get("virtualNetworkRules") or [] if isinstance(r, Mapping)]
    ours = {s.lower() for s in subnet_ids}
    present = {str(r.get("id", "")).lower() for r in have}
    if edit == "add":
        missing = [s for s in subnet_ids if s.lower() not in present]
        if not missing:
            return None
        rules = [*have, *(rule(resource_type, s) for s in missing)]
    else:
        rules = [r for r in have if str(r.get("id", "")).lower() not in ours]
        if len(rules) == len(have):
            return None
    acls.setdefault("defaultAction", DEFAULT_ACTION)
    return {"properties": {"networkAcls": {**acls, "virtualNetworkRules": rules}}}


# The targets' records. Their family is the generic one ("resources"): aksvend pins no storage or Key Vault SDK, and
# the write is a plain ARM request through the resources client's pipeline (ARM authentication, user agent, logging).
# api-versions: the storage and Key Vault REST references' stable versions. Durations: a PATCH of a rule set answers
# at once (seconds).
STORAGE_ACCOUNT = ResourceType("Microsoft.Storage/storageAccounts", "2025-01-01", "resources",
                               {"put": 5, "delete": 5}, vnet_rules_body)
KEY_VAULT = ResourceType("Microsoft.KeyVault/vaults", "2024-11-01", "resources", {"put": 5, "delete": 5},
                         vnet_rules_body)

TYPES = (STORAGE_ACCOUNT, KEY_VAULT)
