"""Who is calling: proven, never assumed (docs/policy.md, "Who is calling").

`Authentication.caller(credentials)` establishes the caller of an HTTP request in exactly one of three ways, in
this order, and refuses otherwise (`CallerNotProven`, 401):

1. **A bearer token** (`Authorization: Bearer <token>`), when the app validates tokens itself (`TokenValidator`:
   shared/adapters/entra.py; on when `AKSVEND_AUTH_TENANT_ID` and `AKSVEND_AUTH_AUDIENCES` are set). The token
   decides: valid, its principal; refused, 401, whatever else the request carries (a principal header is then
   ignored); the signing keys unreachable, `CallerUnverifiable` (503: we could not check, the caller did nothing
   wrong). A request with an `Authorization` the app cannot check (no validation configured, or another scheme)
   is refused, unless Easy Auth is on and has checked it already (then 2.).
2. **Easy Auth's principal header** (`X-MS-CLIENT-PRINCIPAL`), only when the platform says App Service
   Authentication is on (`WEBSITE_AUTH_ENABLED=True`): Easy Auth strips the header from client requests and sets it
   for authenticated ones, so only then is it Easy Auth's. The principal must carry its tenant id and object id
   (`http://schemas.microsoft.com/identity/claims/tenantid` / `.../objectidentifier`, or `tid` / `oid`), and the
   tenant must be the configured one when a tenant is configured.
3. **The local caller**, in local mode only (`AKSVEND_LOCAL_CALLER`), for a request that carries no credentials.
   Without Easy Auth a principal header is not a credential: anyone can send one, so it is ignored.

A token's groups overage (more groups than fit: no `groups` claim, `_claim_names` instead) is not resolved: such
a caller has no groups (grant it by principal or app role). Neither a token nor a value read from one is ever put
in a message, a log line or an exception: refusals name the check that failed and configured values only.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from shared.domain import jsontext
from shared.domain.caller import Caller
from shared.errors import AksvendError
from shared.refusals import NotAuthenticated

log = logging.getLogger("aksvend.callers")
MAX_PRINCIPAL_CHARS = 16 * 1024
TENANT_CLAIMS = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
NAME_CLAIMS = ("name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "preferred_username")


class TokenRejected(Exception):
    """A bearer token that does not establish a caller. `check` names the failed check (shared/adapters/entra.py);
    `reason` is a sentence of configured values only, never the token's."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


class VerifiedToken(Protocol):
    @property
    def tenant_id(self) -> str: ...
    @property
    def object_id(self) -> str: ...
    @property
    def groups(self) -> frozenset[str]: ...
    @property
    def roles(self) -> frozenset[str]: ...
    @property
    def name(self) -> str: ...


class TokenValidator(Protocol):
    async def validate(self, token: Any) -> VerifiedToken:
        """The token's principal, or TokenRejected (check `keys-unavailable`: the keys could not be fetched)."""
        ...


class CallerNotProven(NotAuthenticated):
    """No caller could be established (401). `challenge` is the `WWW-Authenticate` value."""

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        super().__init__("Unauthorized", detail)
        self.challenge = 'Bearer realm="aksvend"' + (', error="invalid_token"' if invalid_token else "")


class CallerUnverifiable(AksvendError):
    """The caller's token could not be checked on our side (the signing keys are unreachable): a 503, not a 401."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an HTTP request carries that may establish its caller (header values, or None)."""

    authorization: str | None = None
    principal: str | None = None  # X-MS-CLIENT-PRINCIPAL
    principal_id: str | None = None  # X-MS-CLIENT-PRINCIPAL-ID


