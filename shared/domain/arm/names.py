"""Names, ids and tags of the resources of one cluster: deterministic, so a retried PUT hits the same resource."""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType

from shared.domain import armid, byo
from shared.domain.pool_subnets import subnet_name
from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.endpoints import PRIVATE_LINK_GROUPS

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # built-in role: Network Contributor
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"  # built-in role: Private DNS Zone Contributor
NODE_SUBNET = "snet-nodes"
PE_SUBNET = "snet-private-endpoints"
MANAGED_BY_TAG = {"managedBy": "aksvend"}
_ROLE_NAMESPACE = uuid.UUID("8a6f5f5e-2a4b-4f0e-9a39-6d1c3e5b7a11")  # aksvend's namespace for uuid5 names
_ROLE_NAMESPACE_BYTES = _ROLE_NAMESPACE.bytes


def identity_name(r: ClusterRequest) -> str:
    return f"id-{r.name}"


def vnet_name(r: ClusterRequest) -> str:
    return f"vnet-{r.name}"


_last_ids: tuple[ClusterRequest, Mapping[str, str]] | None = None


def ids(r: ClusterRequest) -> Mapping[str, str]:
    """The ids of a cluster's resources. A plan asks them of the same (frozen) request a dozen times: the last
    answer is kept for that very object (an identity check, as `network.layout`; planning is hot)."""
    global _last_ids
    last = _last_ids
    if last is not None and last[0] is r:
        return last[1]
    answer = _ids(r.subscription_id, r.resource_group, r.name)
    _last_ids = (r, answer)
    return answer


@functools.lru_cache(maxsize=1024)
def _ids(sub: str, rg: str, name: str) -> Mapping[str, str]:
    # the ids written out from the group's (as armid.resource_id would): each plan is of another cluster, so this
    # runs once a plan, and planning is hot (bench/bench_plan.py)
    group = armid.resource_group_id(sub, rg)
    vnet = f"{group}/providers/Microsoft.Network/virtualNetworks/vnet-{name}"
    return MappingProxyType({
        "resourceGroup": group,
        "identity": f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-{name}",
        "vnet": vnet,
        "nodeSubnet": f"{vnet}/subnets/{NODE_SUBNET}",
        "peSubnet": f"{vnet}/subnets/{PE_SUBNET}",
        "cluster": f"{group}/providers/Microsoft.ContainerService/managedClusters/{name}",
    })


def pool_subnet_id(r: ClusterRequest, pool: Pool) -> str:
    """The id of a user pool's own subnet (shared/domain/pool_subnets.py): an existing subnet's id as given, else
    the subnet aksvend adds to its VNet."""
    if pool.subnet and byo.is_subnet_id(pool.subnet):
        return pool.subnet
    return f"{ids(r)['vnet']}/subnets/{subnet_name(pool.name)}"


def node_subnet_id(r: ClusterRequest) -> str | None:
    """The nodes' subnet: the existing one with a bring-your-own network (None: AKS's own VNet), else aksvend's."""
    existing = r.network.existing
    return existing.node_subnet_id if existing is not None else ids(r)["nodeSubnet"]


def pe_subnet_id(r: ClusterRequest) -> str | None:
    existing = r.network.existing
    return existing.private_endpoint_subnet_id if existing is not None else ids(r)["peSubnet"]


def cluster_vnet_id(r: ClusterRequest) -> str | None:
    """The VNet the cluster's nodes are on: the existing subnets' VNet, else aksvend's own."""
    if r.network.existing is None:
        return ids(r)["vnet"]
    subnet = node_subnet_id(r) or pe_subnet_id(r)
    return byo.vnet_of(subnet) if subnet else None


@functools.lru_cache(maxsize=1024)
def dns_link_name(vnet_id: str) -> str:
    """A private DNS zone's VNet link of the VNet `vnet_id`: `link-<vnet name>-<8 hex>`, the hex a hash of the whole
    (case-folded) VNet id. A central zone holds links of many teams' VNets: two clusters of one name in two resource
    groups have two VNets `vnet-<name>`, and a name of the VNet's name alone would make the second one's link
    repoint (and its delete remove) the first one's. Cached: every plan with a private endpoint asks it, and a
    SHA-256 and a case fold are most of a plan's private DNS."""
    digest = hashlib.sha256(armid.fold_case(armid.key(vnet_id)).encode()).hexdigest()[:8]
    parsed = armid.parse(vnet_id)
    return f"link-{parsed.name if parsed is not None else 'vnet'}-{digest}"


def identity_body(r: ClusterRequest) -> dict[str, object]:
    """The managed cluster's `identity`: aksvend's own user-assigned identity, or the existing one the request names."""
    given = r.identity
    if given is not None and given.type == "SystemAssigned":
        return {"type": "SystemAssigned"}
    chosen = given.resource_id if given is not None and given.resource_id else ids(r)["identity"]
    return {"type": "UserAssigned", "userAssignedIdentities": {chosen: {}}}


def tags(r: ClusterRequest) -> dict[str, str]:
    return {**r.tags, **MANAGED_BY_TAG, "aksvendCluster": r.name}


@functools.lru_cache(maxsize=1024)
def role_assignment_name(scope: str, role: str, principal_key: str) -> str:
    """Deterministic GUID, so that a retried PUT hits the same assignment instead of making a second one. Cached:
    a cluster's plan is made again and again (validation, create, each step, drift), and a uuid5 is a SHA-1."""
    return _uuid5(_ROLE_NAMESPACE_BYTES, f"{armid.key(scope)}|{role}|{armid.key(principal_key)}")


def _uuid5(namespace: bytes, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))`, the same text, without building a UUID object (its int conversions are
    most of the cost): each plan is of another cluster, so its grants' names are new (planning is hot:
    bench/bench_plan.py). RFC 4122: the SHA-1's first 16 bytes, version 5 in byte 6, variant 10 in byte 8."""
    raw = bytearray(hashlib.sha1(namespace + name.encode()).digest()[:16])
    raw[6] = raw[6] & 0x0F | 0x50
    raw[8] = raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def dns_zone_for(group_id: str) -> str:
    return PRIVATE_LINK_GROUPS[group_id][1]


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


@functools.lru_cache(maxsize=1024)
def dns_prefix(name: str) -> str:
    """dnsPrefix: 1-54 letters, digits and '-', starting and ending alphanumeric."""
    # an ASCII name (nearly every one) in one regex: there `isalnum` is exactly A-Z, a-z and 0-9 (each plan is of
    # another cluster, and planning is hot: bench/bench_plan.py)
    dashed = _NOT_ALNUM.sub("-", name) if name.isascii() else "".join(c if c.isalnum() else "-" for c in name)
    cleaned = dashed[:54].strip("-")
    return cleaned or "aks"
