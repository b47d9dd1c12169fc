"""The cluster request contract (v1): what a caller may ask for, as JSON in camelCase.

The model checks *shape* only: types, enumerations, lengths and sizes of strings and lists, and unknown
fields (a typo must never be silently ignored). Everything that needs to look at more than one field, or at
Azure's rules, lives in `rules.py` so that all violations come back at once, each with a stable code.

Types are strict (a count given as "3" or true is refused, not converted) and numbers must be finite.

Bounds are generous on purpose: they stop abuse (a 10 MB name, a million pools) without duplicating the
Azure rules, which report better messages.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from shared.domain.request_base import ContractModel as _Model
from shared.domain.request_options import (
    ApiServer,
    EntraId,
    ExistingIdentity,
    ExistingNetwork,
    GpuInstanceProfile,
    KubeletConfig,
    Maintenance,
    NetworkDataplane,
    NetworkPolicy,
    OsSku,
    OutboundType,
    ScaleDownMode,
    Security,
    ServiceEndpointTarget,
)

Str = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)]
LongStr = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=90)]
Cidr = Annotated[str, StringConstraints(min_length=1, max_length=43)]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=2)]
Taint = Annotated[str, StringConstraints(min_length=1, max_length=317)]
LabelKey = Annotated[str, StringConstraints(max_length=317)]
LabelValue = Annotated[str, StringConstraints(max_length=63)]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=512)]  # ARM: tag names <= 512, values <= 256
TagValue = Annotated[str, StringConstraints(max_length=256)]
DnsPrefix = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,52}[a-zA-Z0-9])?$")]

Profile = Literal["production", "development"]
Workload = Literal["general", "memory", "gpu", "batch"]
OsType = Literal["Linux", "Windows"]
NetworkPlugin = Literal["azure-overlay", "azure", "kubenet"]
CsiDriver = Literal["disk", "file", "blob"]
OsDiskType = Literal["Managed", "Ephemeral"]
GpuDriver = Literal["Install", "None"]
SpotFallback = Literal["on-demand", "none"]
AutoUpgrade = Literal["none", "patch", "stable", "rapid", "node-image"]
OnFailure = Literal["keep", "cleanup"]
DriftPolicy = Literal["report", "repair"]  # what aksvend does about drift it finds in ARM (docs/drift.md)
EndpointNetworkPolicies = Literal["Enabled", "Disabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"]

MAX_POOLS_IN_REQUEST = 100  # AKS: at most 100 node pools per cluster (quotas-skus-regions.md)


class Autoscale(_Model):
    min: int = Field(ge=0, le=1000)
    max: int = Field(ge=0, le=1000)


class Spot(_Model):
    eviction_policy: Literal["Delete", "Deallocate"] = "Delete"
    max_price: float = -1


class PoolInput(_Model):
    """A node pool as a caller writes it. The system pool and the user pools share one shape so that a rule,
    not the parser, explains why (say) a spot system pool is wrong. Missing values come from the profile."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    workload: Workload = "general"
    os: OsType = "Linux"
    vm_size: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    count: int | None = Field(default=None, ge=0, le=5000)
    autoscale: Autoscale | None = None
    zones: list[Zone] | None = Field(default=None, max_length=3)
    max_pods: int | None = Field(default=None, ge=0, le=1000)
    os_disk_type: OsDiskType | None = None
    os_disk_size_gb: int | None = Field(default=None, ge=30, le=2048)
    taints: list[Taint] = Field(default_factory=list, max_length=50)
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, max_length=50)
    spot: Spot | None = None
    gpu_driver: GpuDriver | None = None
    # Whether `aksvend.pool.pressure` events may raise the pool; None: yes, unless the pool has GPUs (docs/events.md).
    scale_on_pressure: bool | None = None
    # A user pool's own subnet in the VNet: its prefix, or "auto" (aksvend picks a free one), or the ARM id of an
    # existing subnet (bring your own network); None: the node subnet.
    subnet: LongStr | None = None
    # Production options (request_options.py; rules/production.py).
    os_sku: OsSku | None = None  # None: Ubuntu on Linux, Windows2022 on Windows
    max_surge: Annotated[str, StringConstraints(min_length=1, max_length=4)] | None = None  # None: "10%"
    enable_encryption_at_host: bool = False
    kubelet_config: KubeletConfig | None = None
    gpu_instance_profile: GpuInstanceProfile | None = None
    scale_down_mode: ScaleDownMode | None = None


