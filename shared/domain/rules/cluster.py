"""Cluster-wide rules: names, ids, region, version, limits across pools, add-ons, tags."""

from __future__ import annotations

import re
from collections.abc import Iterator

from shared.domain import armid
from shared.domain.regions import lookup_region, suggest_region
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.rules.pools import each_pool
from shared.domain.violations import (
    ARM_NAMING,
    ARM_TAGS,
    CONTRACT,
    QUOTAS,
    SPEC,
    SUPPORTED_VERSIONS,
    Violation,
    pointer,
)

CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]\Z|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]\Z")
RESOURCE_GROUP_NAME = re.compile(r"^[-\w.()]{1,90}\Z")
KUBERNETES_VERSION = re.compile(r"^1\.(0|[1-9]\d?)(\.(0|[1-9]\d{0,2}))?\Z")
TAG_NAME_FORBIDDEN = set('<>%&\\?/')
MAX_POOLS_PER_CLUSTER = 100
MAX_NODES_PER_CLUSTER = 5000
WORKSPACE_TYPE = "microsoft.operationalinsights/workspaces"


def cluster_name(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if not CLUSTER_NAME.fullmatch(r.name):
        yield Violation("CLUSTER_NAME_FORMAT", "/name",
                        "cluster name must be 1-63 letters, digits, '-' or '_', starting and ending with a letter "
                        "or digit", source=SPEC)


def subscription_id(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if not armid.GUID.fullmatch(r.subscription_id):
        yield Violation("SUBSCRIPTION_ID_FORMAT", "/subscriptionId",
                        "subscriptionId must be a GUID such as 00000000-0000-0000-0000-000000000000", source=ARM_NAMING)


def resource_group(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    name = r.resource_group
    if not RESOURCE_GROUP_NAME.fullmatch(name) or name.endswith("."):
        yield Violation("RESOURCE_GROUP_NAME_FORMAT", "/resourceGroup",
                        "resource group name must be 1-90 letters, digits, '_', '-', '.', '(' or ')' and must not "
                        "end with '.'", source=ARM_NAMING)


def location(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if lookup_region(r.location) is None:
        hint = suggest_region(r.location)
        also = f"; did you mean {', '.join(hint)}?" if hint else ""
        yield Violation("LOCATION_UNKNOWN", "/location",
                        f"'{r.location}' is not a known Azure region: give a programmatic name (e.g. westeurope) or a "
                        f"display name (e.g. West Europe, which becomes westeurope){also}",
                        source=ARM_NAMING)


def kubernetes_version(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    if not KUBERNETES_VERSION.fullmatch(r.kubernetes_version):
        yield Violation("KUBERNETES_VERSION_FORMAT", "/kubernetesVersion",
                        "kubernetesVersion must be MAJOR.MINOR or MAJOR.MINOR.PATCH with major 1, e.g. 1.33 or "
                        "1.33.2", source=SUPPORTED_VERSIONS)


def pool_and_node_limits(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    pools = each_pool(r)
    if len(pools) > MAX_POOLS_PER_CLUSTER:
        yield Violation("CLUSTER_POOL_LIMIT", "/userPools",
                        f"a cluster has at most {MAX_POOLS_PER_CLUSTER} node pools (system pool included); "
                        f"this request has {len(pools)}", source=QUOTAS)
    nodes = sum([p.max_nodes for p in pools])
    if nodes > MAX_NODES_PER_CLUSTER:
        yield Violation("CLUSTER_NODE_LIMIT", "/userPools",
                        f"a cluster has at most {MAX_NODES_PER_CLUSTER} nodes; the pools' maxima add up to {nodes}",
                        source=QUOTAS)


def addons(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    ws = r.addons.log_analytics_workspace_id
    if ws is not None:
        parsed = armid.parse(ws)
        if parsed is None or parsed.resource_group is None or parsed.resource_type.lower() != WORKSPACE_TYPE:
            yield Violation("ARM_ID_FORMAT", "/addons/logAnalyticsWorkspaceId",
                            "logAnalyticsWorkspaceId must be the ARM id of a Microsoft.OperationalInsights/workspaces "
                            "resource in a resource group", source=ARM_NAMING)
    elif r.addons.monitoring or r.addons.defender:
        yield Violation("ADDON_DEFAULT_WORKSPACE", "/addons/logAnalyticsWorkspaceId",
                        "monitoring or Defender is on without logAnalyticsWorkspaceId: AKS will use the region's "
                        "default Log Analytics workspace", severity="warning", source=CONTRACT)
    if len(set(r.addons.csi_drivers)) != len(r.addons.csi_drivers):
        yield Violation("CSI_DRIVER_DUPLICATE", "/addons/csiDrivers", "each CSI driver may be listed once",
                        source=CONTRACT)


def tags(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for name in r.tags:
        if TAG_NAME_FORBIDDEN & set(name):
            yield Violation("TAG_NAME_FORMAT", pointer("tags", name),
                            "tag names must not contain any of < > % & \\ ? /", source=ARM_TAGS)


RULES = (cluster_name, subscription_id, resource_group, location, kubernetes_version, pool_and_node_limits, addons,
         tags)
