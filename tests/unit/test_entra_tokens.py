"""The Entra token validator (shared/adapters/entra.py) against keys made here and a local JWKS: what it accepts,
what it refuses and why, and how it caches and refetches the signing keys."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.adapters.entra import EntraTokenValidator, TokenRejected

TENANT = "aaaaaaaa-0000-4000-8000-00000000aaaa"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
JWKS_URI = f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"
AUDIENCE = "api://aksvend"
OID = "bbbbbbbb-0000-4000-8000-00000000bbbb"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NEW_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig"}


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"aud": AUDIENCE, "iss": ISSUER, "iat": now, "nbf": now, "exp": now + 3600, "tid": TENANT, "oid": OID,
            "sub": "pairwise-subject", "azp": "cccccccc-0000-4000-8000-00000000cccc", "ver": "2.0",
            "groups": ["platform-admins"], "roles": ["Clusters.Create"], "name": "Ada"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm="RS256", headers={"kid": kid})


def unsigned(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    def part(value: Any) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(body)}.{part(signature) if signature else ''}"


def hs256_with_the_public_key() -> str:
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims()).rstrip(".")
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def hmac_under_an_rs256_header() -> str:
    _, body, signature = hs256_with_the_public_key().split(".")
    return ".".join([unsigned({"alg": "RS256", "typ": "JWT", "kid": "k1"}, {}).split(".")[0], body, signature])


class Jwks:
    """A local JWKS that counts how often it is fetched."""

    def __init__(self, *keys: tuple[rsa.RSAPrivateKey, str]) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.failing = False

    async def __call__(self, url: str) -> Any:
        assert url == JWKS_URI
        self.fetches += 1
        if self.failing:
            raise ValueError("HTTP 503")
        return {"keys": [jwk(key, kid) for key, kid in self.keys]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def validator(jwks: Jwks, clock: Clock | None = None, **kwargs: Any) -> EntraTokenValidator:
    return EntraTokenValidator(TENANT, [AUDIENCE, "dddddddd-0000-4000-8000-00000000dddd"], ISSUER, JWKS_URI,
                               fetch=jwks, clock=clock or Clock(), **kwargs)


async def test_a_valid_token_gives_its_tenant_object_id_app_id_groups_roles_and_name():
    found = await validator(Jwks((KEY, "k1"))).validate(token())
    assert (found.tenant_id, found.object_id, found.app_id) == (TENANT, OID, "cccccccc-0000-4000-8000-00000000cccc")
    assert (found.groups, found.roles, found.name) == ({"platform-admins"}, {"Clusters.Create"}, "Ada")


async def test_a_v1_style_appid_and_any_configured_audience_are_accepted():
    found = await validator(Jwks((KEY, "k1"))).validate(
        token(azp=None, appid="eeee", aud="dddddddd-0000-4000-8000-00000000dddd", groups=None, roles=None))
    assert (found.app_id, found.groups, found.roles) == ("eeee", frozenset(), frozenset())


async def test_a_token_expired_or_not_yet_valid_within_the_leeway_is_accepted():
    now = int(time.time())
    checker = validator(Jwks((KEY, "k1")), leeway=60)
    await checker.validate(token(exp=now - 30))
    await checker.validate(token(nbf=now + 30, iat=now + 30))


NOW = int(time.time())
REFUSALS = {
    "wrong signature": ("signature", lambda: token(key=OTHER_KEY)),
    "alg none": ("algorithm", lambda: unsigned({"alg": "none", "typ": "JWT"}, claims())),
    "HS256 signed with the public key": ("algorithm", hs256_with_the_public_key),
    "an HMAC of the public key under an RS256 header": ("signature", hmac_under_an_rs256_header),
    "wrong issuer": ("issuer", lambda: token(iss="https://login.microsoftonline.com/other/v2.0")),
    "v1 issuer of the same tenant": ("issuer", lambda: token(iss=f"https://sts.windows.net/{TENANT}/")),
    "wrong audience": ("audience", lambda: token(aud="api://someone-else")),
    "wrong tenant": ("tenant", lambda: token(tid="ffffffff-0000-4000-8000-00000000ffff")),
    "expired beyond the leeway": ("expired", lambda: token(exp=NOW - 120)),
    "not yet valid beyond the leeway": ("not-yet-valid", lambda: token(nbf=NOW + 3000)),
    "issued in the future": ("not-yet-valid", lambda: token(iat=NOW + 3000)),
    "missing oid": ("claims", lambda: token(oid=None)),
    "missing tid": ("claims", lambda: token(tid=None)),
    "missing exp": ("claims", lambda: token(exp=None)),
    "oid not a string": ("claims", lambda: token(oid=42)),
    "groups not a list": ("claims", lambda: token(groups="admins")),
    "unknown kid": ("key", lambda: token(kid="k9")),
    "no kid": ("key", lambda: jwt.encode(claims(), KEY, algorithm="RS256")),
    "oversize": ("size", lambda: token(name="x" * 17_000)),
    "empty": ("size", lambda: ""),
    "garbage": ("format", lambda: "not.a.jwt"),
    "signed payload not JSON": ("format", lambda: jwt.api_jws.encode(b"{oops", KEY, "RS256", {"kid": "k1"})),
}


@pytest.mark.parametrize("case", REFUSALS)
async def test_a_bad_token_is_refused_with_a_reason_naming_the_check_and_never_the_token(case: str):
    check, make = REFUSALS[case]
    bad = make()
    with pytest.raises(TokenRejected) as refused:
        await validator(Jwks((KEY, "k1"))).validate(bad)
    assert refused.value.check == check
    assert str(refused.value).startswith(f"{check}: ")
    if len(bad) > 16:
        assert bad not in str(refused.value) and bad.split(".")[0] not in str(refused.value)


async def test_the_keys_are_fetched_once_and_then_served_from_the_cache():
    jwks = Jwks((KEY, "k1"))
    checker = validator(jwks)
    for _ in range(20):
        await checker.validate(token())
    assert jwks.fetches == 1


async def test_an_unknown_kid_refetches_the_keys_once_so_a_rolled_over_key_is_accepted():
    jwks, clock = Jwks((KEY, "k1")), Clock()
    checker = validator(jwks, clock)
    await checker.validate(token())
    jwks.keys.insert(0, (NEW_KEY, "k2"))
    clock.now += 61
    assert (await checker.validate(token(key=NEW_KEY, kid="k2"))).object_id == OID
    await checker.validate(token())
    assert jwks.fetches == 2


async def test_refetches_for_unknown_kids_are_rate_limited():
    jwks, clock = Jwks((KEY, "k1")), Clock()
    checker = validator(jwks, clock, refetch_seconds=60)
    await checker.validate(token())
    for _ in range(5):
        with pytest.raises(TokenRejected, match=r"^key: "):
            await checker.validate(token(kid="unknown"))
    assert jwks.fetches == 1
    clock.now += 60
    with pytest.raises(TokenRejected, match=r"^key: "):
        await checker.validate(token(kid="unknown"))
    assert jwks.fetches == 2


async def test_concurrent_requests_with_a_new_kid_share_one_fetch():
    jwks, clock = Jwks((KEY, "k1")), Clock()
    checker = validator(jwks, clock)
    await checker.validate(token())
    jwks.keys.append((NEW_KEY, "k2"))
    clock.now += 61
    await asyncio.gather(*(checker.validate(token(key=NEW_KEY, kid="k2")) for _ in range(10)))
    assert jwks.fetches == 2


async def test_the_keys_are_refetched_after_the_cache_time():
    jwks, clock = Jwks((KEY, "k1")), Clock()
    checker = validator(jwks, clock, cache_seconds=3600)
    await checker.validate(token())
    clock.now += 3599
    await checker.validate(token())
    clock.now += 1
    await checker.validate(token())
    assert jwks.fetches == 2


async def test_a_failed_refetch_keeps_the_cached_keys():
    jwks, clock = Jwks((KEY, "k1")), Clock()
    checker = validator(jwks, clock, cache_seconds=3600)
    await checker.validate(token())
    jwks.failing = True
    clock.now += 4000
    assert (await checker.validate(token())).object_id == OID
    assert jwks.fetches == 2


async def test_without_any_keys_the_token_is_refused_as_keys_unavailable():
    jwks = Jwks((KEY, "k1"))
    jwks.failing = True
    with pytest.raises(TokenRejected) as refused:
        await validator(jwks).validate(token())
    assert refused.value.check == "keys-unavailable"


def test_an_issuer_or_jwks_uri_without_https_is_refused():
    with pytest.raises(ValueError, match="https"):
        EntraTokenValidator(TENANT, [AUDIENCE], ISSUER, JWKS_URI.replace("https", "http"))


def test_the_entra_authority_gives_the_v2_issuer_and_keys_of_the_tenant():
    checker = EntraTokenValidator.for_authority(TENANT, [AUDIENCE])
    assert (checker.issuer, checker.jwks_uri) == (ISSUER, JWKS_URI)
