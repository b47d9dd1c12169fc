"""Ticket webhook and event-topic settings (shared.config.tickets): several secrets at once, unresolved Key Vault
references, and errors that name the setting but never its value."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from shared.config import SETTINGS, ConfigError, TicketSettings, TopicSettings, split_secrets

# Obviously fake secrets, defined here only.
SN_KEY = base64.b64encode(b"fake-servicenow-key").decode()
UNRESOLVED = "@Microsoft.KeyVault(VaultName=kv-x;SecretName=webhook-jira)"


def test_secrets_are_separated_by_commas_or_line_breaks_and_trimmed() -> None:
    assert split_secrets(" new-secret ,\r\nold-secret\n\n,") == ("new-secret", "old-secret")
    assert split_secrets("It's a Secret to Everybody") == ("It's a Secret to Everybody",)


def test_every_system_with_a_secret_is_enabled_with_all_of_its_secrets() -> None:
    settings = TicketSettings.from_env({"AKSVEND_WEBHOOK_SECRET_JIRA": "fake-a\nfake-b",
                                        "AKSVEND_WEBHOOK_SECRET_GITHUB": "fake-c",
                                        "AKSVEND_WEBHOOK_SECRET_GENERIC": "fake-d",
                                        "AKSVEND_WEBHOOK_SECRET_SERVICENOW": SN_KEY})
    assert settings.enabled == ("jira", "github", "servicenow", "generic")
    assert settings.auth["jira"].hmac_secrets == ("fake-a", "fake-b")
    assert settings.auth["servicenow"].signature_header == "X-Aksvend-Signature"


def test_an_unset_or_empty_secret_turns_the_system_off() -> None:
    settings = TicketSettings.from_env({"AKSVEND_WEBHOOK_SECRET_JIRA": "", "AKSVEND_WEBHOOK_SECRET_GITHUB": " , "})
    assert settings.enabled == () and settings.mappings_dir is None


def test_an_unresolved_key_vault_reference_is_never_a_secret() -> None:
    settings = TicketSettings.from_env({"AKSVEND_WEBHOOK_SECRET_JIRA": UNRESOLVED,
                                        "AKSVEND_WEBHOOK_SECRET_GITHUB": "fake-c"})
    assert settings.enabled == ("github",)
    assert settings.unresolved == ("AKSVEND_WEBHOOK_SECRET_JIRA",)


def test_servicenow_basic_credentials_with_rotated_passwords() -> None:
    settings = TicketSettings.from_env({"AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER": "sn-webhook",
                                        "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD": "fake-new,fake-old",
                                        "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER": "X-SN-Signature"})
    auth = settings.auth["servicenow"]
    assert [(c.username, c.password) for c in auth.basic_credentials] == [("sn-webhook", "fake-new"),
                                                                          ("sn-webhook", "fake-old")]
    assert auth.hmac_secrets == () and auth.signature_header == "X-SN-Signature"


@pytest.mark.parametrize(("env", "setting"), [
    ({"AKSVEND_WEBHOOK_SECRET_SERVICENOW": "not base64 secret-ish-value!"}, "AKSVEND_WEBHOOK_SECRET_SERVICENOW"),
    ({"AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER": "sn"}, "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD"),
    ({"AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD": "secret-ish-value"}, "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER"),
    ({"AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER": "a:b", "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD": "secret-ish-value"},
     "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER"),
    ({"AKSVEND_WEBHOOK_SECRET_SERVICENOW": SN_KEY, "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER": "Authorization"},
     "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER"),
    ({"AKSVEND_WEBHOOK_SECRET_GITHUB": "secret-ish-value" * 300}, "AKSVEND_WEBHOOK_SECRET_GITHUB"),
    ({"AKSVEND_TICKET_MAPPINGS_DIR": "/nonexistent/secret-ish-value"}, "AKSVEND_TICKET_MAPPINGS_DIR"),
])
def test_a_malformed_setting_names_the_setting_never_the_value(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        TicketSettings.from_env(env)
    assert setting in str(err.value) and "secret-ish-value" not in str(err.value)


def test_a_mappings_directory_is_taken_when_it_exists(tmp_path: Path) -> None:
    assert TicketSettings.from_env({"AKSVEND_TICKET_MAPPINGS_DIR": str(tmp_path)}).mappings_dir == tmp_path


def test_secrets_do_not_appear_in_the_settings_repr() -> None:
    settings = TicketSettings.from_env({"AKSVEND_WEBHOOK_SECRET_JIRA": "fake-visible?",
                                        "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER": "sn",
                                        "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD": "fake-password?"})
    assert "fake-visible?" not in repr(settings) and "fake-password?" not in repr(settings)
    topic = TopicSettings.from_env({"AKSVEND_EVENTS_TOPIC_ENDPOINT": "http://127.0.0.1:8080/api/events",
                                    "AKSVEND_EVENTS_TOPIC_KEY": "fake-topic-key"})
    assert "fake-topic-key" not in repr(topic)


def test_the_topic_is_off_without_an_endpoint_and_uses_entra_without_a_key() -> None:
    assert not TopicSettings.from_env({}).enabled
    topic = TopicSettings.from_env({"AKSVEND_EVENTS_TOPIC_ENDPOINT": "https://t.westeurope-1.eventgrid.azure.net/api/events"})
    assert topic.enabled and topic.auth == "entra"
    unresolved = TopicSettings.from_env({"AKSVEND_EVENTS_TOPIC_ENDPOINT": "https://t.example/api/events",
                                         "AKSVEND_EVENTS_TOPIC_KEY": UNRESOLVED})
    assert unresolved.auth == "entra" and unresolved.unresolved == ("AKSVEND_EVENTS_TOPIC_KEY",)


@pytest.mark.parametrize("env", [
    {"AKSVEND_EVENTS_TOPIC_ENDPOINT": "ftp://secret-ish-value"},
    {"AKSVEND_EVENTS_TOPIC_ENDPOINT": "http://topic.example/api/events", "AKSVEND_EVENTS_TOPIC_KEY": "k"},
    {"AKSVEND_EVENTS_TOPIC_ENDPOINT": "http://127.0.0.1:8080/api/events"},  # a bearer token needs https
])
def test_the_topic_endpoint_must_be_https_unless_it_is_a_local_sink_with_a_key(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as err:
        TopicSettings.from_env(env)
    assert "AKSVEND_EVENTS_TOPIC_ENDPOINT" in str(err.value) and "secret-ish-value" not in str(err.value)


def test_every_ticket_and_topic_setting_is_in_the_one_settings_list() -> None:
    assert set(SETTINGS) >= {
        "AKSVEND_WEBHOOK_SECRET_JIRA", "AKSVEND_WEBHOOK_SECRET_GITHUB", "AKSVEND_WEBHOOK_SECRET_SERVICENOW",
        "AKSVEND_WEBHOOK_SECRET_GENERIC", "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER",
        "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER", "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD",
        "AKSVEND_TICKET_MAPPINGS_DIR", "AKSVEND_EVENTS_TOPIC_ENDPOINT", "AKSVEND_EVENTS_TOPIC_KEY"}


def test_a_mapping_in_the_override_directory_replaces_only_that_systems_mapping(tmp_path: Path) -> None:
    from shared.services.tickets import BUILTIN_MAPPINGS, load_mappings

    jira = (BUILTIN_MAPPINGS / "jira.yaml").read_text().replace("customfield_10050", "customfield_20001")
    (tmp_path / "jira.yaml").write_text(jira)
    mappings = load_mappings(override=TicketSettings.from_env({"AKSVEND_TICKET_MAPPINGS_DIR": str(tmp_path)})
                             .mappings_dir)
    assert mappings["jira"].request.fields["name"].path == "issue.fields.customfield_20001"
    assert set(mappings) == {"jira", "github", "servicenow", "generic"}