class Pool(PoolInput):
    """A node pool after the profile was applied."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    vm_size: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    count: int = Field(ge=0, le=5000)

    @property
    def max_nodes(self) -> int:
        """The most nodes this pool may have: the autoscaler's maximum, or its fixed count."""
        autoscale = self.autoscale
        return self.count if autoscale is None or autoscale.max < self.count else autoscale.max


class PrivateEndpoint(_Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    target_resource_id: LongStr
    group_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Network(_Model):
    plugin: NetworkPlugin = "azure-overlay"
    vnet_address_space: Cidr = "10.40.0.0/16"
    pod_cidr: Cidr | None = None
    service_cidr: Cidr = "10.0.0.0/16"
    dns_service_ip: Annotated[str, StringConstraints(min_length=1, max_length=39)] = "10.0.0.10"
    service_endpoints: list[Str] = Field(default_factory=list, max_length=16)
    service_endpoint_targets: list[ServiceEndpointTarget] = Field(default_factory=list, max_length=16)
    private_endpoints: list[PrivateEndpoint] = Field(default_factory=list, max_length=50)
    private_endpoint_network_policies: EndpointNetworkPolicies = "Disabled"
    policy: NetworkPolicy = "none"
    dataplane: NetworkDataplane = "azure"
    outbound_type: OutboundType = "loadBalancer"
    # Bring your own network, hub-and-spoke and central private DNS zones (shared/domain/byo.py).
    existing: ExistingNetwork | None = None
    hub_vnet_id: LongStr | None = None
    private_dns_zones: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], LongStr] = Field(
        default_factory=dict, max_length=16)  # group id -> an existing private DNS zone's id
    link_private_dns_zones: bool = False  # link those existing zones to the cluster's VNet


class Addons(_Model):
    monitoring: bool = False
    azure_policy: bool = False
    defender: bool = False
    csi_drivers: list[CsiDriver] = Field(default_factory=lambda: list[CsiDriver](["disk", "file"]), max_length=3)
    log_analytics_workspace_id: LongStr | None = None
    key_vault_secrets_provider: bool = False
    secret_rotation: bool = False
    cost_analysis: bool = False  # metricsProfile.costAnalysis
    managed_prometheus: bool = False  # azureMonitorProfile.metrics


class ReactionBounds(_Model):
    """What event reactions may do without a human (docs/events.md, "Bounds"). The limits of each field are the
    service's hard ceilings; the bucket sizes stay under the 100 reactions a cluster's history keeps."""

    reactions_per_pool: int = Field(default=10, ge=1, le=40)  # token bucket per pool: its size
    reactions_per_cluster: int = Field(default=30, ge=1, le=40)  # and per cluster
    refill_seconds: int = Field(default=60, ge=1, le=86_400)  # one token back per bucket every so often
    extra_nodes_per_pool: int = Field(default=10, ge=0, le=1000)  # nodes above what the request asked for
    extra_nodes_per_cluster: int = Field(default=20, ge=0, le=5000)
    decay_seconds: int = Field(default=1800, ge=0, le=604_800)  # a pressure raise is undone after this quiet time


# One default shared by every request (the model is frozen): building a ReactionBounds is a validation of its own, and
# most requests leave the bounds out (planning is hot: bench/bench_plan.py).
_DEFAULT_BOUNDS = ReactionBounds()


class Reactions(_Model):
    spot_fallback: SpotFallback = "on-demand"
    max_nodes_per_pool: int = Field(default=50, ge=1, le=1000)
    cooldown_seconds: int = Field(default=600, ge=0, le=86_400)
    auto_upgrade: AutoUpgrade = "patch"
    bounds: ReactionBounds = Field(default_factory=lambda: _DEFAULT_BOUNDS)


class Budget(_Model):
    """The most the cluster may cost a month, in the price table's currency (docs/cost.md): a request whose
    estimate at every pool's maximum is above it is refused, and reactions stop at it."""

    monthly_max: float = Field(gt=0, le=100_000_000)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


Minutes = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}m$")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,6}$")]
TrueFalse = Literal["true", "false"]


