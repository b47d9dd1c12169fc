"""Webhook signature verification for each ticketing system (shared.domain.tickets.signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.tickets.signatures import (
    BasicCredential,
    Rejected,
    Verified,
    WebhookAuth,
    generic_signature,
    hub_signature,
    servicenow_signature,
    verify,
)

# Obviously fake secrets, defined here only.
SECRET = "fake-test-secret-1"
OLD_SECRET = "fake-test-secret-old"
SN_KEY = base64.b64encode(b"fake-servicenow-key-bytes").decode()
SN_OLD_KEY = base64.b64encode(b"fake-servicenow-old-key").decode()
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
BODY = b'{"issue": {"key": "OPS-42"}}'


def test_github_test_vector_from_the_docs_verifies() -> None:
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert hub_signature(secret, body) == f"sha256={expected}"
    headers = {"X-Hub-Signature-256": f"sha256={expected}"}
    assert verify("github", headers, body, WebhookAuth(hmac_secrets=(secret,)), NOW) == Verified("github")


@pytest.mark.parametrize(("system", "header"), [("jira", "X-Hub-Signature"), ("github", "X-Hub-Signature-256")])
def test_hub_signature_of_the_raw_body_verifies(system: str, header: str) -> None:
    headers = {header: hub_signature(SECRET, BODY)}
    assert verify(system, headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW) == Verified(system)  # type: ignore[arg-type]


@pytest.mark.parametrize(("system", "header"), [("jira", "X-Hub-Signature"), ("github", "X-Hub-Signature-256")])
def test_hub_signature_over_a_different_body_is_rejected(system: str, header: str) -> None:
    headers = {header: hub_signature(SECRET, BODY)}
    result = verify(system, headers, BODY + b" ", WebhookAuth(hmac_secrets=(SECRET,)), NOW)
    assert result == Rejected("signature does not match")


def test_github_does_not_accept_jira_header() -> None:
    headers = {"X-Hub-Signature": hub_signature(SECRET, BODY)}
    result = verify("github", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW)
    assert result == Rejected("signature header is missing")


def test_header_names_are_case_insensitive() -> None:
    headers = {"x-hub-signature-256": hub_signature(SECRET, BODY)}
    assert isinstance(verify("github", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW), Verified)
    headers = {"X-HUB-SIGNATURE": hub_signature(SECRET, BODY)}
    assert isinstance(verify("jira", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW), Verified)


def test_upper_case_hex_is_accepted() -> None:
    headers = {"X-Hub-Signature": hub_signature(SECRET, BODY).upper().replace("SHA256=", "sha256=")}
    assert isinstance(verify("jira", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW), Verified)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "signature header is missing"),
        ("sha1=0123abcd", "signature algorithm is not sha256"),
        ("0123abcd", "signature header is malformed"),
        ("sha256=not-hex!", "signature header is malformed"),
        ("sha256=" + "ab" * 500, "signature header is malformed"),
        ("sha256=" + "00" * 32, "signature does not match"),
        ("sha256=abcd", "signature does not match"),
    ],
)
def test_bad_hub_signatures_are_rejected_with_a_fixed_reason(value: str, reason: str) -> None:
    result = verify("jira", {"X-Hub-Signature": value}, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW)
    assert result == Rejected(reason)


def test_during_rotation_both_old_and_new_secrets_verify() -> None:
    auth = WebhookAuth(hmac_secrets=(SECRET, OLD_SECRET))
    for secret in (SECRET, OLD_SECRET):
        headers = {"X-Hub-Signature-256": hub_signature(secret, BODY)}
        assert verify("github", headers, BODY, auth, NOW) == Verified("github")


def test_after_rotation_the_removed_secret_is_rejected() -> None:
    headers = {"X-Hub-Signature-256": hub_signature(OLD_SECRET, BODY)}
    assert isinstance(verify("github", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW), Rejected)


@pytest.mark.parametrize("system", ["jira", "github", "servicenow", "generic"])
def test_a_system_without_configured_secrets_rejects_everything(system: str) -> None:
    headers = {"X-Hub-Signature": hub_signature(SECRET, BODY), "X-Hub-Signature-256": hub_signature(SECRET, BODY)}
    assert verify(system, headers, BODY, None, NOW) == Rejected("webhook authentication is not configured for "
                                                                 "this system")
    assert isinstance(verify(system, headers, BODY, WebhookAuth(), NOW), Rejected)


def test_unknown_system_is_rejected() -> None:
    result = verify("bugzilla", {}, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW)
    assert result == Rejected("unknown ticketing system")


def test_empty_secret_is_refused_as_configuration() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        WebhookAuth(hmac_secrets=("",))


# --- ServiceNow ----------------------------------------------------------------------------------------------


def test_servicenow_mac_is_base64_hmac_sha256_with_the_decoded_key() -> None:
    # What GlideCertificateEncryption.generateMac(base64Key, "HmacSHA256", body) computes.
    expected = base64.b64encode(hmac.new(b"fake-servicenow-key-bytes", BODY, hashlib.sha256).digest()).decode()
    assert servicenow_signature(SN_KEY, BODY) == expected


def test_servicenow_signature_in_the_configured_header_verifies() -> None:
    auth = WebhookAuth(hmac_secrets=(SN_KEY,), signature_header="X-SN-Signature")
    headers = {"x-sn-signature": servicenow_signature(SN_KEY, BODY)}
    assert verify("servicenow", headers, BODY, auth, NOW) == Verified("servicenow", "hmac")


def test_servicenow_signature_in_another_header_is_not_looked_at() -> None:
    auth = WebhookAuth(hmac_secrets=(SN_KEY,), signature_header="X-SN-Signature")
    headers = {"X-Aksvend-Signature": servicenow_signature(SN_KEY, BODY)}
    assert verify("servicenow", headers, BODY, auth, NOW) == Rejected("signature header is missing")


def test_servicenow_hex_signature_is_not_accepted_for_base64() -> None:
    auth = WebhookAuth(hmac_secrets=(SN_KEY,))
    hex_mac = hmac.new(base64.b64decode(SN_KEY), BODY, hashlib.sha256).hexdigest()
    assert isinstance(verify("servicenow", {"X-Aksvend-Signature": hex_mac}, BODY, auth, NOW), Rejected)


def test_servicenow_rotation_accepts_old_and_new_keys() -> None:
    auth = WebhookAuth(hmac_secrets=(SN_KEY, SN_OLD_KEY))
    for key in (SN_KEY, SN_OLD_KEY):
        headers = {"X-Aksvend-Signature": servicenow_signature(key, BODY)}
        assert isinstance(verify("servicenow", headers, BODY, auth, NOW), Verified)


def test_servicenow_key_that_is_not_base64_never_matches() -> None:
    auth = WebhookAuth(hmac_secrets=("not base64 at all!",))
    forged = base64.b64encode(hmac.new(b"not base64 at all!", BODY, hashlib.sha256).digest()).decode()
    assert verify("servicenow", {"X-Aksvend-Signature": forged}, BODY, auth, NOW) == Rejected("signature does not "
                                                                                              "match")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_servicenow_basic_auth_with_the_configured_credential_verifies() -> None:
    auth = WebhookAuth(basic_credentials=(BasicCredential("sn-webhook", "fake-password-1"),))
    headers = {"Authorization": _basic("sn-webhook", "fake-password-1")}
    assert verify("servicenow", headers, BODY, auth, NOW) == Verified("servicenow", "basic")


@pytest.mark.parametrize(
    "authorization",
    [_basic("sn-webhook", "wrong-password"), _basic("someone", "fake-password-1"), "Bearer abc", "Basic %%%"],
)
def test_servicenow_wrong_basic_credentials_are_rejected(authorization: str) -> None:
    auth = WebhookAuth(basic_credentials=(BasicCredential("sn-webhook", "fake-password-1"),))
    assert isinstance(verify("servicenow", {"Authorization": authorization}, BODY, auth, NOW), Rejected)


def test_servicenow_basic_rotation_accepts_either_password() -> None:
    auth = WebhookAuth(basic_credentials=(BasicCredential("sn", "fake-new"), BasicCredential("sn", "fake-old")))
    for password in ("fake-new", "fake-old"):
        assert isinstance(verify("servicenow", {"Authorization": _basic("sn", password)}, BODY, auth, NOW), Verified)


def test_servicenow_without_signature_or_credentials_is_rejected() -> None:
    auth = WebhookAuth(hmac_secrets=(SN_KEY,), basic_credentials=(BasicCredential("sn", "fake-pw"),))
    assert verify("servicenow", {}, BODY, auth, NOW) == Rejected("neither the signature header nor HTTP Basic "
                                                                 "credentials were sent")


def test_basic_credentials_do_not_authenticate_jira() -> None:
    auth = WebhookAuth(basic_credentials=(BasicCredential("sn", "fake-pw"),))
    assert isinstance(verify("jira", {"Authorization": _basic("sn", "fake-pw")}, BODY, auth, NOW), Rejected)


# --- generic -------------------------------------------------------------------------------------------------


def _generic_headers(secret: str, at: datetime, body: bytes = BODY) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {"X-Aksvend-Timestamp": timestamp, "X-Aksvend-Signature": generic_signature(secret, timestamp, body)}


def test_generic_signature_is_hex_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert generic_signature(SECRET, "1700000000", BODY) == expected


def test_generic_signature_within_the_window_verifies() -> None:
    auth = WebhookAuth(hmac_secrets=(SECRET,))
    assert verify("generic", _generic_headers(SECRET, NOW), BODY, auth, NOW) == Verified("generic")


@pytest.mark.parametrize(("skew", "accepted"), [(-300, True), (300, True), (-301, False), (301, False), (0, True)])
def test_generic_window_edges_are_five_minutes_either_way(skew: int, accepted: bool) -> None:
    auth = WebhookAuth(hmac_secrets=(SECRET,))
    result = verify("generic", _generic_headers(SECRET, NOW + timedelta(seconds=skew)), BODY, auth, NOW)
    assert isinstance(result, Verified) is accepted
    if not accepted:
        assert result == Rejected("timestamp is outside the allowed window")


def test_generic_timestamp_is_part_of_what_is_signed() -> None:
    headers = _generic_headers(SECRET, NOW)
    headers["X-Aksvend-Timestamp"] = str(int(NOW.timestamp()) + 1)
    assert verify("generic", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW) == Rejected(
        "signature does not match")


def test_generic_accepts_an_optional_sha256_prefix() -> None:
    headers = _generic_headers(SECRET, NOW)
    headers["X-Aksvend-Signature"] = "sha256=" + headers["X-Aksvend-Signature"]
    assert isinstance(verify("generic", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW), Verified)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Aksvend-Signature": "00"}, "timestamp header is missing"),
        ({"X-Aksvend-Timestamp": "1772366400"}, "signature header is missing"),
        ({"X-Aksvend-Timestamp": "2026-03-01T12:00:00Z", "X-Aksvend-Signature": "00"},
         "timestamp header is not a Unix time in seconds"),
        ({"X-Aksvend-Timestamp": "-5", "X-Aksvend-Signature": "00"}, "timestamp header is not a Unix time in seconds"),
        ({"X-Aksvend-Timestamp": "1772366400", "X-Aksvend-Signature": "zz"}, "signature header is malformed"),
    ],
)
def test_generic_malformed_headers_are_rejected(headers: dict[str, str], reason: str) -> None:
    assert verify("generic", headers, BODY, WebhookAuth(hmac_secrets=(SECRET,)), NOW) == Rejected(reason)


def test_generic_rotation_accepts_old_and_new_secret() -> None:
    auth = WebhookAuth(hmac_secrets=(SECRET, OLD_SECRET))
    for secret in (SECRET, OLD_SECRET):
        assert isinstance(verify("generic", _generic_headers(secret, NOW), BODY, auth, NOW), Verified)


# --- secrets never leak ----------------------------------------------------------------------------------------


def test_auth_repr_does_not_show_secrets() -> None:
    auth = WebhookAuth(hmac_secrets=(SECRET,), basic_credentials=(BasicCredential("sn", "fake-password-1"),))
    assert SECRET not in repr(auth)
    assert "fake-password-1" not in repr(auth)


# The "fake-" prefix keeps a generated secret from being, by chance, a word of a fixed reason.
_secret_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=3, max_size=40).map(
    lambda s: "fake-" + s)


@given(secret=_secret_text, body=st.binary(max_size=200), system=st.sampled_from(["jira", "github", "generic"]))
def test_rejection_reasons_never_contain_the_secret_or_the_expected_signature(secret: str, body: bytes,
                                                                              system: str) -> None:
    auth = WebhookAuth(hmac_secrets=(secret,))
    expected_hex = hub_signature(secret, body).removeprefix("sha256=")
    timestamp = str(int(NOW.timestamp()))
    attempts = [
        {"X-Hub-Signature": "sha256=" + "0" * 64, "X-Hub-Signature-256": "sha256=" + "0" * 64,
         "X-Aksvend-Timestamp": timestamp, "X-Aksvend-Signature": "0" * 64},
        {"X-Hub-Signature": secret, "X-Hub-Signature-256": secret, "X-Aksvend-Timestamp": secret,
         "X-Aksvend-Signature": secret},
        {},
    ]
    for headers in attempts:
        result = verify(system, headers, body, auth, NOW)
        assert isinstance(result, Rejected)
        for leaked in (secret, expected_hex, generic_signature(secret, timestamp, body)):
            assert leaked not in result.reason
            assert leaked not in repr(result)
