"""ARM resource ids: parsing request paths into (scope, provider namespace, type chain, names).

ARM ids are case-insensitive but case-preserving. Everything the emulator keeps is keyed by the lower-cased id, and
the casing of the first PUT is what responses show, as Azure does.

A path parses at its *last* `providers` segment, so extension resources work at any scope:
`/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/x/providers/
Microsoft.Authorization/roleAssignments/g` has scope `.../subnets/x`, namespace `Microsoft.Authorization`, types
`(roleAssignments,)`. Resource groups are modelled as namespace `Microsoft.Resources`, type `resourceGroups`, scope
`/subscriptions/s`, so that one code path serves them too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

RESOURCE_GROUPS = "Microsoft.Resources"
DERIVED_ID_NAMESPACE = uuid.UUID("6f1c1f0e-6b59-4c43-9d53-0a2f5f1e6a11")


def derived_uuid(*parts: str) -> str:
    """A stable GUID for ids Azure would mint (principalId, clientId, resourceGuid ...): the same ARM id gives the same
    GUID, so runs are reproducible and a re-created resource keeps its ids."""
    return str(uuid.uuid5(DERIVED_ID_NAMESPACE, "|".join(p.lower() for p in parts)))


@dataclass(frozen=True, slots=True)
class ArmPath:
    """One parsed ARM path: an item when every type has a name, a collection when the last type has none."""

    subscription: str
    resource_group: str | None
    scope: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def is_collection(self) -> bool:
        return len(self.names) < len(self.types)

    @property
    def type_key(self) -> str:
        """Lower-cased `namespace/type/childType`, the registry key of a resource type."""
        return "/".join((self.namespace, *self.types)).lower()

    @property
    def type_name(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def resource_id(self) -> str:
        """The id of the item (or, for a collection, of the collection's parent plus the collection segment)."""
        if self.namespace == RESOURCE_GROUPS and self.types == ("resourceGroups",):
            tail = f"/resourceGroups/{self.names[0]}" if self.names else "/resourceGroups"
            return self.scope + tail
        parts = [self.scope, "providers", self.namespace]
        for i, type_segment in enumerate(self.types):
            parts.append(type_segment)
            if i < len(self.names):
                parts.append(self.names[i])
        return "/".join(parts)

    @property
    def parent_id(self) -> str:
        """Where the item or collection hangs: the parent resource for child types, else the scope."""
        if len(self.types) == 1:
            return self.scope
        return ArmPath(
            self.subscription,
            self.resource_group,
            self.scope,
            self.namespace,
            self.types[:-1],
            self.names[: len(self.types) - 1],
        ).resource_id

    @property
    def resource_group_id(self) -> str | None:
        if self.resource_group is None:
            return None
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"


def key(resource_id: str) -> str:
    """The dictionary key for an ARM id: lower-cased, without a trailing slash."""
    return resource_id.rstrip("/").lower()


def parse(path: str) -> ArmPath | None:
    """Parse a request path; None when it is not an ARM resource path the emulator understands."""
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        return None
    subscription = segments[1]
    resource_group = None
    if len(segments) >= 4 and segments[2].lower() == "resourcegroups":
        resource_group = segments[3]
    provider_at = _last_providers_index(segments)
    if provider_at is None:
        return _parse_resource_group_path(segments, subscription, resource_group)
    scope = "/" + "/".join(segments[:provider_at]) if provider_at else ""
    scope = _canonical_scope(scope, subscription, resource_group)
    rest = segments[provider_at + 2 :]
    return ArmPath(subscription, resource_group, scope, segments[provider_at + 1], tuple(rest[0::2]), tuple(rest[1::2]))


def _last_providers_index(segments: list[str]) -> int | None:
    for i in range(len(segments) - 3, 1, -1):
        if segments[i].lower() == "providers":
            return i
    return None


def _parse_resource_group_path(segments: list[str], subscription: str, resource_group: str | None) -> ArmPath | None:
    if len(segments) == 3 and segments[2].lower() == "resourcegroups":
        return ArmPath(subscription, None, f"/subscriptions/{subscription}", RESOURCE_GROUPS, ("resourceGroups",), ())
    if len(segments) == 4 and resource_group is not None:
        return ArmPath(
            subscription,
            resource_group,
            f"/subscriptions/{subscription}",
            RESOURCE_GROUPS,
            ("resourceGroups",),
            (resource_group,),
        )
    return None


def _canonical_scope(scope: str, subscription: str, resource_group: str | None) -> str:
    """Spell the subscription/resource-group prefix of a scope the way ARM returns it (`resourceGroups`)."""
    if resource_group is None:
        return scope
    prefix = f"/subscriptions/{subscription}/resourcegroups/{resource_group}"
    if scope.lower().startswith(prefix.lower()):
        return f"/subscriptions/{subscription}/resourceGroups/{resource_group}" + scope[len(prefix) :]
    return scope


def odata_eq(odata_filter: str, field: str) -> str | None:
    """The value of `<field> eq '<value>'` in an OData `$filter` (field and value compared lower-cased), None without
    one. What ARM's list filters the emulator serves need: `resourceType eq`, `principalId eq`, `roleName eq`."""
    marker = f"{field.lower()} eq '"
    lowered = odata_filter.lower()
    if marker not in lowered:
        return None
    start = lowered.index(marker) + len(marker)
    end = lowered.find("'", start)
    return lowered[start:] if end < 0 else lowered[start:end]