class AutoscalerProfile(_Model):
    """The cluster autoscaler's settings, as ARM names and types them (`properties.autoScalerProfile`, kebab-case,
    mostly strings; learn.microsoft.com/javascript/api/@azure-rest/arm-containerservice/
    managedclusterpropertiesautoscalerprofile). Only what is given is sent; AKS keeps its defaults for the rest."""

    model_config = ConfigDict(**{**_Model.model_config, "alias_generator": _kebab})
    balance_similar_node_groups: TrueFalse | None = None
    daemonset_eviction_for_empty_nodes: bool | None = None
    daemonset_eviction_for_occupied_nodes: bool | None = None
    expander: Literal["least-waste", "most-pods", "priority", "random"] | None = None
    ignore_daemonsets_utilization: bool | None = None
    max_empty_bulk_delete: Digits | None = None
    max_graceful_termination_sec: Digits | None = None
    max_node_provision_time: Minutes | None = None
    max_total_unready_percentage: Digits | None = None
    new_pod_scale_up_delay: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}[smh]$")] | None = None
    ok_total_unready_count: Digits | None = None
    scan_interval: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}s$")] | None = None
    scale_down_delay_after_add: Minutes | None = None
    scale_down_delay_after_delete: Minutes | None = None
    scale_down_delay_after_failure: Minutes | None = None
    scale_down_unneeded_time: Minutes | None = None
    scale_down_unready_time: Minutes | None = None
    scale_down_utilization_threshold: Annotated[str, StringConstraints(pattern=r"^(0(\.[0-9]{1,3})?|1(\.0{1,3})?)$")] \
        | None = None
    skip_nodes_with_local_storage: TrueFalse | None = None
    skip_nodes_with_system_pods: TrueFalse | None = None


class Access(_Model):
    """Who the cluster is for (docs/request.md, "Access"): the cluster is Entra-integrated with Azure RBAC for
    Kubernetes authorization, and the create grants `ownerGroup` (an Entra ID group's object id) `role` on it."""

    owner_group: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    role: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Azure Kubernetes Service RBAC Cluster Admin"


class ClusterRequestInput(_Model):
    """What a caller sends (the published JSON Schema). `profiles.expand` fills what is left out from the
    profile and turns it into a ClusterRequest."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    subscription_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = None
    resource_group: Name
    location: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    profile: Profile = "development"
    kubernetes_version: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    system_pool: PoolInput | None = None
    user_pools: list[PoolInput] | None = Field(default=None, max_length=MAX_POOLS_IN_REQUEST)
    network: Network | None = None
    addons: Addons | None = None
    reactions: Reactions | None = None
    drift: DriftPolicy = "report"
    access: Access | None = None
    budget: Budget | None = None
    on_failure: OnFailure = "keep"  # what a create that fails does with what it made (docs/cost.md, "Quota")
    tags: dict[TagName, TagValue] = Field(default_factory=dict, max_length=50)
    # DELETE is refused (409) while true; a PATCH turns it off. The profile's default: on for production.
    deletion_protection: bool | None = None
    autoscaler_profile: AutoscalerProfile | None = None
    api_server: ApiServer | None = None
    entra_id: EntraId | None = None
    security: Security | None = None
    maintenance: Maintenance | None = None
    identity: ExistingIdentity | None = None  # None: aksvend's own user-assigned identity id-<name>
    # dnsPrefix, fixed once the cluster exists; None: made from the name. An adopted cluster keeps ARM's.
    dns_prefix: DnsPrefix | None = None


class ClusterRequest(ClusterRequestInput):
    """A request after its profile was applied: every field the planner needs has a value."""

    subscription_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    kubernetes_version: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    system_pool: Pool
    # Narrower than the input's list[PoolInput] | None, as a pydantic subclass may be; mypy holds lists invariant.
    user_pools: list[Pool] = Field(default_factory=list, max_length=MAX_POOLS_IN_REQUEST)  # type: ignore[assignment]
    network: Network = Field(default_factory=Network)
    addons: Addons = Field(default_factory=Addons)
    reactions: Reactions = Field(default_factory=Reactions)
    deletion_protection: bool = False
    api_server: ApiServer = Field(default_factory=ApiServer)
    security: Security = Field(default_factory=Security)
    maintenance: Maintenance = Field(default_factory=Maintenance)

    @property
    def pools(self) -> list[Pool]:
        """The system pool first, then the user pools, in request order."""
        return [self.system_pool, *self.user_pools]

    @property
    def is_production(self) -> bool:
        return self.profile == "production"
