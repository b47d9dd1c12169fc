"""Bring your own network and identity (docs/request.md, "Bring your own network"): pure predicates over a request.

A request uses an existing network when `network.existing` is given: its nodes go on an existing subnet
(`nodeSubnetId`, sent as each pool's `vnetSubnetID`), a user pool may name another existing subnet by its ARM id
(`subnet`), and the plan makes no VNet and no subnet, so a delete never deletes them. A request names an existing
identity with `identity`: the plan then makes no identity and grants it no role (its owner did, as AKS requires
before a create). An adopted cluster is expressed so (shared/domain/adoption.py): everything aksvend did not make
stays out of its plan, and a DELETE deletes the cluster only.
"""

from __future__ import annotations

from shared.domain import armid
from shared.domain.request import ClusterRequest

SUBNET_TYPE = "microsoft.network/virtualnetworks/subnets"
VNET_TYPE = "microsoft.network/virtualnetworks"
IDENTITY_TYPE = "microsoft.managedidentity/userassignedidentities"


def is_subnet_id(text: str) -> bool:
    """Whether a pool's `subnet` names an existing subnet (an ARM id) rather than a prefix or "auto"."""
    return text[:1] == "/"


def is_type(text: str, type_: str) -> bool:
    """Whether `text` parses as an ARM id of `type_` (lower-case full type) inside a resource group."""
    parsed = armid.parse(text)
    return parsed is not None and parsed.resource_group is not None and parsed.resource_type.lower() == type_


def vnet_of(subnet_id: str) -> str:
    """The VNet of a subnet id (the id up to `/subnets/`)."""
    cut = subnet_id.lower().rfind("/subnets/")
    return subnet_id[:cut] if cut >= 0 else subnet_id


def uses_existing_network(r: ClusterRequest) -> bool:
    return r.network.existing is not None


def makes_identity(r: ClusterRequest) -> bool:
    """Whether the plan makes (and grants roles to) aksvend's own identity `id-<name>`."""
    return r.identity is None
