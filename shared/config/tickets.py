"""Settings of the ticketing webhooks (secrets per system) and of the lifecycle-event topic, read once from the
environment into frozen objects, like `shared.config.Settings` (the names are in `shared.config.names`).

Choices, and why:

* **Several secrets at once (rotation).** A secret setting holds one secret or several, separated by line
  breaks or commas; blanks around each are dropped and empty entries ignored. So a secret must not contain a
  comma or a line break, and must not start or end with a blank: generate them (`openssl rand -hex 32`).
  In Azure each setting is one Key Vault reference; during a rotation the one Key Vault secret holds
  `new,old` (or one per line), then only `new`.
* **An unset or empty secret turns that system off**: its deliveries are refused (401) before anything is
  parsed. So is a Key Vault reference that App Service could not resolve: it then hands the app the reference
  text itself (`@Microsoft.KeyVault(...)`), which must never become a secret anyone can read off the infra
  code. Such settings are listed in `TicketSettings.unresolved` (names only) for a startup warning.
* **Errors name the setting and the rule, never the value** (`ConfigError`). A malformed
  value that could only ever refuse every delivery (a ServiceNow key that is not base64, a Basic user without
  a password) is an error at startup, not a silent 401 later.
* **The topic**: `AKSVEND_EVENTS_TOPIC_ENDPOINT` unset means "no topic": lifecycle events are still recorded in
  the outbox (never lost while someone fixes the setting) but not sent. With `AKSVEND_EVENTS_TOPIC_KEY` the
  publisher authenticates with the topic key (the local sink; a topic with local auth), else with Entra ID
  (the app's identity, "EventGrid Data Sender"). Bearer tokens go over https only, so an http endpoint is
  accepted only on the loopback interface and only with a key.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit

from shared.config.errors import ConfigError
from shared.config.names import (
    DEFAULT_SERVICENOW_SIGNATURE_HEADER,
    MAPPINGS_DIR_SETTING,
    SECRET_SETTING,
    SERVICENOW_HEADER_SETTING,
    SERVICENOW_PASSWORD_SETTING,
    SERVICENOW_USER_SETTING,
    TOPIC_ENDPOINT_SETTING,
    TOPIC_KEY_SETTING,
)
from shared.config.references import unresolved_reference
from shared.domain.tickets import SYSTEMS, BasicCredential, WebhookAuth

__all__ = ["TicketSettings", "TopicSettings", "split_secrets"]

_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}\Z")
_RESERVED_HEADERS = frozenset({"authorization", "content-type", "content-length", "host"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_MAX_SECRET_CHARS = 4096


def split_secrets(value: str) -> tuple[str, ...]:
    """One secret or several, separated by commas or line breaks; blanks around each and empty entries dropped."""
    return tuple(part.strip() for part in re.split(r"[,\r\n]", value) if part.strip())


@dataclass(frozen=True, slots=True)
class TicketSettings:
    """How each ticketing system authenticates (a system missing from `auth` is off) and where mappings are."""

    auth: Mapping[str, WebhookAuth] = field(default_factory=lambda: MappingProxyType({}))
    mappings_dir: Path | None = None
    unresolved: tuple[str, ...] = ()  # names of settings holding an unresolved Key Vault reference

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TicketSettings:
        unresolved: list[str] = []

        def read(name: str) -> str:
            value = (env.get(name) or "").strip()
            if unresolved_reference(value):
                unresolved.append(name)
                return ""
            return value

        auth: dict[str, WebhookAuth] = {}
        for system in SYSTEMS:
            name = SECRET_SETTING.format(system.upper())
            secrets = _secrets(name, read(name))
            if system == "servicenow":
                found = _servicenow(name, secrets, read, unresolved)
                if found is not None:
                    auth[system] = found
            elif secrets:
                auth[system] = WebhookAuth(hmac_secrets=secrets)
        return cls(MappingProxyType(auth), _mappings_dir(read(MAPPINGS_DIR_SETTING)), tuple(unresolved))

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(s for s in SYSTEMS if s in self.auth)


@dataclass(frozen=True, slots=True)
class TopicSettings:
    endpoint: str | None = None
    key: str | None = field(default=None, repr=False)
    unresolved: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.endpoint is not None

    @property
    def auth(self) -> Literal["key", "entra"]:
        return "key" if self.key else "entra"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TopicSettings:
        unresolved = tuple(n for n in (TOPIC_ENDPOINT_SETTING, TOPIC_KEY_SETTING)
                           if unresolved_reference(env.get(n)))
        endpoint = "" if TOPIC_ENDPOINT_SETTING in unresolved else (env.get(TOPIC_ENDPOINT_SETTING) or "").strip()
        key = "" if TOPIC_KEY_SETTING in unresolved else (env.get(TOPIC_KEY_SETTING) or "").strip()
        if not endpoint:
            return cls(None, key or None, unresolved)
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"{TOPIC_ENDPOINT_SETTING} must be an https:// URL (the topic's endpoint)")
        if parts.scheme == "http" and (parts.hostname not in _LOOPBACK or not key):
            raise ConfigError(f"{TOPIC_ENDPOINT_SETTING} must be https:// (http only for a local topic on the "
                              f"loopback interface, with {TOPIC_KEY_SETTING})")
        return cls(endpoint, key or None, unresolved)


def _secrets(name: str, value: str) -> tuple[str, ...]:
    secrets = split_secrets(value)
    if any(len(s) > _MAX_SECRET_CHARS for s in secrets):
        raise ConfigError(f"{name}: each secret must be at most {_MAX_SECRET_CHARS} characters")
    return secrets


def _servicenow(name: str, keys: tuple[str, ...], read: Callable[[str], str],
                unresolved: list[str]) -> WebhookAuth | None:
    for key in keys:
        try:
            decoded = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if not decoded:
            raise ConfigError(f"{name} must hold base64 keys (what generateMac takes), separated by commas or "
                              "line breaks")
    header = read(SERVICENOW_HEADER_SETTING) or DEFAULT_SERVICENOW_SIGNATURE_HEADER
    if not _HEADER_NAME.match(header) or header.lower() in _RESERVED_HEADERS:
        raise ConfigError(f"{SERVICENOW_HEADER_SETTING} must be a header name (letters, digits, '-'), not one of "
                          "Authorization, Content-Type, Content-Length, Host")
    user = read(SERVICENOW_USER_SETTING)
    passwords = _secrets(SERVICENOW_PASSWORD_SETTING, read(SERVICENOW_PASSWORD_SETTING))
    if SERVICENOW_PASSWORD_SETTING in unresolved:
        user = ""  # the password's Key Vault secret is not there yet: Basic stays off until it is
    if bool(user) != bool(passwords):
        raise ConfigError(f"{SERVICENOW_USER_SETTING} and {SERVICENOW_PASSWORD_SETTING} are set together or not at "
                          "all")
    if ":" in user:
        raise ConfigError(f"{SERVICENOW_USER_SETTING} must not contain ':' (HTTP Basic separates user and password "
                          "with it)")
    credentials = tuple(BasicCredential(user, p) for p in passwords)
    if not keys and not credentials:
        return None
    return WebhookAuth(hmac_secrets=keys, signature_header=header, basic_credentials=credentials)


def _mappings_dir(value: str) -> Path | None:
    if not value:
        return None
    path = Path(value)
    if not path.is_dir():
        raise ConfigError(f"{MAPPINGS_DIR_SETTING} must name an existing directory of <system>.yaml mapping files")
    return path
