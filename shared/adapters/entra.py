"""Entra ID access tokens (`Authorization: Bearer <token>`), validated by aksvend itself with PyJWT.

    validator = EntraTokenValidator.for_authority(tenant_id, ["api://aksvend", "<app client id>"])
    validator = await EntraTokenValidator.discover(openid_configuration_url, tenant_id, audiences)  # or this
    claims = await validator.validate(token)  # TokenClaims, or raises TokenRejected

It implements the `TokenValidator` port of shared/services/callers.py. Every refusal is one exception type,
`TokenRejected` (defined by that port), with `check` (a name below) and `reason` (a sentence). Neither
ever holds the token or a value read from it (an unverified token is attacker text); only configured values.

| check | refused when |
|---|---|
| `size` | not a string, empty, or over 16 KiB (checked before any parsing) |
| `format` | not a JWT: three base64url parts with JSON header and payload |
| `algorithm` | the header's `alg` is not RS256 (`none`, HS256 with the public key as secret, ES256 ...) |
| `key` | no `kid`, or no published RSA signing key with that `kid`, even after refetching the JWKS |
| `keys-unavailable` | the JWKS could not be fetched and none is cached (a fault on our side: a 503, not a 401) |
| `signature` | the RS256 signature does not verify against the key |
| `claims` | a required claim is missing or malformed: `exp`, `nbf`, `iat`, `iss`, `aud`, `tid`, `oid` |
| `expired` | `exp` is more than `leeway` seconds ago |
| `not-yet-valid` | `nbf` (or `iat`) is more than `leeway` seconds ahead |
| `issuer` | `iss` is not exactly the configured issuer (`https://login.microsoftonline.com/<tenant>/v2.0`) |
| `audience` | `aud` is none of the configured audiences |
| `tenant` | `tid` is not the configured tenant |

Keys: the JWKS is fetched over HTTPS on first use (aiohttp, so the event loop is never blocked), cached for
`cache_seconds`, and refetched at once when a token names an unknown `kid` (Entra rolls its keys over), at most once
per `refetch_seconds`; concurrent requests share one fetch. A failed refetch keeps the cached keys. Groups overage
(`_claim_names`) is not resolved: such a token has no `groups`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from shared.services.callers import TokenRejected  # the port's refusal (shared/services/callers.py)

log = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 16 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
ENTRA_AUTHORITY = "https://login.microsoftonline.com"
REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "aud", "tid", "oid")
Fetch = Callable[[str], Awaitable[Any]]
__all__ = ["ENTRA_AUTHORITY", "EntraTokenValidator", "TokenClaims", "TokenRejected", "https_fetcher", "parse_jwks"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Who a valid token speaks for. `name` is for display only (mutable in Entra); decide on ids, groups, roles."""

    tenant_id: str
    object_id: str
    app_id: str
    groups: frozenset[str]
    roles: frozenset[str]
    name: str = ""


