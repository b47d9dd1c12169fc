"""Every setting aksvend reads, in one list: its name and what it is for.

infra/ sets each of these (tests/unit/test_infra.py checks it, except `LOCAL_SETTING`, which infra must never set);
tests/unit/test_config.py checks that reading the settings touches no name missing here. The modules that read
them (settings.py, tickets.py) take the names from here, so a name is spelled once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.domain.tickets import SYSTEMS
from shared.platform import FUNCTIONS_PLATFORM_VARIABLES

LOCAL_SETTING = "AKSVEND_LOCAL"
LOCAL_CALLER_SETTING = "AKSVEND_LOCAL_CALLER"
# App Service sets this to True when App Service Authentication (Easy Auth) is on in front of the app: only then is
# its principal header (X-MS-CLIENT-PRINCIPAL) trusted. The platform's, like WEBSITE_INSTANCE_ID: infra/ sets neither.
EASY_AUTH_SETTING = "WEBSITE_AUTH_ENABLED"
# What the platform sets and the app reads, never set by infra/: the variables that say the process runs on the
# Functions platform (shared/platform.py has the list and its source; local mode is refused where one is set), and
# Easy Auth's switch.
PLATFORM_SETTINGS: Mapping[str, str] = MappingProxyType({
    **{name: "set by the Functions platform (shared/platform.py): local mode is refused where it is set"
       for name in FUNCTIONS_PLATFORM_VARIABLES},
    EASY_AUTH_SETTING: "set by App Service (True) when App Service Authentication is on: the principal header is "
                       "trusted only then",
})
ARM_ENDPOINT_SETTING = "AKSVEND_ARM_ENDPOINT"
ARM_CA_CERT_SETTING = "AKSVEND_ARM_CA_CERT"
KEY_VAULT_SETTING = "AKSVEND_KEY_VAULT_URI"
EVENTS_SECRET_SETTING = "AKSVEND_EVENTS_WEBHOOK_SECRET"
EVENTS_GRID_ROLE_SETTING = "AKSVEND_EVENTS_GRID_ROLE"
AUTH_TENANT_SETTING = "AKSVEND_AUTH_TENANT_ID"
AUTH_AUDIENCES_SETTING = "AKSVEND_AUTH_AUDIENCES"
AUTH_AUTHORITY_SETTING = "AKSVEND_AUTH_AUTHORITY"
DEFAULT_SERVICENOW_SIGNATURE_HEADER = "X-Aksvend-Signature"
SECRET_SETTING = "AKSVEND_WEBHOOK_SECRET_{}"  # .format(system.upper())
SERVICENOW_HEADER_SETTING = "AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER"
SERVICENOW_USER_SETTING = "AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER"
SERVICENOW_PASSWORD_SETTING = "AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD"
MAPPINGS_DIR_SETTING = "AKSVEND_TICKET_MAPPINGS_DIR"
TOPIC_ENDPOINT_SETTING = "AKSVEND_EVENTS_TOPIC_ENDPOINT"
TOPIC_KEY_SETTING = "AKSVEND_EVENTS_TOPIC_KEY"

_APP: dict[str, str] = {
    "AKSVEND_DEFAULT_SUBSCRIPTION_ID": "subscription used when a request names none",
    "AzureWebJobsStorage": "the storage account for queues and tables: a connection string locally; in Azure the "
                           "identity-based __accountName/__queueServiceUri/__tableServiceUri/__clientId settings",
    ARM_ENDPOINT_SETTING: "ARM base URL; unset means Azure (https://management.azure.com); outside local mode one of "
                          "the Azure clouds' Resource Manager endpoints (shared/config/clouds.py)",
    ARM_CA_CERT_SETTING: "local mode only: CA bundle for the ARM emulator's self-signed certificate (ARM, the Key "
                         "Vault stand-in, Entra ID's keys); refused outside local mode",
    "AKSVEND_POLL_INTERVAL_SECONDS": "wait between status reads of a running ARM operation without Retry-After",
    "AKSVEND_LEASE_SECONDS": "how long a step may go unheard of before the sweeper enqueues it again",
    "AKSVEND_BACKOFF_BASE_SECONDS": "first retry delay of a retryable ARM error (doubles per attempt)",
    "AKSVEND_STEP_DEADLINE_SECONDS": "how long a step may keep failing retryably before it fails for good",
    "AKSVEND_SWEEP_SECONDS": "local host only: how often the sweeper runs (in Azure the timer's schedule decides)",
    "AKSVEND_DRIFT_INTERVAL_SECONDS": "how often each managed cluster is read back from ARM and compared with its "
                                      "request (default 1800; docs/drift.md)",
    "AKSVEND_QUEUE_LEASE_SECONDS": "local host only: how long a received message stays hidden while it is handled",
    "AKSVEND_LOG_LEVEL": "log level of aksvend's own loggers (WARNING by default)",
    "AKSVEND_CALLER_POLICY": "the caller policy (JSON, see docs/policy.md); unset: no one may do anything, except in "
                             "local mode, where everyone may",
    EVENTS_SECRET_SETTING: "local mode only: shared secret of POST/OPTIONS /api/events (header X-Aksvend-Secret or "
                           "query code); unset means no check there; outside local mode it is never accepted (401), "
                           "and an unresolved Key Vault reference is no secret anywhere",
    EVENTS_GRID_ROLE_SETTING: "the app role an Event Grid delivery's Entra token must carry (default "
                              "AzureEventGridSecureWebhookSubscriber, the role Microsoft documents for Entra-"
                              "authenticated webhook delivery); tokens without it are refused (403)",
    KEY_VAULT_SETTING: "the Key Vault for generated secrets (Windows admin passwords); required outside local mode; "
                       "unset in local mode: a storage table",
    LOCAL_SETTING: "1: local mode, set by the local host (python -m local.host) and never by infra/: the local "
                   "caller, everyone allowed without a policy, a Key Vault stand-in or none, the emulator's endpoint "
                   "and CA; refused where a variable of the Functions platform is set (shared/platform.py)",
    LOCAL_CALLER_SETTING: "local mode only: the caller (<tenant id>/<object id>) assumed for a request that carries "
                          "no credentials",
    AUTH_TENANT_SETTING: "Entra tenant (GUID) whose access tokens the app validates itself (Authorization: Bearer); "
                         f"with {AUTH_AUDIENCES_SETTING}, turns bearer validation on",
    AUTH_AUDIENCES_SETTING: "the audiences a bearer token may be for, comma-separated: api://<client id> and the "
                            "client id of the app registration",
    AUTH_AUTHORITY_SETTING: "the Entra authority (https) whose issuer and keys validate tokens; unset means "
                            "https://login.microsoftonline.com; locally the ARM emulator, which plays Entra ID",
}
_TICKETS: dict[str, str] = {
    **{SECRET_SETTING.format(s.upper()): f"{s} webhook secret(s): one, or several separated by commas or line "
                                         f"breaks during a rotation; unset turns {s} deliveries off"
       for s in SYSTEMS if s != "servicenow"},
    SECRET_SETTING.format("SERVICENOW"): "servicenow HMAC key(s), base64 (what GlideCertificateEncryption.generateMac "
                                         "takes); several separated by commas or line breaks during a rotation",
    SERVICENOW_HEADER_SETTING: "header the ServiceNow Business Rule puts its base64 MAC in (default "
                               f"{DEFAULT_SERVICENOW_SIGNATURE_HEADER})",
    SERVICENOW_USER_SETTING: "servicenow alternative to the MAC: the HTTP Basic user name of its outbound REST message",
    SERVICENOW_PASSWORD_SETTING: "that user's password(s), separated by commas or line breaks during a rotation",
    MAPPINGS_DIR_SETTING: "directory whose <system>.yaml mapping files replace the built-in ones; unset: built-in",
    TOPIC_ENDPOINT_SETTING: "Event Grid topic endpoint lifecycle events are published to; unset: recorded, not sent",
    TOPIC_KEY_SETTING: "topic access key (local sink, or a topic with local auth); unset: Entra ID (app identity)",
}
# name -> what it is for: every setting aksvend reads, and nothing else.
SETTINGS: Mapping[str, str] = MappingProxyType({**_APP, **_TICKETS})
