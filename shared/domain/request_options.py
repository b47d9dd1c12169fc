"""The production options of the request contract (issue 18): API server access, Microsoft Entra ID, workload
identity, image cleaner, maintenance windows, and the per-pool settings beyond size and count.

Shape only, like request.py: the rules that look at more than one field (Azure RBAC needs Entra ID, workload identity
needs the OIDC issuer, MIG needs an A100/H100 size ...) are in `shared/domain/rules/production.py`, each with its
source in docs/request.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.domain.request_base import ContractModel

Cidr = Annotated[str, StringConstraints(min_length=1, max_length=43)]
Guid = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Clock = Annotated[str, StringConstraints(min_length=1, max_length=5)]  # "HH:MM", checked by rule MAINTENANCE_TIME
Offset = Annotated[str, StringConstraints(min_length=1, max_length=6)]  # "+HH:MM" / "-HH:MM"

OsSku = Literal["Ubuntu", "AzureLinux", "Windows2022", "Windows2025"]
GpuInstanceProfile = Literal["MIG1g", "MIG2g", "MIG3g", "MIG4g", "MIG7g"]
ScaleDownMode = Literal["Delete", "Deallocate"]
NetworkPolicy = Literal["none", "azure", "calico", "cilium"]
NetworkDataplane = Literal["azure", "cilium"]
OutboundType = Literal["loadBalancer", "managedNATGateway", "userAssignedNATGateway", "userDefinedRouting"]
NodeOsUpgradeChannel = Literal["None", "Unmanaged", "NodeImage", "SecurityPatch"]
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

ArmId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]

MAX_AUTHORIZED_IP_RANGES = 200  # AKS: api-server-authorized-ip-ranges, "up to 200 authorized IP address ranges"


class KubeletConfig(ContractModel):
    """The kubelet settings a pool may change (AKS custom node configuration); ranges checked by rule KUBELET_*."""

    pod_max_pids: int | None = Field(default=None, ge=-1, le=4_194_304)
    image_gc_high_threshold: int | None = Field(default=None, ge=0, le=100)
    image_gc_low_threshold: int | None = Field(default=None, ge=0, le=100)


class ApiServer(ContractModel):
    """apiServerAccessProfile: a private API server, or a public one limited to authorized ranges."""

    private: bool = False
    # "system" (AKS creates the zone), "none" (no private zone: public DNS), or the ARM id of an existing zone.
    private_dns_zone: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = "system"
    public_fqdn: bool = False  # enablePrivateClusterPublicFQDN
    authorized_ip_ranges: list[Cidr] = Field(default_factory=list, max_length=MAX_AUTHORIZED_IP_RANGES)


class EntraId(ContractModel):
    """aadProfile (AKS-managed Microsoft Entra integration) and disableLocalAccounts."""

    managed: bool = True
    azure_rbac: bool = False  # enableAzureRBAC: Azure RBAC for Kubernetes authorization
    admin_group_object_ids: list[Guid] = Field(default_factory=list, max_length=50)
    disable_local_accounts: bool = False


class Security(ContractModel):
    """securityProfile and oidcIssuerProfile."""

    workload_identity: bool = False
    oidc_issuer: bool = False
    image_cleaner: bool = False
    image_cleaner_interval_hours: int = Field(default=168, ge=24, le=2160)  # AKS: 24 hours to 3 months


class MaintenanceWindow(ContractModel):
    """A planned maintenance window: weekly on `dayOfWeek` every `intervalWeeks` weeks, or (no day) daily every
    `intervalDays` days; `durationHours` from `startTime` at `utcOffset`."""

    day_of_week: WeekDay | None = None
    interval_weeks: int = Field(default=1, ge=1, le=4)
    interval_days: int = Field(default=1, ge=1, le=7)
    start_time: Clock = "00:00"
    duration_hours: int = Field(default=4, ge=4, le=24)
    utc_offset: Offset = "+00:00"


class Maintenance(ContractModel):
    """The node OS upgrade channel and the two AKS-managed maintenance windows (maintenanceConfigurations
    aksManagedAutoUpgradeSchedule and aksManagedNodeOSUpgradeSchedule)."""

    node_os_upgrade_channel: NodeOsUpgradeChannel = "NodeImage"
    auto_upgrade_window: MaintenanceWindow | None = None
    node_os_upgrade_window: MaintenanceWindow | None = None


class ServiceEndpointTarget(ContractModel):
    """The other half of a service endpoint: a storage account or Key Vault whose firewall
    (`properties.networkAcls.virtualNetworkRules`) should admit the cluster's subnets. aksvend adds its subnets'
    rules to the rules already there when the cluster is created and removes only those when it is deleted; it never
    changes the target's default action, IP rules or bypass (docs/request.md, "Service endpoint targets")."""

    target_resource_id: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class ExistingNetwork(ContractModel):
    """Bring your own network (`network.existing`; docs/request.md, "Bring your own network"): the nodes go on a
    subnet that already exists, and aksvend makes no VNet. The ids are ARM subnet ids; `nodeSubnetId` None: AKS's
    own VNet in the node resource group (what an adopted cluster without `vnetSubnetID` has)."""

    node_subnet_id: ArmId | None = None
    private_endpoint_subnet_id: ArmId | None = None


class ExistingIdentity(ContractModel):
    """The cluster's control plane identity when it is not aksvend's `id-<name>` (an adopted cluster's, or one the
    caller owns): an existing user-assigned identity (`resourceId`), or the system-assigned one. aksvend then makes no
    identity and grants it nothing: its owner granted what AKS needs on the subnets."""

    type: Literal["UserAssigned", "SystemAssigned"] = "UserAssigned"
    resource_id: ArmId | None = None
