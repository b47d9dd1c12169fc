"""Which SDK client speaks for which resource type: one entry per resource-provider family.

Each family is served by its own pinned azure-mgmt-* async client, so every request goes through that
client's own pipeline (ARM authentication and challenge handling, user agent, logging policy), exactly as
the typed operations would send it. The api-version comes from the plan, which a unit test ties to the
pinned SDKs (`tests/unit/test_arm_bodies.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Identity and authorization: the api-version-specific clients (the multi-api wrappers do not expose
# send_request); their generator names it `_send_request`, see `send`.
from azure.mgmt.authorization.v2022_04_01.aio import AuthorizationManagementClient
from azure.mgmt.containerservice.aio import ContainerServiceClient
from azure.mgmt.msi.v2024_11_30.aio import ManagedServiceIdentityClient
from azure.mgmt.network.aio import NetworkManagementClient
from azure.mgmt.privatedns.aio import PrivateDnsManagementClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    type_prefixes: tuple[str, ...]  # lower-case resource types (and their children) this family serves
    client: Callable[..., Any]


FAMILIES: tuple[Family, ...] = (
    Family("aks", ("microsoft.containerservice/",), ContainerServiceClient),
    Family("privatedns", ("microsoft.network/privatednszones",), PrivateDnsManagementClient),
    Family("network", ("microsoft.network/",), NetworkManagementClient),
    Family("identity", ("microsoft.managedidentity/",), ManagedServiceIdentityClient),
    Family("authorization", ("microsoft.authorization/",), AuthorizationManagementClient),
    Family("resources", ("microsoft.resources/",), ResourceManagementClient),
)


def family_for(resource_type: str) -> Family:
    lowered = resource_type.lower()
    for family in FAMILIES:
        if lowered.startswith(family.type_prefixes):
            return family
    raise LookupError(f"no ARM client family serves {resource_type}")


def send(client: Any, request: Any) -> Any:
    """The client's raw request method: `send_request` (TypeSpec generator) or `_send_request` (older AutoRest)."""
    method = getattr(client, "send_request", None) or client._send_request
    return method(request)
