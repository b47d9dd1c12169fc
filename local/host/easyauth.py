"""App Service Authentication (Easy Auth) in front of the app, as `python -m local.host --easy-auth` plays it, with
the settings infra/app/api.bicep deploys (`requireAuthentication`, `unauthenticatedClientAction: Return401`, the
Entra provider, `excludedPaths`):

- every client-sent `X-MS-CLIENT-PRINCIPAL*` header is dropped, on every path: only Easy Auth sets them;
- a path in `EXCLUDED_PATHS` passes without a token (health, the Event Grid and ticketing webhooks: they check
  their own secrets and signatures);
- any other request needs `Authorization: Bearer <token>`, an Entra access token valid for the app's tenant and
  audiences (checked as the app checks them, shared/adapters/entra.py, against the emulator's Entra ID).
  Without one: 401 with `WWW-Authenticate`, and the app never sees the request; keys unreachable: 503;
- a valid one reaches the app with `X-MS-CLIENT-PRINCIPAL` (base64 JSON built from the token's claims, as Easy
  Auth builds it), `X-MS-CLIENT-PRINCIPAL-ID`, `-NAME` and `-IDP: aad`; `Authorization` is passed on too.

The host also sets `WEBSITE_AUTH_ENABLED=True` for the app, as App Service does when authentication is on
(local/host/stack.py), and assumes no local caller. Not played: sign-in redirects, the token store, `/.auth/*`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.adapters.entra import EntraTokenValidator, TokenClaims, TokenRejected

EXCLUDED_PATHS = ("/api/health", "/api/events", "/api/webhooks/jira", "/api/webhooks/servicenow",
                  "/api/webhooks/github", "/api/webhooks/generic", "/runtime/webhooks/EventGrid")
PRINCIPAL_PREFIX = b"x-ms-client-principal"
NAME_TYPE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
_EXCLUDED = frozenset(p.lower() for p in EXCLUDED_PATHS)


def principal_header(claims: TokenClaims) -> str:
    """`X-MS-CLIENT-PRINCIPAL` for a validated token, in Easy Auth's shape (claim types as it maps them)."""
    values = [("http://schemas.microsoft.com/identity/claims/tenantid", claims.tenant_id),
              ("http://schemas.microsoft.com/identity/claims/objectidentifier", claims.object_id),
              ("azp", claims.app_id), *([(NAME_TYPE, claims.name)] if claims.name else []),
              *(("groups", g) for g in sorted(claims.groups)), *((ROLE_TYPE, r) for r in sorted(claims.roles))]
    doc = {"auth_typ": "aad", "name_typ": NAME_TYPE, "role_typ": ROLE_TYPE,
           "claims": [{"typ": t, "val": v} for t, v in values]}
    return base64.b64encode(json.dumps(doc).encode()).decode()


class EasyAuth:
    """ASGI middleware: the app behind it sees only what Easy Auth would let through."""

    def __init__(self, app: Any, validator: EntraTokenValidator) -> None:
        self.app = app
        self.validator = validator

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = [(k, v) for k, v in scope.get("headers", []) if not k.lower().startswith(PRINCIPAL_PREFIX)]
        scope = {**scope, "headers": headers}
        if scope["path"].rstrip("/").lower() in _EXCLUDED:
            return await self.app(scope, receive, send)
        authorization = next((v.decode("latin-1") for k, v in headers if k.lower() == b"authorization"), "")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return await _refuse(send, 401, "sign in: send Authorization: Bearer <an Entra ID access token>")
        try:
            claims = await self.validator.validate(token.strip())
        except TokenRejected as exc:
            if exc.check == "keys-unavailable":
                return await _refuse(send, 503, "the signing keys could not be fetched")
            return await _refuse(send, 401, f"the token was refused: {exc.reason}", invalid=True)
        added = [(b"x-ms-client-principal", principal_header(claims).encode()),
                 (b"x-ms-client-principal-id", claims.object_id.encode()),
                 (b"x-ms-client-principal-name", claims.name.encode("utf-8", "replace")),
                 (b"x-ms-client-principal-idp", b"aad")]
        return await self.app({**scope, "headers": headers + added}, receive, send)


async def _refuse(send: Any, status: int, message: str, *, invalid: bool = False) -> None:
    body = message.encode()
    challenge = 'Bearer realm="easyauth"' + (', error="invalid_token"' if invalid else "")
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", challenge.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
