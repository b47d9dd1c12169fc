"""Which SDK client sends the requests of each family of resource types: the one fact about a type that needs
the SDK. A type's record (`shared.domain.arm.ResourceType`) names its family; this table maps the name to the
client class.

Each family is served by its own pinned azure-mgmt-* async client, so every request goes through that
client's own pipeline (ARM authentication and challenge handling, user agent, logging policy), exactly as
the typed operations would send it. The api-version comes from the type's record, which a unit test ties to
the pinned SDKs (`tests/unit/test_arm_bodies.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

# Identity and authorization: the api-version-specific clients (the multi-api wrappers do not expose
# send_request); their generator names it `_send_request`, see `send`.
from azure.mgmt.authorization.v2022_04_01.aio import AuthorizationManagementClient
from azure.mgmt.containerservice.aio import ContainerServiceClient
from azure.mgmt.msi.v2024_11_30.aio import ManagedServiceIdentityClient
from azure.mgmt.network.aio import NetworkManagementClient
from azure.mgmt.privatedns.aio import PrivateDnsManagementClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient

CLIENTS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "aks": ContainerServiceClient,
    "privatedns": PrivateDnsManagementClient,
    "network": NetworkManagementClient,
    "identity": ManagedServiceIdentityClient,
    "authorization": AuthorizationManagementClient,
    "resources": ResourceManagementClient,
})


def send(client: Any, request: Any) -> Any:
    """The client's raw request method: `send_request` (TypeSpec generator) or `_send_request` (older AutoRest)."""
    method = getattr(client, "send_request", None) or client._send_request
    return method(request)
