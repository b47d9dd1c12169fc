"""Who is calling (shared/services/callers.py): each of the three ways, their order, and every refusal, over a fake
token validator (the real one: tests/unit/test_entra_tokens.py; through HTTP: tests/integration/test_http_api.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shared.adapters.entra import TokenClaims
from shared.domain.caller import Caller
from shared.services.callers import (
    Authentication,
    CallerNotProven,
    CallerUnverifiable,
    Credentials,
    TokenRejected,
    principal_caller,
)
from tests.principals import OTHER_TENANT, TENANT, oid, principal

GOOD = "header.payload.signature"
LOCAL = principal("dev")


class Tokens:
    """A validator that knows one good token (Ada's), refuses others, or cannot reach its keys."""

    def __init__(self, *, keys: bool = True) -> None:
        self.keys = keys
        self.seen: list[str] = []

    async def validate(self, token: Any) -> TokenClaims:
        self.seen.append(token)
        if not self.keys:
            raise TokenRejected("keys-unavailable", "the signing keys at https://login.example/keys could not be "
                                                    "fetched")
        if token != GOOD:
            raise TokenRejected("audience", "the token's aud is none of api://aksvend")
        return TokenClaims(TENANT, oid("ada"), "app", frozenset({oid("admins")}), frozenset({"Clusters.Admin"}), "Ada")


def easy_auth_principal(claims: list[tuple[str, str]], **doc: Any) -> str:
    body = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles",
            "claims": [{"typ": t, "val": v} for t, v in claims], **doc}
    return base64.b64encode(json.dumps(body).encode()).decode()


def easy_auth_on() -> Authentication:
    """App Service Authentication on, for the app's tenant (as infra deploys it)."""
    return Authentication(easy_auth=True, tenant_id=TENANT)


TID = "http://schemas.microsoft.com/identity/claims/tenantid"
OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
BOB = easy_auth_principal([(TID, TENANT), (OID, oid("bob")), ("name", "Bob"), ("groups", oid("team-x")),
                           ("roles", "Clusters.Reader")])


async def caller(auth: Authentication, **credentials: str) -> Caller:
    return await auth.caller(Credentials(**credentials))


async def test_a_valid_bearer_token_is_its_principal_with_groups_and_roles_apart():
    found = await caller(Authentication(tokens=Tokens()), authorization=f"Bearer {GOOD}")
    assert (found.id, found.name) == (f"{TENANT}/{oid('ada')}", "Ada")
    assert (found.groups, found.roles) == ({oid("admins")}, {"Clusters.Admin"})


async def test_a_refused_token_is_401_with_a_bearer_challenge_and_never_the_token():
    secretish = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2ln"
    with pytest.raises(CallerNotProven) as refused:
        await caller(Authentication(tokens=Tokens(), local_caller=LOCAL), authorization=f"Bearer {secretish}")
    assert "aud" in refused.value.detail and secretish not in str(refused.value) + refused.value.detail
    assert refused.value.challenge == 'Bearer realm="aksvend", error="invalid_token"'


async def test_keys_that_cannot_be_fetched_make_the_caller_unverifiable_not_unauthorized():
    with pytest.raises(CallerUnverifiable):
        await caller(Authentication(tokens=Tokens(keys=False)), authorization=f"Bearer {GOOD}")


async def test_with_bearer_validation_the_token_decides_and_a_principal_header_beside_it_is_ignored():
    auth = Authentication(tokens=Tokens(), easy_auth=True)
    assert (await caller(auth, authorization=f"Bearer {GOOD}", principal=BOB)).name == "Ada"
    with pytest.raises(CallerNotProven):
        await caller(auth, authorization="Bearer forged", principal=BOB)


async def test_the_principal_header_is_trusted_only_when_easy_auth_is_on():
    assert (await caller(easy_auth_on(), principal=BOB)).id == f"{TENANT}/{oid('bob')}"
    with pytest.raises(CallerNotProven) as refused:
        await caller(Authentication(tokens=Tokens()), principal=BOB)
    assert "not trusted" in refused.value.detail and "Authorization: Bearer" in refused.value.detail
    assert refused.value.challenge == 'Bearer realm="aksvend"'
    assert await caller(Authentication(local_caller=LOCAL), principal=BOB) == LOCAL  # ignored, not a credential


