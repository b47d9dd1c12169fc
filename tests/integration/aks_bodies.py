"""Managed cluster bodies as a client sends them to ARM, and a ContainerServiceClient on a fresh resource group,
for the emulator's AKS tests (test_armemu_aks.py, test_armemu_fidelity.py)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient


def pool(name: str, **props: Any) -> dict:
    """An agent pool profile: a User pool of 2 x Standard_D4s_v5 unless `props` say otherwise."""
    return {"name": name, "mode": "User", "vmSize": "Standard_D4s_v5", "count": 2, **props}


def cluster_body(*pools: dict, **props: Any) -> dict:
    """A cluster in westeurope on Kubernetes 1.33 with the pools given (a System pool of 3 when none is)."""
    profiles = list(pools) or [pool("system", mode="System", count=3)]
    return {
        "location": "westeurope",
        "properties": {"dnsPrefix": "c1", "kubernetesVersion": "1.33", "agentPoolProfiles": profiles, **props},
    }


def aks_client(armemu: Any, resource_group: str) -> ContainerServiceClient:
    """The SDK's AKS client on the emulator, once `resource_group` exists."""
    armemu.client(ResourceManagementClient).resource_groups.create_or_update(resource_group, {"location": "westeurope"})
    return armemu.client(ContainerServiceClient)
