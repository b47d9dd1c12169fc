"""The emulator plays Entra ID over HTTPS, and the product's token validator (shared/adapters/entra.py) checks its
tokens as it would Azure's: discovery through the OpenID configuration, keys from the JWKS, rollover, refusals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from shared.adapters.entra import EntraTokenValidator, TokenRejected

pytestmark = pytest.mark.integration
AUDIENCE = "api://aksvend"


def mint(armemu, **spec: Any) -> str:
    return armemu.control("POST", "entra/token", {"audience": AUDIENCE, **spec})["access_token"]


def key_fetches(armemu) -> int:
    return sum(1 for r in armemu.requests() if r["resourceType"] == "entra/keys")


async def discover(armemu, tenant: str, **kwargs: Any) -> EntraTokenValidator:
    url = f"{armemu.base_url}/{tenant}/v2.0/.well-known/openid-configuration"
    return await EntraTokenValidator.discover(url, tenant, [AUDIENCE], ca_cert=armemu.ca_cert, **kwargs)


async def test_a_token_from_the_control_call_validates_through_the_openid_configuration_and_jwks(armemu):
    tenant = str(uuid.uuid4())
    validator = await discover(armemu, tenant)
    assert validator.issuer == f"{armemu.base_url}/{tenant}/v2.0"
    claims = await validator.validate(mint(armemu, tenant=tenant, oid="o-1", appid="app-1", groups=["g1", "g2"],
                                           roles=["Clusters.Create"], name="Ada"))
    assert (claims.tenant_id, claims.object_id, claims.app_id, claims.name) == (tenant, "o-1", "app-1", "Ada")
    assert (claims.groups, claims.roles) == ({"g1", "g2"}, {"Clusters.Create"})


def test_the_configuration_and_keys_have_the_fields_entra_publishes(armemu):
    tenant = str(uuid.uuid4())
    config = requests.get(f"{armemu.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
                          verify=armemu.ca_cert, timeout=10).json()
    assert config["token_endpoint"] == f"{armemu.base_url}/{tenant}/oauth2/v2.0/token"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = requests.get(config["jwks_uri"], verify=armemu.ca_cert, timeout=10).json()["keys"]
    assert keys and all({"kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"} <= set(k) for k in keys)
    assert all(k["kty"] == "RSA" and k["use"] == "sig" and k["kid"] == k["x5t"] for k in keys)
    common = requests.get(f"{armemu.base_url}/common/v2.0/.well-known/openid-configuration",
                          verify=armemu.ca_cert, timeout=10).json()
    assert common["issuer"] == f"{armemu.base_url}/{{tenantid}}/v2.0"


async def test_after_a_rollover_the_new_key_validates_with_one_refetch_and_keys_are_not_fetched_per_call(armemu):
    tenant = str(uuid.uuid4())
    validator = await discover(armemu, tenant, refetch_seconds=0)
    old = mint(armemu, tenant=tenant)
    for _ in range(5):
        await validator.validate(old)
    assert key_fetches(armemu) == 1
    rolled = armemu.control("POST", "entra/rollover", {"keep": True})
    new = mint(armemu, tenant=tenant)
    assert (await validator.validate(new)).tenant_id == tenant
    assert key_fetches(armemu) == 2
    for token in (old, new, old, new):
        await validator.validate(token)
    assert key_fetches(armemu) == 2
    assert armemu.control("GET", "entra")["kids"][:2] == [rolled["signingKid"], rolled["previousKid"]]


async def test_a_token_of_a_key_removed_at_rollover_is_refused_once_the_keys_are_fetched_again(armemu):
    tenant = str(uuid.uuid4())
    old = mint(armemu, tenant=tenant)
    armemu.control("POST", "entra/rollover", {"keep": False})
    with pytest.raises(TokenRejected) as refused:
        await (await discover(armemu, tenant)).validate(old)
    assert refused.value.check == "key"


async def test_the_token_endpoint_gives_client_credentials_tokens_that_validate(armemu):
    tenant = str(uuid.uuid4())
    form = {"grant_type": "client_credentials", "client_id": "automation", "client_secret": "anything",
            "scope": f"{AUDIENCE}/.default"}
    answer = requests.post(f"{armemu.base_url}/{tenant}/oauth2/v2.0/token", data=form, verify=armemu.ca_cert,
                           timeout=10).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] > 3000
    claims = await (await discover(armemu, tenant)).validate(answer["access_token"])
    assert claims.app_id == "automation" and claims.object_id == str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                 f"{tenant}/automation"))
    refused = requests.post(f"{armemu.base_url}/{tenant}/oauth2/v2.0/token", data={**form, "grant_type": "password"},
                            verify=armemu.ca_cert, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(("spec", "check"), [
    ({"tenant": "another-tenant"}, "issuer"),
    ({"audience": "api://someone-else"}, "audience"),
    ({"claims": {"tid": "another-tenant"}}, "tenant"),
    ({"expiresIn": -3600, "notBefore": 0}, "expired"),
    ({"claims": {"oid": None}}, "claims"),
])
async def test_emulator_tokens_for_another_tenant_audience_or_time_are_refused(armemu, spec, check):
    tenant = str(uuid.uuid4())
    validator = await discover(armemu, tenant)
    with pytest.raises(TokenRejected) as refused:
        await validator.validate(mint(armemu, **{"tenant": tenant, **spec}))
    assert refused.value.check == check
