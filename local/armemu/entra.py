"""The emulator as Entra ID (the Microsoft identity platform, v2.0 endpoints), so that tests and the demo use real
RS256-signed access tokens, validated as aksvend validates Azure's (shared/adapters/entra.py).

- `GET /{tenant}/v2.0/.well-known/openid-configuration`: the OpenID configuration (`issuer`
  `https://<host>/{tenant}/v2.0`, `jwks_uri`, `token_endpoint`, ...), the fields Entra publishes.
- `GET /{tenant}/discovery/v2.0/keys`: the JWKS, each key with `kty`, `use`, `kid`, `x5t`, `n`, `e`, `x5c`, `issuer`.
- `POST /{tenant}/oauth2/v2.0/token`: the client credentials grant (form `grant_type`, `client_id`, `scope`
  `<audience>/.default`; any secret passes), for a client that only knows the authority.
- `POST /_emulator/entra/token`: a token with the claims asked for, JSON `{tenant, oid, audience, groups, roles,
  appid, name, scp, sub, expiresIn, notBefore, kid, claims}` (all optional; `claims` overrides, null removes).
- `POST /_emulator/entra/rollover`: `{"keep": true}`: a new signing key; the old one stays published (`keep`, at
  most three keys) or is removed (`"keep": false`).
- `GET /_emulator/entra`: the published kids and the signing kid.

The RSA keys (2048 bits) are made in memory when first needed, never written anywhere, and live as long as the
process (a control `reset` keeps them). `kid` and `x5t` are the base64url SHA-1 thumbprint of a self-signed
certificate for the key, as Entra's are. Requests to the three Entra routes are in the request log
(`resourceType` `entra/openidConfiguration`, `entra/keys`, `entra/token`), so tests can count JWKS fetches.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .world import World

TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
DEFAULT_AUDIENCE = "api://aksvend"
DEFAULT_OBJECT_ID = "22222222-2222-4222-8222-222222222222"
DEFAULT_APP_ID = "33333333-3333-4333-8333-333333333333"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    cert_der: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(_b64url(hashlib.sha1(der).digest()), key, der)  # x5t is SHA-1 by definition

    def jwk(self, issuer: str) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": _int_b64(numbers.n),
                "e": _int_b64(numbers.e), "x5c": [base64.b64encode(self.cert_der).decode()], "issuer": issuer}


class EntraKeys:
    """The published keys, newest first; the first one signs."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []

    def signing(self) -> SigningKey:
        if not self.keys:
            self.keys.append(SigningKey.generate())
        return self.keys[0]

    def find(self, kid: str | None) -> SigningKey:
        if kid is None:
            return self.signing()
        found = next((k for k in self.keys if k.kid == kid), None)
        if found is None:
            raise ValueError(f"no published key with kid {kid!r}")
        return found

    def rollover(self, keep: bool) -> dict[str, Any]:
        previous = self.signing()
        self.keys = [SigningKey.generate(), *(self.keys if keep else [])][:3]
        return {"signingKid": self.keys[0].kid, "previousKid": previous.kid, "kids": [k.kid for k in self.keys]}


def issuer_of(base: str, tenant: str) -> str:
    """Entra's v2.0 issuer; the multi-tenant authorities publish the `{tenantid}` template, as Entra does."""
    return f"{base}/{'{tenantid}' if tenant.lower() in MULTI_TENANT else tenant}/v2.0"


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    authority = f"{base}/{tenant}"
    return {
        "token_endpoint": f"{authority}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{authority}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer_of(base, tenant),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{authority}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                             "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                             "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }


def access_token_claims(base: str, spec: dict[str, Any], default_tenant: str) -> dict[str, Any]:
    """Entra v2.0 access token claims for a control request; `claims` overrides (a null value removes a claim)."""
    tenant = _tenant(spec.get("tenant") or default_tenant)
    now = int(time.time())
    not_before = int(spec.get("notBefore", now))
    oid = str(spec.get("oid") or DEFAULT_OBJECT_ID)
    claims: dict[str, Any] = {
        "aud": spec.get("audience") or DEFAULT_AUDIENCE, "iss": f"{base}/{tenant}/v2.0", "iat": now,
        "nbf": not_before, "exp": now + int(spec.get("expiresIn", 3600)), "aio": _b64url(uuid.uuid4().bytes),
        "azp": str(spec.get("appid") or DEFAULT_APP_ID), "azpacr": "1", "oid": oid, "rh": "0.emulator.",
        "sub": str(spec.get("sub") or oid), "tid": tenant, "uti": _b64url(uuid.uuid4().bytes)[:22], "ver": "2.0",
    }
    for name in ("groups", "roles"):
        if spec.get(name):
            claims[name] = [str(v) for v in spec[name]]
    for name in ("name", "scp", "preferred_username", "idtyp"):
        if spec.get(name):
            claims[name] = str(spec[name])
    for name, value in (spec.get("claims") or {}).items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def sign(key: SigningKey, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"typ": "JWT", "kid": key.kid})