async def test_easy_auth_principal_claims_become_the_caller():
    found = await caller(easy_auth_on(), principal=BOB)
    assert (found.tenant_id, found.object_id, found.name) == (TENANT, oid("bob"), "Bob")
    assert (found.groups, found.roles) == ({oid("team-x")}, {"Clusters.Reader"})
    short = easy_auth_principal([("tid", TENANT.upper()), ("oid", oid("bob"))])
    assert (await caller(easy_auth_on(), principal=short)).id == f"{TENANT}/{oid('bob')}"
    by_header = easy_auth_principal([(TID, TENANT)])
    assert (await caller(easy_auth_on(), principal=by_header, principal_id=oid("bob"))).id == (
        f"{TENANT}/{oid('bob')}")
    v1_roles = easy_auth_principal([(TID, TENANT), (OID, oid("bob")),
                                    ("http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "Clusters.Admin")],
                                   role_typ="http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
    assert (await caller(easy_auth_on(), principal=v1_roles)).roles == {"Clusters.Admin"}


async def test_a_groups_overage_is_no_groups():
    overage = easy_auth_principal([(TID, TENANT), (OID, oid("bob")), ("_claim_names", '{"groups": "src1"}')])
    assert (await caller(easy_auth_on(), principal=overage)).groups == frozenset()


@pytest.mark.parametrize("header", [
    easy_auth_principal([("name", "platform-admin"), ("groups", oid("admins"))]),  # no tenant, no object id
    easy_auth_principal([(TID, TENANT), (OID, "queue:cluster-requests")]),
    easy_auth_principal([(TID, "aksvend"), (OID, "queue:cluster-requests")]),
    easy_auth_principal([(TID, OTHER_TENANT), (OID, oid("bob"))]),  # another tenant than the configured one
    easy_auth_principal([(TID, TENANT), (OID, oid("bob")), ("groups", 7)]),  # type: ignore[list-item]
    "%%%", base64.b64encode(b"[1, 2]").decode(), "A" * 20_000,
])
async def test_a_principal_without_a_tenant_and_object_id_of_the_tenant_is_refused(header):
    with pytest.raises(CallerNotProven):
        await caller(Authentication(easy_auth=True, tenant_id=TENANT, local_caller=LOCAL), principal=header)


async def test_easy_auth_on_without_a_principal_is_refused_even_with_a_local_caller():
    with pytest.raises(CallerNotProven, match="App Service Authentication"):
        await caller(Authentication(easy_auth=True, tenant_id=TENANT, local_caller=LOCAL))


async def test_credentials_the_app_cannot_check_are_refused_never_replaced_by_the_local_caller():
    for authorization in (f"Bearer {GOOD}", "Basic YWxpY2U6cHc="):
        with pytest.raises(CallerNotProven, match="cannot be checked"):
            await caller(Authentication(local_caller=LOCAL), authorization=authorization)
    with pytest.raises(CallerNotProven):
        await caller(Authentication(tokens=Tokens(), local_caller=LOCAL), authorization="Basic YWxpY2U6cHc=")
    # Easy Auth checked them already: its principal decides
    assert (await caller(easy_auth_on(), authorization=f"Bearer {GOOD}", principal=BOB)).name == "Bob"


async def test_the_local_caller_is_for_requests_without_credentials():
    assert await caller(Authentication(tokens=Tokens(), local_caller=LOCAL)) == LOCAL


async def test_no_way_configured_says_so():
    with pytest.raises(CallerNotProven, match="accepts no credentials"):
        await caller(Authentication())
    with pytest.raises(CallerNotProven) as refused:
        await caller(Authentication(tokens=Tokens(), audiences=["api://aksvend"], easy_auth=True))
    assert "api://aksvend" in refused.value.detail and "App Service Authentication" in refused.value.detail


async def test_a_token_or_principal_whose_ids_are_not_guids_is_no_caller():
    class NotGuids(Tokens):
        async def validate(self, token: Any) -> TokenClaims:
            return TokenClaims(TENANT, "queue:cluster-requests", "app", frozenset(), frozenset(), "queue")

    with pytest.raises(CallerNotProven, match="GUIDs"):
        await caller(Authentication(tokens=NotGuids()), authorization=f"Bearer {GOOD}")
    with pytest.raises(CallerNotProven):
        principal_caller(easy_auth_principal([("tid", "contoso"), ("oid", "bob")]), None, None)


async def test_easy_auths_principal_needs_the_apps_tenant_and_entra_id():
    """Role values and object ids mean something in one tenant only, and only Entra ID issues them."""
    with pytest.raises(CallerNotProven) as no_tenant:
        await caller(Authentication(easy_auth=True), principal=BOB)
    assert "AKSVEND_AUTH_TENANT_ID" in no_tenant.value.detail
    google = easy_auth_principal([(TID, TENANT), (OID, oid("bob"))], auth_typ="google")
    with pytest.raises(CallerNotProven) as other_provider:
        await caller(easy_auth_on(), principal=google)
    assert "Entra ID" in other_provider.value.detail