class Authentication:
    def __init__(self, *, tokens: TokenValidator | None = None, audiences: Iterable[str] = (),
                 easy_auth: bool = False, tenant_id: str | None = None, local_caller: Caller | None = None) -> None:
        self.tokens = tokens
        self.audiences = tuple(audiences)
        self.easy_auth = easy_auth
        self.tenant_id = tenant_id.lower() if tenant_id else None
        self.local_caller = local_caller

    async def caller(self, credentials: Credentials) -> Caller:
        if credentials.authorization is not None:
            scheme, _, token = credentials.authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and self.tokens is not None:
                return await self._bearer(token.strip())
            if not self.easy_auth:
                raise CallerNotProven(f"the Authorization header cannot be checked here; {self.accepted()}",
                                      invalid_token=scheme.lower() == "bearer")
        if self.easy_auth:
            if not credentials.principal:
                raise CallerNotProven(f"App Service Authentication is on but sent no principal; {self.accepted()}")
            return principal_caller(credentials.principal, credentials.principal_id, self.tenant_id)
        if self.local_caller is not None:
            return self.local_caller
        ignored = (" (X-MS-CLIENT-PRINCIPAL is not trusted: App Service Authentication is not on)"
                   if credentials.principal else "")
        raise CallerNotProven(f"no caller{ignored}; {self.accepted()}")

    def accepted(self) -> str:
        """Which ways this app accepts, for the 401's detail."""
        ways = []
        if self.tokens is not None:
            ways.append(f"Authorization: Bearer <an Entra ID access token for {self.audiences[0]}>"
                        if self.audiences else "Authorization: Bearer <an Entra ID access token>")
        if self.easy_auth:
            ways.append("a sign-in through App Service Authentication")
        if not ways:
            return ("this app accepts no credentials: configure AKSVEND_AUTH_TENANT_ID and AKSVEND_AUTH_AUDIENCES "
                    "(bearer tokens) or App Service Authentication")
        return "send " + " or ".join(ways)

    async def _bearer(self, token: str) -> Caller:
        assert self.tokens is not None
        try:
            claims = await self.tokens.validate(token)
        except TokenRejected as exc:
            if exc.check == "keys-unavailable":
                log.warning("a bearer token could not be checked: %s", exc.reason)
                raise CallerUnverifiable("the caller's token could not be checked: the signing keys are "
                                         "unreachable; try again shortly") from None
            log.info("a bearer token was refused: %s", exc.check)
            raise CallerNotProven(f"the bearer token was refused: {exc.reason}", invalid_token=True) from None
        try:
            return Caller(claims.tenant_id, claims.object_id, claims.groups, claims.roles, claims.name)
        except ValueError:
            raise CallerNotProven("the bearer token's tid and oid are not a tenant id and an object id (GUIDs)",
                                  invalid_token=True) from None


def principal_caller(header: str, principal_id: str | None, tenant_id: str | None) -> Caller:
    """The caller of Easy Auth's principal header (base64 JSON: auth_typ, name_typ, role_typ, claims [{typ, val}])."""
    if len(header) > MAX_PRINCIPAL_CHARS:
        raise CallerNotProven("X-MS-CLIENT-PRINCIPAL is too large")
    try:
        doc = jsontext.loads(base64.b64decode(header, validate=True))  # strict, bounded; JsonRefused is a ValueError
        claims = [(c["typ"], c["val"]) for c in doc.get("claims") or [] if isinstance(c, dict)]
        if not all(isinstance(t, str) and isinstance(v, str) for t, v in claims):
            raise ValueError("a claim is not a string")
        role_types = (*ROLE_CLAIMS, str(doc.get("role_typ") or "roles"))
        name_types = (str(doc.get("name_typ") or "name"), *NAME_CLAIMS)
    except (binascii.Error, ValueError, TypeError, AttributeError, KeyError):
        raise CallerNotProven("X-MS-CLIENT-PRINCIPAL is not Easy Auth's base64 JSON principal") from None

    def first(types: tuple[str, ...]) -> str:
        return next((v for t in types for typ, v in claims if typ == t), "")

    tenant, oid = first(TENANT_CLAIMS), first(OBJECT_ID_CLAIMS) or (principal_id or "")
    try:
        caller = Caller(tenant, oid, frozenset(v for t, v in claims if t == "groups"),
                        frozenset(v for t, v in claims if t in role_types), first(name_types))
    except ValueError:
        raise CallerNotProven("the principal has no tenant id and object id (GUIDs)") from None
    # Role values and object ids mean something only in one tenant, and only Entra ID issues them: without the
    # app's tenant, or from another provider Easy Auth was given, a principal cannot be matched to the policy.
    if str(doc.get("auth_typ") or "aad").lower() != "aad":
        raise CallerNotProven("the principal was not signed in with Microsoft Entra ID")
    if not tenant_id:
        raise CallerNotProven("the app has no tenant (AKSVEND_AUTH_TENANT_ID) to check Easy Auth's principal against")
    if caller.tenant_id != tenant_id:
        raise CallerNotProven(f"the principal is not of the tenant {tenant_id}")
    return caller
