"""A violation: one broken rule, located in the request by a JSON pointer.

Codes are stable API: callers and tickets match on them. Messages say the rule and the allowed values.
`source` names the document the rule comes from, so that a reader can check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# Sources, short names as in docs/aks-facts.md.
SPEC = "Azure/azure-rest-api-specs managedClusters.json (2026-08-01)"
USE_SYSTEM_POOLS = "learn.microsoft.com/azure/aks/use-system-pools"
CREATE_NODE_POOLS = "learn.microsoft.com/azure/aks/create-node-pools"
QUOTAS = "learn.microsoft.com/azure/aks/quotas-skus-regions"
SPOT = "learn.microsoft.com/azure/aks/spot-node-pool"
GPU = "learn.microsoft.com/azure/aks/use-nvidia-gpu"
IP_PLANNING = "learn.microsoft.com/azure/aks/concepts-network-ip-address-planning"
OVERLAY = "learn.microsoft.com/azure/aks/azure-cni-overlay"
KUBENET = "learn.microsoft.com/azure/aks/configure-kubenet"
ZONES = "learn.microsoft.com/azure/aks/reliability-availability-zones-configure"
EPHEMERAL = "learn.microsoft.com/azure/virtual-machines/ephemeral-os-disks"
VM_SIZES = "learn.microsoft.com/azure/virtual-machines/sizes"
SERVICE_ENDPOINTS = "learn.microsoft.com/azure/virtual-network/virtual-network-service-endpoints-overview"
PRIVATE_ENDPOINTS = "learn.microsoft.com/azure/private-link/private-endpoint-dns"
VNET_FAQ = "learn.microsoft.com/azure/virtual-network/virtual-networks-faq"
ARM_NAMING = "learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"
ARM_TAGS = "learn.microsoft.com/azure/azure-resource-manager/management/tag-resources"
SUPPORTED_VERSIONS = "learn.microsoft.com/azure/aks/supported-kubernetes-versions"
TAINTS = "kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration"
LABELS = "kubernetes.io/docs/concepts/overview/working-with-objects/labels"
CONTRACT = "aksvend docs/design.md section 2 (request contract v1)"
AKSVEND = "aksvend decision (docs/aks-facts.md)"


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    path: str
    message: str
    severity: Severity = "error"
    source: str = CONTRACT

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
            "source": self.source,
        }


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) from path parts: pointer("userPools", 2, "spot") == "/userPools/2/spot"."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def errors(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity == "error"]


def warnings(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity == "warning"]