def token_response(token: str, claims: dict[str, Any]) -> dict[str, Any]:
    lifetime = max(0, int(claims.get("exp", 0)) - int(time.time()))
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}


def _tenant(value: Any) -> str:
    if not isinstance(value, str) or not TENANT.match(value):
        raise ValueError("tenant must be a tenant id or domain name")
    return value


def _oauth_error(code: str, aadsts: str, description: str) -> web.Response:
    return web.json_response({"error": code, "error_description": f"{aadsts}: {description}",
                              "error_codes": [int(aadsts[6:])], "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                              "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}, status=400)


def client_credentials(keys: EntraKeys, base: str, tenant: str, form: Any) -> web.Response:
    """The client credentials grant: any secret passes; the app's object id is derived from tenant and client id."""
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "AADSTS70003", "The app requested an unsupported grant type.")
    client_id, scope = str(form.get("client_id") or ""), str(form.get("scope") or "")
    if not client_id or not scope.endswith("/.default"):
        return _oauth_error("invalid_request", "AADSTS900144", "client_id and a scope ending in /.default required.")
    spec = {"tenant": tenant, "audience": scope.removesuffix("/.default"), "appid": client_id, "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant.lower()}/{client_id}"))}
    claims = access_token_claims(base, spec, tenant)
    return web.json_response(token_response(sign(keys.signing(), claims), claims))


async def _spec(request: web.Request) -> dict[str, Any]:
    spec = await request.json() if request.can_read_body else {}
    if not isinstance(spec, dict):
        raise ValueError("the body must be a JSON object")
    return spec


def routes(world: World, base_url: Any) -> list[web.RouteDef]:
    keys = EntraKeys()

    def logged(label: str, handler: Any) -> Any:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            tenant = request.match_info.get("tenant", "")
            if not TENANT.match(tenant):
                response: web.StreamResponse = _oauth_error("invalid_tenant", "AADSTS90002", "Tenant not found.")
            else:
                response = await handler(request, base_url(request), tenant)
            world.log.record(request.method, request.path, response.status,
                             (time.perf_counter() - started) * 1000, f"entra/{label}")
            return response

        return wrapper

    async def configuration(_: web.Request, base: str, tenant: str) -> web.Response:
        return web.json_response(openid_configuration(base, tenant))

    async def jwks(_: web.Request, base: str, tenant: str) -> web.Response:
        keys.signing()
        return web.json_response({"keys": [k.jwk(issuer_of(base, tenant)) for k in keys.keys]})

    async def token(request: web.Request, base: str, tenant: str) -> web.Response:
        return client_credentials(keys, base, tenant, await request.post())

    async def control_token(request: web.Request) -> web.Response:
        try:
            spec = await _spec(request)
            claims = access_token_claims(base_url(request), spec, world.settings.tenant_id)
            issued = sign(keys.find(spec.get("kid")), claims)
        except (ValueError, TypeError, AttributeError) as exc:
            return web.json_response({"error": {"code": "BadRequest", "message": str(exc)}}, status=400)
        return web.json_response(token_response(issued, claims))

    async def rollover(request: web.Request) -> web.Response:
        try:
            keep = (await _spec(request)).get("keep", True)
        except ValueError as exc:
            return web.json_response({"error": {"code": "BadRequest", "message": str(exc)}}, status=400)
        return web.json_response(keys.rollover(bool(keep)))

    async def state(_: web.Request) -> web.Response:
        return web.json_response({"signingKid": keys.signing().kid, "kids": [k.kid for k in keys.keys]})

    return [
        web.get("/{tenant}/v2.0/.well-known/openid-configuration", logged("openidConfiguration", configuration)),
        web.get("/{tenant}/discovery/v2.0/keys", logged("keys", jwks)),
        web.post("/{tenant}/oauth2/v2.0/token", logged("token", token)),
        web.post("/_emulator/entra/token", control_token),
        web.post("/_emulator/entra/rollover", rollover),
        web.get("/_emulator/entra", state),
    ]
