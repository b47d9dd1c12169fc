"""An offline credential for the Azure SDK clients when they talk to the local ARM emulator.

It implements azure-core's `TokenCredential` / `SupportsTokenInfo` (sync) and `AsyncTokenCredential` /
`AsyncSupportsTokenInfo` (async) without any network call: it mints an unsigned JWT-shaped token (`alg: none`) that
names the tenant and object id, valid for an hour. The emulator only checks that a bearer token is present, as ARM
would reject a request without one; it never validates signatures. Never use this against Azure: it cannot work there,
by design.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000e7e7"
DEFAULT_OBJECT_ID = "11111111-1111-4111-8111-111111111111"
LIFETIME_SECONDS = 3600


def mint_token(
    scopes: tuple[str, ...], tenant_id: str, object_id: str, lifetime: int = LIFETIME_SECONDS
) -> AccessToken:
    """An unsigned token whose claims look like Entra ID's for ARM; `expires_on` is in epoch seconds."""
    now = int(time.time())
    audience = scopes[0].removesuffix("/.default") if scopes else "https://management.azure.com"
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "oid": object_id,
        "tid": tenant_id,
        "sub": object_id,
        "appid": object_id,
    }
    token = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims), ""])
    return AccessToken(token, now + lifetime)


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()


class OfflineCredential:
    """Sync credential for `ContainerServiceClient(credential=OfflineCredential(), base_url=..., ...)`."""

    def __init__(self, tenant_id: str = DEFAULT_TENANT, object_id: str = DEFAULT_OBJECT_ID) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return mint_token(scopes, self.tenant_id, self.object_id)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        token = self.get_token(*scopes)
        return AccessTokenInfo(token.token, token.expires_on, token_type="Bearer")

    def close(self) -> None:
        """Nothing to release; present so the credential can be used wherever SDK credentials are closed."""

    def __enter__(self) -> OfflineCredential:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncOfflineCredential:
    """Async twin of `OfflineCredential`, for the `azure.mgmt.*.aio` clients."""

    def __init__(self, tenant_id: str = DEFAULT_TENANT, object_id: str = DEFAULT_OBJECT_ID) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return mint_token(scopes, self.tenant_id, self.object_id)

    async def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        token = await self.get_token(*scopes)
        return AccessTokenInfo(token.token, token.expires_on, token_type="Bearer")

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> AsyncOfflineCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
