"""Settings from the environment (Functions app settings), read once into a frozen object and passed in.

Nothing else in aksvend reads os.environ. Every setting the code reads is listed in SETTINGS, so that
infra/ can be checked against it. Values are validated here; an error names the setting and the rule, never
the value (some settings are secrets or connection strings).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.domain.armid import GUID

if TYPE_CHECKING:  # shared.ticket_config imports ConfigError from here: imported in from_env, not at the top
    from shared.ticket_config import TicketSettings, TopicSettings

ZERO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
AZURE_ARM_ENDPOINT = "https://management.azure.com"

# name -> what it is for. infra/ sets each of these (tests/unit/test_infra.py checks it).
SETTINGS: Mapping[str, str] = {
    "AKSVEND_DEFAULT_SUBSCRIPTION_ID": "subscription used when a request names none",
    "AzureWebJobsStorage": "the storage account for queues and tables: a connection string locally; in Azure the "
                           "identity-based __accountName/__queueServiceUri/__tableServiceUri/__clientId settings",
    "AKSVEND_ARM_ENDPOINT": "ARM base URL; unset means Azure (https://management.azure.com)",
    "AKSVEND_ARM_CA_CERT": "CA bundle for a local ARM emulator's self-signed certificate; unset in Azure",
    "AKSVEND_POLL_INTERVAL_SECONDS": "wait between status reads of a running ARM operation without Retry-After",
    "AKSVEND_LEASE_SECONDS": "how long a step may go unheard of before the sweeper enqueues it again",
    "AKSVEND_BACKOFF_BASE_SECONDS": "first retry delay of a retryable ARM error (doubles per attempt)",
    "AKSVEND_STEP_DEADLINE_SECONDS": "how long a step may keep failing retryably before it fails for good",
    "AKSVEND_SWEEP_SECONDS": "local host only: how often the sweeper runs (in Azure the timer's schedule decides)",
    "AKSVEND_QUEUE_LEASE_SECONDS": "local host only: how long a received message stays hidden while it is handled",
    "AKSVEND_LOG_LEVEL": "log level of aksvend's own loggers (WARNING by default)",
    "AKSVEND_CALLER_POLICY": "the caller policy (JSON, see docs/policy.md); unset: everyone locally, no one in Azure",
    "AKSVEND_EVENTS_WEBHOOK_SECRET": "shared secret of POST/OPTIONS /api/events (header X-Aksvend-Secret or query "
                                     "code); unset: no check",
    # ticketing webhooks and the lifecycle-event topic: see shared/ticket_config.py
    "AKSVEND_WEBHOOK_SECRET_JIRA": "jira webhook secret(s), separated by commas or line breaks during a rotation",
    "AKSVEND_WEBHOOK_SECRET_GITHUB": "github webhook secret(s), separated by commas or line breaks during a rotation",
    "AKSVEND_WEBHOOK_SECRET_GENERIC": "generic webhook secret(s), separated by commas or line breaks during a "
                                      "rotation",
    "AKSVEND_WEBHOOK_SECRET_SERVICENOW": "servicenow base64 HMAC key(s), separated by commas or line breaks",
    "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER": "header of ServiceNow's base64 MAC (default X-Aksvend-Signature)",
    "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER": "servicenow HTTP Basic user (alternative to the MAC); unset: off",
    "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD": "that user's password(s), separated by commas or line breaks",
    "AKSVEND_TICKET_MAPPINGS_DIR": "directory whose <system>.yaml mapping files replace the built-in ones",
    "AKSVEND_EVENTS_TOPIC_ENDPOINT": "Event Grid topic for lifecycle events; unset: recorded in the outbox, not sent",
    "AKSVEND_EVENTS_TOPIC_KEY": "topic access key (local sink); unset: Entra ID with the app's identity",
    "AKSVEND_KEY_VAULT_URI": "the Key Vault for generated secrets (Windows admin passwords); unset: a storage table, "
                             "for the local stack only",
    "AKSVEND_LOCAL_CALLER": "local host only: the caller assumed when a request has no Easy Auth principal header",
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting and the rule, never its value."""


@dataclass(frozen=True, slots=True)
class Settings:
    default_subscription_id: str = ZERO_SUBSCRIPTION
    storage_connection: str | None = None
    storage_account: str | None = None  # identity-based connection (Azure): account name and optional client id
    storage_client_id: str | None = None
    arm_endpoint: str = AZURE_ARM_ENDPOINT
    arm_ca_cert: str | None = None
    poll_interval_seconds: float = 15.0
    lease_seconds: float = 300.0
    backoff_base_seconds: float = 2.0
    step_deadline_seconds: float = 3 * 3600.0
    sweep_seconds: float = 60.0
    queue_lease_seconds: float = 600.0
    log_level: str = "WARNING"
    caller_policy: str | None = None
    local_caller: str | None = None
    events_webhook_secret: str | None = field(default=None, repr=False)
    key_vault_uri: str | None = None
    tickets: TicketSettings | None = None  # None: every ticketing system off
    topic: TopicSettings | None = None  # None: no topic

    @property
    def local_arm(self) -> bool:
        return self.arm_endpoint.rstrip("/") != AZURE_ARM_ENDPOINT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        from shared.ticket_config import TicketSettings, TopicSettings  # it imports ConfigError from here

        env = os.environ if env is None else env
        subscription = env.get("AKSVEND_DEFAULT_SUBSCRIPTION_ID", ZERO_SUBSCRIPTION)
        if not GUID.match(subscription):
            raise ConfigError("AKSVEND_DEFAULT_SUBSCRIPTION_ID must be a subscription GUID")
        endpoint = env.get("AKSVEND_ARM_ENDPOINT") or AZURE_ARM_ENDPOINT
        if not endpoint.startswith("https://"):
            raise ConfigError("AKSVEND_ARM_ENDPOINT must be an https:// URL (ARM speaks HTTPS only)")
        return cls(
            default_subscription_id=subscription,
            storage_connection=env.get("AzureWebJobsStorage") or None,
            storage_account=_account(env),
            storage_client_id=env.get("AzureWebJobsStorage__clientId") or None,
            arm_endpoint=endpoint.rstrip("/"),
            arm_ca_cert=env.get("AKSVEND_ARM_CA_CERT") or None,
            poll_interval_seconds=_seconds(env, "AKSVEND_POLL_INTERVAL_SECONDS", 15.0),
            lease_seconds=_seconds(env, "AKSVEND_LEASE_SECONDS", 300.0),
            backoff_base_seconds=_seconds(env, "AKSVEND_BACKOFF_BASE_SECONDS", 2.0),
            step_deadline_seconds=_seconds(env, "AKSVEND_STEP_DEADLINE_SECONDS", 3 * 3600.0),
            sweep_seconds=_seconds(env, "AKSVEND_SWEEP_SECONDS", 60.0),
            queue_lease_seconds=_seconds(env, "AKSVEND_QUEUE_LEASE_SECONDS", 600.0),
            log_level=_log_level(env),
            caller_policy=env.get("AKSVEND_CALLER_POLICY") or None,
            local_caller=env.get("AKSVEND_LOCAL_CALLER") or None,
            events_webhook_secret=env.get("AKSVEND_EVENTS_WEBHOOK_SECRET") or None,
            key_vault_uri=_https_url(env, "AKSVEND_KEY_VAULT_URI"),
            tickets=TicketSettings.from_env(env),
            topic=TopicSettings.from_env(env),
        )


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
