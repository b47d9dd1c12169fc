"""Settings from the environment (Functions app settings), read once into a frozen object and passed in.

Nothing else in aksvend reads os.environ. Every setting the code reads is listed in `shared.config.names.SETTINGS`,
so that infra/ can be checked against it. Values are validated here; an error names the setting and the rule, never
the value (some settings are secrets or connection strings).

**Local mode** (`AKSVEND_LOCAL=1`) is the one switch for what only the local stack may do: assume a caller
(`AKSVEND_LOCAL_CALLER`) for requests without credentials, let everyone do everything when no caller policy is set,
accept a Key Vault stand-in that is not under vault.azure.net or keep generated secrets in a table without one,
send ARM requests to an endpoint that is no Azure cloud's (the emulator) and trust its CA (`AKSVEND_ARM_CA_CERT`),
and accept the shared secret at `/api/events` (no check when it has none). The local host sets it; infra/ never
does, and it is refused where a variable of the Functions platform says the app runs there
(`shared.platform.functions_platform`).
Outside local mode, each of those settings is refused or means "off", never "open". What else differs locally (the
ARM emulator's offline credential) is not a setting: the local host hands it to `shared.bootstrap`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import clouds
from shared.config.auth import AuthSettings, local_caller
from shared.config.clouds import AZURE_ARM_ENDPOINT
from shared.config.errors import ConfigError
from shared.config.names import (
    ARM_CA_CERT_SETTING,
    ARM_ENDPOINT_SETTING,
    EVENTS_GRID_ROLE_SETTING,
    EVENTS_SECRET_SETTING,
    KEY_VAULT_SETTING,
    LOCAL_CALLER_SETTING,
    LOCAL_SETTING,
)
from shared.config.references import unresolved_reference
from shared.config.tickets import TicketSettings, TopicSettings
from shared.domain.armid import GUID
from shared.platform import functions_platform

ZERO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
_ON, _OFF = ("1", "true"), ("", "0", "false")


@dataclass(frozen=True, slots=True)
class Settings:
    default_subscription_id: str = ZERO_SUBSCRIPTION
    storage_connection: str | None = None
    storage_account: str | None = None  # identity-based connection (Azure): account name and optional client id
    storage_client_id: str | None = None
    arm_endpoint: str = AZURE_ARM_ENDPOINT  # outside local mode, an Azure cloud's (shared/config/clouds.py)
    arm_ca_cert: str | None = None  # local mode only
    poll_interval_seconds: float = 15.0
    lease_seconds: float = 300.0
    backoff_base_seconds: float = 2.0
    step_deadline_seconds: float = 3 * 3600.0
    sweep_seconds: float = 60.0
    drift_interval_seconds: float = 1800.0  # how often each managed cluster is read back from ARM (docs/drift.md)
    queue_lease_seconds: float = 600.0
    log_level: str = "WARNING"
    caller_policy: str | None = None
    local: bool = False  # local mode: see the module docstring
    local_caller: str | None = None  # local mode only: <tenant id>/<object id>
    auth: AuthSettings = field(default_factory=AuthSettings)  # bearer validation, Easy Auth (shared/config/auth.py)
    events_webhook_secret: str | None = field(default=None, repr=False)  # None: unset or unresolved; local mode only
    events_grid_role: str = "AzureEventGridSecureWebhookSubscriber"  # the app role of Event Grid's token
    key_vault_uri: str | None = None  # required outside local mode (where the runtime opens its secret store)
    unresolved: tuple[str, ...] = ()  # names of the settings above holding an unresolved Key Vault reference
    tickets: TicketSettings = field(default_factory=TicketSettings)  # no secrets: every ticketing system off
    topic: TopicSettings = field(default_factory=TopicSettings)  # no endpoint: no topic

    def __post_init__(self) -> None:
        if self.local_caller and not self.local:
            raise ConfigError(f"{LOCAL_CALLER_SETTING} is for local mode only ({LOCAL_SETTING}=1)")
        local_caller(self.local_caller)  # ConfigError unless <tenant id>/<object id>
        # the canonical origin; outside local mode, ConfigError unless an Azure cloud's (where the ARM token goes)
        object.__setattr__(self, "arm_endpoint", clouds.arm_endpoint(self.arm_endpoint, local=self.local))
        if self.auth.bearer:  # where the keys come from that decide which bearer tokens are genuine
            clouds.entra_authority(self.auth.authority, local=self.local)
        if self.arm_ca_cert and not self.local:
            raise ConfigError(f"{ARM_CA_CERT_SETTING} is for local mode only ({LOCAL_SETTING}=1): it replaces the "
                              "trust store of ARM, Key Vault and Entra ID's keys")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        subscription = env.get("AKSVEND_DEFAULT_SUBSCRIPTION_ID", ZERO_SUBSCRIPTION)
        if not GUID.match(subscription):
            raise ConfigError("AKSVEND_DEFAULT_SUBSCRIPTION_ID must be a subscription GUID")
        events_secret = env.get(EVENTS_SECRET_SETTING) or None
        unresolved = (EVENTS_SECRET_SETTING,) if unresolved_reference(events_secret) else ()
        return cls(
            default_subscription_id=subscription,
            storage_connection=env.get("AzureWebJobsStorage") or None,
            storage_account=_account(env),
            storage_client_id=env.get("AzureWebJobsStorage__clientId") or None,
            arm_endpoint=env.get(ARM_ENDPOINT_SETTING) or AZURE_ARM_ENDPOINT,
            arm_ca_cert=env.get(ARM_CA_CERT_SETTING) or None,
            poll_interval_seconds=_seconds(env, "AKSVEND_POLL_INTERVAL_SECONDS", 15.0),
            lease_seconds=_seconds(env, "AKSVEND_LEASE_SECONDS", 300.0),
            backoff_base_seconds=_seconds(env, "AKSVEND_BACKOFF_BASE_SECONDS", 2.0),
            step_deadline_seconds=_seconds(env, "AKSVEND_STEP_DEADLINE_SECONDS", 3 * 3600.0),
            sweep_seconds=_seconds(env, "AKSVEND_SWEEP_SECONDS", 60.0),
            drift_interval_seconds=_seconds(env, "AKSVEND_DRIFT_INTERVAL_SECONDS", 1800.0),
            queue_lease_seconds=_seconds(env, "AKSVEND_QUEUE_LEASE_SECONDS", 600.0),
            log_level=_log_level(env),
            caller_policy=env.get("AKSVEND_CALLER_POLICY") or None,
            local=_local(env),
            local_caller=env.get(LOCAL_CALLER_SETTING) or None,
            auth=AuthSettings.from_env(env),
            events_webhook_secret=None if unresolved else events_secret,
            events_grid_role=_role(env),
            key_vault_uri=_https_url(env, KEY_VAULT_SETTING),
            unresolved=unresolved,
            tickets=TicketSettings.from_env(env),
            topic=TopicSettings.from_env(env),
        )


def _local(env: Mapping[str, str]) -> bool:
    """Local mode, refused on the Functions platform: a setting copied into an app's configuration must not open it
    to everyone."""
    value = (env.get(LOCAL_SETTING) or "").strip().lower()
    if value not in _ON + _OFF:
        raise ConfigError(f"{LOCAL_SETTING} must be 1 (local mode) or 0")
    platform = functions_platform(env) if value in _ON else None
    if platform:
        raise ConfigError(f"{LOCAL_SETTING} is refused on the Functions platform ({platform} is set): local mode "
                          "assumes a caller and, without a caller policy, allows everyone")
    return value in _ON


def _account(env: Mapping[str, str]) -> str | None:
    """The storage account of an identity-based AzureWebJobsStorage connection (__accountName, or the host of
    __tableServiceUri), as the Functions host reads it."""
    name = env.get("AzureWebJobsStorage__accountName")
    if not name and env.get("AzureWebJobsStorage__tableServiceUri"):
        name = env["AzureWebJobsStorage__tableServiceUri"].split("//", 1)[-1].split(".", 1)[0]
    if name and not (3 <= len(name) <= 24 and name.isalnum() and name.islower()):
        raise ConfigError("AzureWebJobsStorage__accountName must be a storage account name (3-24 lower-case "
                          "letters and digits)")
    return name or None


def _https_url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name) or None
    if value is not None and not value.startswith("https://"):
        raise ConfigError(f"{name} must be an https:// URL")
    return value.rstrip("/") if value else None


def _role(env: Mapping[str, str]) -> str:
    role = (env.get(EVENTS_GRID_ROLE_SETTING) or "").strip() or "AzureEventGridSecureWebhookSubscriber"
    if len(role) > 120 or not all(c.isalnum() or c in "._-" for c in role):
        raise ConfigError(f"{EVENTS_GRID_ROLE_SETTING} must be an app role value (letters, digits, '.', '_', '-')")
    return role


def _log_level(env: Mapping[str, str]) -> str:
    level = (env.get("AKSVEND_LOG_LEVEL") or "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("AKSVEND_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds") from None
    if not 0 <= value <= 7 * 24 * 3600:
        raise ConfigError(f"{name} must be between 0 and 604800 seconds")
    return value