class EntraTokenValidator:
    def __init__(self, tenant_id: str, audiences: Iterable[str], issuer: str, jwks_uri: str, leeway: int = 60,
                 ca_cert: str | None = None, *, cache_seconds: float = 3600, refetch_seconds: float = 60,
                 fetch: Fetch | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.tenant_id = tenant_id
        self.audiences = tuple(audiences)
        if not (tenant_id and self.audiences and issuer.startswith("https://") and jwks_uri.startswith("https://")):
            raise ValueError("a tenant, at least one audience, and an https issuer and jwks_uri are required")
        self.issuer = issuer
        self.jwks_uri = jwks_uri
        self.leeway = leeway
        self._cache_seconds = cache_seconds
        self._refetch_seconds = refetch_seconds
        self._fetch = fetch or https_fetcher(ca_cert)
        self._clock = clock
        self._keys: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def for_authority(cls, tenant_id: str, audiences: Iterable[str], authority: str = ENTRA_AUTHORITY,
                      **kwargs: Any) -> EntraTokenValidator:
        """Entra's v2.0 issuer and keys of one tenant, without a discovery request."""
        base = f"{authority.rstrip('/')}/{tenant_id}"
        return cls(tenant_id, audiences, f"{base}/v2.0", f"{base}/discovery/v2.0/keys", **kwargs)

    @classmethod
    async def discover(cls, configuration_url: str, tenant_id: str, audiences: Iterable[str],
                       **kwargs: Any) -> EntraTokenValidator:
        """Issuer and `jwks_uri` from an OpenID configuration (`.../{tenant}/v2.0/.well-known/openid-configuration`)."""
        fetch = kwargs.pop("fetch", None) or https_fetcher(kwargs.get("ca_cert"))
        document = await fetch(configuration_url)
        if not isinstance(document, dict) or not all(isinstance(document.get(k), str) for k in ("issuer", "jwks_uri")):
            raise ValueError("the OpenID configuration has no issuer or jwks_uri")
        issuer = document["issuer"].replace("{tenantid}", tenant_id)
        return cls(tenant_id, audiences, issuer, document["jwks_uri"], fetch=fetch, **kwargs)

    async def validate(self, token: Any) -> TokenClaims:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("size", f"the token is empty or longer than {MAX_TOKEN_CHARS} characters")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("format", "the token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise TokenRejected("algorithm", "the token is not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("key", "the token names no signing key (kid)")
        payload = self._decode(token, await self._signing_key(kid))
        if str(payload["tid"]).lower() != self.tenant_id.lower():
            raise TokenRejected("tenant", f"the token's tid is not the tenant {self.tenant_id}")
        return _claims(payload)

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            return jwt.decode(token, key, algorithms=["RS256"], audience=list(self.audiences), issuer=self.issuer,
                              leeway=self.leeway, options={"require": list(REQUIRED_CLAIMS), "strict_aud": False})
        except jwt.PyJWTError as exc:
            raise _rejection(exc, self) from None

    async def _signing_key(self, kid: str) -> Any:
        keys = self._keys
        if keys is not None and kid in keys and self._clock() - self._fetched_at < self._cache_seconds:
            return keys[kid]
        async with self._lock:
            keys = self._keys
            if keys is None or kid not in keys or self._clock() - self._fetched_at >= self._cache_seconds:
                await self._refresh()
                keys = self._keys
        if keys is None:
            raise TokenRejected("keys-unavailable", f"the signing keys at {self.jwks_uri} could not be fetched")
        if kid not in keys:
            raise TokenRejected("key", f"no signing key published at {self.jwks_uri} has the token's kid")
        return keys[kid]

    async def _refresh(self) -> None:
        """Fetch the JWKS unless a fetch was attempted less than `refetch_seconds` ago; keep old keys on failure."""
        now = self._clock()
        if self._attempted_at is not None and now - self._attempted_at < self._refetch_seconds:
            return
        self._attempted_at = now
        try:
            self._keys = parse_jwks(await self._fetch(self.jwks_uri))
            self._fetched_at = now
            log.info("fetched %d signing keys from %s", len(self._keys), self.jwks_uri)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("could not fetch the signing keys from %s: %s", self.jwks_uri, type(exc).__name__)


def parse_jwks(document: Any) -> dict[str, Any]:
    """`{kid: public key}` of the RSA signing keys in a JWKS; other keys are skipped. ValueError if none is usable."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS")
    keys: dict[str, Any] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        if isinstance(jwk.get("kid"), str):
            try:
                keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk, algorithm="RS256").key
            except jwt.PyJWTError:
                continue
    if not keys:
        raise ValueError("the JWKS has no usable RSA signing key")
    return keys


def https_fetcher(ca_cert: str | None = None, timeout: float = 10.0) -> Fetch:
    """GET a JSON document over HTTPS (trusting `ca_cert` if given, else the system's CAs), at most 1 MiB."""
    context = ssl.create_default_context(cafile=ca_cert)

    async def fetch(url: str) -> Any:
        if not url.startswith("https://"):
            raise ValueError("only https URLs are fetched")
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session, session.get(
            url, ssl=context, allow_redirects=False, headers={"Accept": "application/json"}
        ) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ValueError("the document is larger than 1 MiB")
            return json.loads(body)

    return fetch


def _rejection(exc: jwt.PyJWTError, validator: EntraTokenValidator) -> TokenRejected:
    leeway = f"beyond the {validator.leeway} s leeway"
    cases: list[tuple[type[Exception], str, str]] = [
        (jwt.InvalidSignatureError, "signature", "the signature does not verify against the published key"),
        (jwt.ExpiredSignatureError, "expired", f"the token expired ({leeway})"),
        (jwt.ImmatureSignatureError, "not-yet-valid", f"the token is not valid yet ({leeway})"),
        (jwt.InvalidIssuerError, "issuer", f"the token's iss is not {validator.issuer}"),
        (jwt.InvalidAudienceError, "audience", f"the token's aud is none of {', '.join(validator.audiences)}"),
        (jwt.InvalidAlgorithmError, "algorithm", "the token is not signed with RS256"),
        (jwt.InvalidIssuedAtError, "claims", "the token's iat is not a number"),
        (jwt.InvalidKeyError, "key", "the published key cannot verify RS256"),
    ]
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return TokenRejected("claims", f"the token has no {exc.claim} claim")
    for kind, check, reason in cases:
        if isinstance(exc, kind):
            return TokenRejected(check, reason)
    return TokenRejected("format", "the token's claims cannot be read")


def _claims(payload: dict[str, Any]) -> TokenClaims:
    oid = payload["oid"]
    if not isinstance(oid, str) or not oid:
        raise TokenRejected("claims", "the token's oid is not a string")
    lists = {}
    for name in ("groups", "roles"):
        value = payload.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TokenRejected("claims", f"the token's {name} is not a list of strings")
        lists[name] = frozenset(value)
    app_id = payload.get("azp") or payload.get("appid") or ""
    name = payload.get("name") or payload.get("preferred_username") or ""
    return TokenClaims(str(payload["tid"]).lower(), oid, str(app_id), lists["groups"], lists["roles"], str(name))
