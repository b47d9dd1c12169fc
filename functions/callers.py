"""Who is calling: the request's credentials, handed to the runtime's `Authentication` (shared/services/callers.py,
which says which ways establish a caller and in what order).

- `Authorization: Bearer <token>`: an Entra ID access token the app validates itself.
- `X-MS-CLIENT-PRINCIPAL` (base64 JSON: auth_typ, name_typ, role_typ, claims [{typ, val}]) and
  `X-MS-CLIENT-PRINCIPAL-ID`: set by App Service Authentication (Easy Auth), and trusted only when the platform
  says it is on (`WEBSITE_AUTH_ENABLED=True`); otherwise anyone could have sent them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from shared.services.callers import Credentials

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.domain.caller import Caller


async def caller_of(request: Request, rt: Runtime) -> Caller:
    """The caller, or CallerNotProven (401) / CallerUnverifiable (503)."""
    headers = request.headers
    return await rt.authentication.caller(Credentials(authorization=headers.get("authorization"),
                                                      principal=headers.get("x-ms-client-principal"),
                                                      principal_id=headers.get("x-ms-client-principal-id")))
