"""ARM resource ids: parse and build them without any SDK.

An id is `/subscriptions/{sub}[/resourceGroups/{rg}][/providers/{namespace}/{type}/{name}[/{type}/{name}]...]`.
Comparisons are case-insensitive in ARM; `key()` gives the form to compare and to index by.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
MAX_SEGMENT = 260


class ArmId(NamedTuple):  # a NamedTuple: immutable, and built ~3x faster than a frozen dataclass (each plan parses
    # ids of its own cluster, and planning is hot: bench/bench_plan.py)
    subscription_id: str
    resource_group: str | None
    namespace: str | None  # e.g. "Microsoft.Storage"
    types: tuple[str, ...]  # e.g. ("storageAccounts",) or ("privateDnsZones", "virtualNetworkLinks")
    names: tuple[str, ...]

    @property
    def resource_type(self) -> str:
        """The full type, e.g. "Microsoft.Storage/storageAccounts"."""
        return "/".join([self.namespace or "", *self.types]) if self.namespace else ""

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else (self.resource_group or self.subscription_id)

    def __str__(self) -> str:
        parts = [f"/subscriptions/{self.subscription_id}"]
        if self.resource_group is not None:
            parts.append(f"/resourceGroups/{self.resource_group}")
        if self.namespace:
            parts.append(f"/providers/{self.namespace}")
            parts.extend(f"/{t}/{n}" for t, n in zip(self.types, self.names, strict=True))
        return "".join(parts)


@functools.lru_cache(maxsize=1024)
def parse(resource_id: str) -> ArmId | None:
    """Parse an ARM id; None when it is not one (wrong shape, empty segments, odd type/name pairs). Cached (the
    answer is frozen): the same few ids (endpoint targets, workspaces) come back in every plan of a cluster."""
    if not resource_id.startswith("/"):
        return None
    path = resource_id.strip("/")
    parts = path.split("/")
    if not _segments_valid(path, parts):
        return None
    if len(parts) < 2 or parts[0].lower() != "subscriptions" or not _is_guid(parts[1]):
        return None
    sub, rest = parts[1], parts[2:]
    rg = None
    if rest[:1] and rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            return None
        rg, rest = rest[1], rest[2:]
    if not rest:
        return ArmId(sub, rg, None, (), ())
    if rest[0].lower() != "providers" or len(rest) < 4 or (len(rest) - 2) % 2:
        return None
    namespace, pairs = rest[1], rest[2:]
    return ArmId(sub, rg, namespace, tuple(pairs[0::2]), tuple(pairs[1::2]))


def _segments_valid(path: str, segments: list[str]) -> bool:
    """Each segment is 1-260 characters, none of them '?', '#' or whitespace. String methods, not a regex: each plan
    parses ids of its own cluster, and a regex's per-character class test was a third of a parse (planning is hot:
    bench/bench_plan.py). `split()` cuts at exactly the characters a regex's `\\s` matches, so the path is whole after
    it only without them."""
    return ("" not in segments and max(map(len, segments)) <= MAX_SEGMENT and "?" not in path and "#" not in path
            and path.split(None, 1) == [path])


@functools.lru_cache(maxsize=256)
def _is_guid(text: str) -> bool:
    """GUID.fullmatch, cached: a service's requests name a few subscriptions over and over."""
    return GUID.fullmatch(text) is not None


def key(resource_id: str) -> str:
    """The form to compare ids by: ARM ids are case-insensitive."""
    return resource_id.rstrip("/").lower()


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def resource_id(subscription_id: str, resource_group: str, namespace: str, *type_name_pairs: str) -> str:
    """resource_id(sub, rg, "Microsoft.Network", "virtualNetworks", "vnet1", "subnets", "nodes")."""
    return f"{resource_group_id(subscription_id, resource_group)}/providers/{namespace}/" + "/".join(type_name_pairs)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_case(name: str) -> str:
    """ARM's case-insensitive comparison of names, for ASCII letters only. Python's `lower()` also folds other
    letters (the Kelvin sign K becomes k), so 'rg-\u212a' would match a policy for 'rg-k' while ARM keeps them
    two resource groups; folding only A-Z keeps them apart, in the policy and in the registry's keys. An ASCII name
    (nearly every one) takes `lower()`, the same there and many times faster than `translate` (planning is hot)."""
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)
