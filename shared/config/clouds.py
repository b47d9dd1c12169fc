"""Where the app's identity may send its ARM token: the Resource Manager endpoint of a known Azure cloud, and the
token scope derived from it.

The azure-mgmt clients keep their default scope (`https://management.azure.com/.default`) whatever `base_url` they
are given, so the endpoint decides where that token goes: outside local mode it must be one of the clouds'
endpoints below, spelled as a plain origin (https, no user info, no port but 443, no path, query or fragment), and
the clients are given the scope `<endpoint>/.default` (`credential_scopes`, as Microsoft's multi-cloud guide for
the Python SDK does). infra/ sets the endpoint from Bicep's `environment().resourceManager`, which ends with a `/`.
In local mode any https origin is accepted: the ARM emulator, on the loopback interface and a port of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from shared.config.errors import ConfigError
from shared.config.names import ARM_ENDPOINT_SETTING, AUTH_AUTHORITY_SETTING, LOCAL_SETTING

AZURE_ARM_ENDPOINT = "https://management.azure.com"
# cloud (as `az cloud list` names it) -> its Resource Manager endpoint (azure-mgmt-core's get_arm_endpoints, and
# Bicep's environment().resourceManager, without the trailing slash). AzureGermanCloud closed in 2021.
ARM_ENDPOINTS: Mapping[str, str] = MappingProxyType({
    "AzureCloud": AZURE_ARM_ENDPOINT,
    "AzureChinaCloud": "https://management.chinacloudapi.cn",
    "AzureUSGovernment": "https://management.usgovcloudapi.net",
})
# cloud -> its Microsoft Entra ID authority (azure-identity's AzureAuthorityHosts): where the app fetches the keys
# that sign its callers' tokens. Another authority could sign tokens of its own making, so it is for local mode only.
ENTRA_AUTHORITIES: Mapping[str, str] = MappingProxyType({
    "AzureCloud": "https://login.microsoftonline.com",
    "AzureChinaCloud": "https://login.chinacloudapi.cn",
    "AzureUSGovernment": "https://login.microsoftonline.us",
})
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def arm_endpoint(value: str, *, local: bool) -> str:
    """The endpoint as `https://<host>[:<port>]`; ConfigError naming the setting (never the value) unless it is a
    plain https origin and, outside local mode, a known cloud's Resource Manager endpoint."""
    origin = _origin(value)
    if origin is None:
        raise ConfigError(f"{ARM_ENDPOINT_SETTING} must be an https:// origin (no user info, path, query or fragment)")
    if not local and origin not in ARM_ENDPOINTS.values():
        raise ConfigError(f"{ARM_ENDPOINT_SETTING} must be the Resource Manager endpoint of an Azure cloud ("
                          f"{', '.join(ARM_ENDPOINTS.values())}): the app's ARM token goes there; another endpoint "
                          f"is for local mode only ({LOCAL_SETTING}=1)")
    return origin


def entra_authority(value: str, *, local: bool) -> str:
    """The authority as an origin; ConfigError naming the setting unless, outside local mode, it is a known cloud's."""
    origin = _origin(value)
    if origin is None or (not local and origin not in ENTRA_AUTHORITIES.values()):
        raise ConfigError(f"{AUTH_AUTHORITY_SETTING} must be the Microsoft Entra ID authority of an Azure cloud ("
                          f"{', '.join(ENTRA_AUTHORITIES.values())}): its keys decide which tokens are genuine; "
                          f"another authority is for local mode only ({LOCAL_SETTING}=1)")
    return origin


def arm_scope(endpoint: str) -> str:
    """The token scope of an ARM endpoint (as `arm_endpoint` returns it)."""
    return f"{endpoint}/.default"


def same_origin(url: str, endpoint: str) -> bool:
    """Whether the absolute `url` goes to `endpoint` (scheme, host and port), so that a token sent with it goes
    where the endpoint's own requests go."""
    return _origin(url, path_allowed=True) == endpoint


def _origin(value: str, *, path_allowed: bool = False) -> str | None:
    """`https://<host>[:<port>]` of an https URL (port 443 dropped); None if it is not one, has user info, or has a
    path, query or fragment (unless `path_allowed`, for a URL on that origin)."""
    if not value.isprintable() or any(c.isspace() or c == "\\" for c in value):
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "https" or "@" in parts.netloc or not (_HOST.match(host) or _ipv6(parts.netloc)):
        return None
    if not path_allowed and (parts.path not in ("", "/") or "?" in value or "#" in value):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}" + (f":{port}" if port not in (None, 443) else "")


def _ipv6(netloc: str) -> bool:
    return bool(re.match(r"^\[[0-9a-f:]+\](?::\d+)?$", netloc.lower()))
