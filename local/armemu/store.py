"""The emulator's state: resources in dicts keyed by lower-cased ARM id, plus indexes for listing.

Why indexes: lists (a resource group's VNets, a cluster's pools, a subscription's clusters) must not scan the whole
store, so that a thousand clusters' worth of resources costs no more per request than one. Every resource is kept in
`_by_id`, in `_kids[parent]` (all direct children of any type, for cascading deletes) and in
`_by_parent_type[(parent, type)]`; top-level resources are also in `_by_subscription_type[(subscription, type)]`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .armid import key


@dataclass(slots=True, eq=False)
class Resource:
    """One stored resource. `body` is the ARM representation kept between requests; `busy` is the operation that holds
    this resource's lock (AKS's one-mutation-at-a-time rule, or a delete in progress)."""

    id: str
    type: str
    body: dict[str, Any]
    parent: str
    subscription: str
    top_level: bool
    busy: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]

    @property
    def properties(self) -> dict[str, Any]:
        return self.body.setdefault("properties", {})


class Store:
    def __init__(self) -> None:
        self._by_id: dict[str, Resource] = {}
        self._kids: dict[str, dict[str, Resource]] = defaultdict(dict)
        self._by_parent_type: dict[tuple[str, str], dict[str, Resource]] = defaultdict(dict)
        self._by_subscription_type: dict[tuple[str, str], dict[str, Resource]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, resource_id: str) -> Resource | None:
        return self._by_id.get(key(resource_id))

    def add(self, resource: Resource) -> Resource:
        rid = key(resource.id)
        parent = key(resource.parent)
        type_key = resource.type.lower()
        self._by_id[rid] = resource
        self._kids[parent][rid] = resource
        self._by_parent_type[(parent, type_key)][rid] = resource
        if resource.top_level:
            self._by_subscription_type[(resource.subscription.lower(), type_key)][rid] = resource
        return resource

    def remove(self, resource_id: str) -> list[Resource]:
        """Remove a resource and everything below it (children, and extension resources scoped to it)."""
        removed: list[Resource] = []
        stack = [key(resource_id)]
        while stack:
            rid = stack.pop()
            resource = self._by_id.pop(rid, None)
            if resource is None:
                continue
            removed.append(resource)
            parent = key(resource.parent)
            type_key = resource.type.lower()
            self._kids[parent].pop(rid, None)
            self._by_parent_type[(parent, type_key)].pop(rid, None)
            if resource.top_level:
                self._by_subscription_type[(resource.subscription.lower(), type_key)].pop(rid, None)
            stack.extend(self._kids.pop(rid, {}).keys())
        return removed

    def children(self, parent_id: str, type_name: str) -> list[Resource]:
        return list(self._by_parent_type.get((key(parent_id), type_name.lower()), {}).values())

    def all_children(self, parent_id: str) -> list[Resource]:
        return list(self._kids.get(key(parent_id), {}).values())

    def in_subscription(self, subscription: str, type_name: str) -> list[Resource]:
        return list(self._by_subscription_type.get((subscription.lower(), type_name.lower()), {}).values())

    def all(self) -> list[Resource]:
        return list(self._by_id.values())

    def clear(self) -> None:
        self._by_id.clear()
        self._kids.clear()
        self._by_parent_type.clear()
        self._by_subscription_type.clear()


def system_data(existing: Resource | None) -> dict[str, str]:
    """ARM's `systemData` of a PUT now: when the resource was created (kept from before) and last modified."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    created = ((existing.body.get("systemData") or {}).get("createdAt") if existing is not None else None) or now
    return {"createdAt": created, "lastModifiedAt": now}
