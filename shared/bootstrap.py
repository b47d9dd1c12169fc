"""Wires adapters to services. Two steps, as in cosmicpython's `bootstrap`:

* `bootstrap(settings, engine, outbox=..., rejected=..., events=..., policy=..., publisher=...)` builds the
  services over the ports it is given, and opens nothing. Tests call it with fakes (or with an engine over Azurite
  and the ARM emulator); `open_runtime` calls it with the adapters.
* `open_runtime(settings, stack, credential=..., policy=...)` opens the adapters the settings name (the tables
  and the step queue, ARM, Key Vault, the lifecycle-event topic); `stack` closes them. functions/runtime.py calls
  it once per process.

What differs on one machine is passed in, never imported: the local host hands `open_runtime` the ARM emulator's
offline credential (through `functions.runtime.configure`). The product imports nothing of local/.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from azure.storage.queue.aio import QueueServiceClient

from shared.adapters.arm import AzureArm
from shared.adapters.clock import SystemClock, TableSecretStore
from shared.adapters.dead_letters import AzureDeadLetters
from shared.adapters.publisher import EventGridPublisher
from shared.adapters.queue import AzureStepQueue
from shared.adapters.store import AzureTableStateStore
from shared.config import ConfigError, Settings, TicketSettings, TopicSettings
from shared.config.auth import local_caller
from shared.config.names import EVENTS_SECRET_SETTING, KEY_VAULT_SETTING
from shared.domain.policy import Policy, allow_all
from shared.domain.tickets import MappingError
from shared.engine import Engine, EngineSettings
from shared.engine.cleanup import wire_cleanup
from shared.engine.lifecycle import LifecycleSink
from shared.engine.ports import Clock, SecretStore, StateStore
from shared.services.callers import Authentication, TokenValidator
from shared.services.clusters import Clusters
from shared.services.drift import DriftService, DriftSettings
from shared.services.events import EventService, EventSettings
from shared.services.events.agent_keys import AgentKeys
from shared.services.outbox import Outbox
from shared.services.ports_events import EventPublisher, VersionedSecrets
from shared.services.rejected import DEAD_SUFFIX, DeadLetters, RejectedMessages
from shared.services.ticket_ledger import TicketLedger
from shared.services.tickets import TicketIntake, load_mappings, submit_through

log = logging.getLogger("aksvend.bootstrap")
OPERATIONS_TABLE = "operations"
CLUSTERS_TABLE = "clusters"
SECRETS_TABLE = "secrets"
REJECTED_TABLE = "rejected"
EVENTS_TABLE = "events"
OUTBOX_TABLE = "outbox"
STEPS_QUEUE = "provisioning-steps"
REQUESTS_QUEUE = "cluster-requests"
# What infra/ must create (tests/unit/test_infra.py). The secrets table is the local stack's, when it has no vault.
TABLES = (OPERATIONS_TABLE, CLUSTERS_TABLE, REJECTED_TABLE, EVENTS_TABLE, OUTBOX_TABLE)
QUEUES = (REQUESTS_QUEUE, STEPS_QUEUE)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything the trigger functions call, opened once per process."""

    settings: Settings
    engine: Engine
    clusters: Clusters  # the HTTP API's cluster routes and the cluster-requests queue
    rejected: RejectedMessages  # the poison queues' refusals, and the dead letters (`-poison-poison`) it drains
    event_intake: EventService  # POST /api/events and the Event Grid trigger
    tickets: TicketIntake  # POST /api/webhooks/{system}
    outbox: Outbox  # lifecycle events recorded by the engine and the webhooks
    publisher: EventPublisher | None  # the topic the sweeper drains the outbox to; None: no topic configured
    authentication: Authentication  # who is calling (the HTTP API)
    drift: DriftService  # the drift timer: clusters read back from ARM, compared, repaired (docs/drift.md)


def caller_policy(settings: Settings) -> Policy:
    """The configured policy; without one, no one may do anything, except in local mode, where everyone may."""
    if settings.caller_policy:
        try:
            return Policy.parse(settings.caller_policy)
        except ValueError as exc:
            raise ConfigError(f"AKSVEND_CALLER_POLICY: {exc}") from None
    return allow_all() if settings.local else Policy()


def authentication(settings: Settings, tokens: TokenValidator | None = None) -> Authentication:
    """Who is calling, from the settings: bearer tokens validated by the app (`tokens`, None: the Entra validator
    when the settings turn it on), Easy Auth's principal when the platform says it is on, the local caller."""
    auth = settings.auth
    if tokens is None and auth.tenant_id and auth.audiences:
        from shared.adapters.entra import EntraTokenValidator

        tokens = EntraTokenValidator.for_authority(auth.tenant_id, auth.audiences, auth.authority,
                                                   ca_cert=settings.arm_ca_cert)
    if tokens is None and not auth.easy_auth and not settings.local:
        log.warning("no caller can be proven: neither bearer validation (AKSVEND_AUTH_TENANT_ID, "
                    "AKSVEND_AUTH_AUDIENCES) nor App Service Authentication is on; every API request gets 401")
    return Authentication(tokens=tokens, audiences=auth.audiences, easy_auth=auth.easy_auth,
                          tenant_id=auth.tenant_id, local_caller=local_caller(settings.local_caller))


def bootstrap(settings: Settings, engine: Engine, *, outbox: Outbox, rejected: StateStore, events: StateStore,
              policy: Policy | None = None, publisher: EventPublisher | None = None,
              tokens: TokenValidator | None = None, dead_letters: Sequence[DeadLetters] = ()) -> Runtime:
    """The services over these ports; opens nothing. `engine` records its lifecycle events in `outbox`; `policy`
    (None: `caller_policy(settings)`) decides who may do what; `publisher` is the topic (None: none); `tokens`
    validates bearer tokens (None: as the settings say, `authentication`); `dead_letters` are the
    `-poison-poison` queues the rejected messages drain (none by default)."""
    if engine.lifecycle is not outbox:
        raise ValueError("the engine must record its lifecycle events in the runtime's outbox")
    callers = authentication(settings, tokens)
    keys = agent_keys(engine, event_settings(settings))
    clusters = Clusters(engine, caller_policy(settings) if policy is None else policy,
                        settings.default_subscription_id, agent_keys=keys)
    event_intake = EventService(engine, events, event_settings(settings), tokens=callers.tokens, agent_keys=keys,
                                default_subscription_id=settings.default_subscription_id)
    for name in (*settings.unresolved, *settings.tickets.unresolved, *settings.topic.unresolved):
        log.warning("%s is a Key Vault reference that did not resolve; it is treated as unset", name)
    tickets = TicketIntake(secrets=settings.tickets.auth, mappings=ticket_mappings(settings.tickets),
                           submit=submit_through(clusters), publish=outbox,
                           # the revisions each ticket was acted on: beside the cluster rows, kept as long
                           ledger=TicketLedger(engine.registry.table, engine.registry.get, engine.clock),
                           default_subscription_id=settings.default_subscription_id, clock=engine.clock)
    drift = DriftService(engine, DriftSettings(interval_seconds=settings.drift_interval_seconds),
                         default_subscription_id=settings.default_subscription_id)
    return Runtime(settings, engine, clusters, RejectedMessages(rejected, engine.clock, dead_letters), event_intake,
                   tickets, outbox, publisher, callers, drift)


def event_settings(settings: Settings) -> EventSettings:
    """How /api/events authenticates (shared/services/events/auth.py). Event Grid's tokens and the agents' keys
    anywhere; the shared secret in local mode only, where an unset one means no check (never an unresolved one)."""
    secret = settings.events_webhook_secret if settings.local else None
    unchecked = settings.local and secret is None and EVENTS_SECRET_SETTING not in settings.unresolved
    if settings.events_webhook_secret and not settings.local:
        log.warning("%s is ignored outside local mode: /api/events accepts Event Grid's Entra tokens and the agents' "
                    "signatures only", EVENTS_SECRET_SETTING)
    return EventSettings(local=settings.local, webhook_secret=secret, unchecked=unchecked,
                         grid_role=settings.events_grid_role)


def agent_keys(engine: Engine, events: EventSettings) -> AgentKeys | None:
    """The agents' keys, in the engine's secret store when it keeps versions (Key Vault, the local table)."""
    if not isinstance(engine.secrets, VersionedSecrets):
        return None
    return AgentKeys(engine.secrets, engine.clock, grace_seconds=events.agent_key_grace_seconds,
                     cache_seconds=events.agent_key_cache_seconds)


async def open_runtime(settings: Settings, stack: AsyncExitStack, *, credential: Any = None,
                       policy: Policy | None = None) -> Runtime:
    """The runtime over the adapters `settings` name. `credential` reaches ARM and Key Vault (None: the app's
    identity, DefaultAzureCredential); `policy` overrides the configured caller policy."""
    clock = SystemClock()
    outbox = Outbox(await stack.enter_async_context(_table(settings, OUTBOX_TABLE)), clock)
    engine = await open_engine(settings, stack, credential=credential, lifecycle=outbox, clock=clock)
    rejected = await stack.enter_async_context(_table(settings, REJECTED_TABLE))
    events = await stack.enter_async_context(_table(settings, EVENTS_TABLE))
    dead = [await stack.enter_async_context(_dead_letters(settings, queue)) for queue in QUEUES]
    return bootstrap(settings, engine, outbox=outbox, rejected=rejected, events=events, policy=policy,
                     publisher=await open_publisher(settings.topic, stack), dead_letters=dead)


def opened_lazily(settings: Settings, *, credential: Any = None) -> tuple[str, ...]:
    """The modules `open_runtime` imports only when these settings need them (the identity library, the Key Vault
    client): a caller that imports this module off the event loop (functions/runtime.py) imports them with it, so
    that the opening on the loop imports nothing."""
    modules = []
    if credential is None or not settings.storage_connection or (settings.topic.endpoint and not settings.topic.key):
        modules.append("azure.identity.aio")
    if settings.key_vault_uri is not None:
        modules.append("shared.adapters.keyvault")
    return tuple(modules)


def ticket_mappings(tickets: TicketSettings) -> dict[str, Any]:
    try:
        return load_mappings(override=tickets.mappings_dir)
    except MappingError as exc:
        raise ConfigError(f"AKSVEND_TICKET_MAPPINGS_DIR: {exc}") from None


async def open_publisher(topic: TopicSettings, stack: AsyncExitStack) -> EventGridPublisher | None:
    """The lifecycle-event topic: with its key (the local sink), else with the app's identity (Entra ID)."""
    if topic.endpoint is None:
        return None
    if topic.key:
        return await stack.enter_async_context(EventGridPublisher.with_key(topic.endpoint, topic.key, retry_total=2))
    credential = await stack.enter_async_context(_default_credential())
    return await stack.enter_async_context(EventGridPublisher.with_credential(topic.endpoint, credential,
                                                                              retry_total=2))


def engine_settings(settings: Settings) -> EngineSettings:
    return EngineSettings(poll_interval_seconds=settings.poll_interval_seconds, lease_seconds=settings.lease_seconds,
                          backoff_base_seconds=settings.backoff_base_seconds,
                          step_deadline_seconds=settings.step_deadline_seconds)


async def open_engine(settings: Settings, stack: AsyncExitStack, *, credential: Any = None,
                      lifecycle: LifecycleSink | None = None, clock: Clock | None = None) -> Engine:
    """An Engine over Table Storage, the step queue and ARM; everything it opens is closed by `stack`.
    `credential` reaches ARM and Key Vault (None: DefaultAzureCredential, the app's identity)."""
    if credential is None:
        credential = await stack.enter_async_context(_default_credential())
    ops = await stack.enter_async_context(_table(settings, OPERATIONS_TABLE))
    clusters = await stack.enter_async_context(_table(settings, CLUSTERS_TABLE))
    secrets = await _secret_store(settings, stack, credential)
    queue = await stack.enter_async_context(_queue(settings, STEPS_QUEUE))
    arm = await stack.enter_async_context(AzureArm(credential, settings.default_subscription_id,
                                                   base_url=settings.arm_endpoint,  # the settings' rule: clouds.py
                                                   connection_verify=settings.arm_ca_cert or True))
    return wire_cleanup(Engine(operations=ops, clusters=clusters, queue=queue, arm=arm, clock=clock or SystemClock(),
                               secrets=secrets, settings=engine_settings(settings), lifecycle=lifecycle))


def _default_credential(**kwargs: Any) -> Any:
    from azure.identity.aio import DefaultAzureCredential  # imported when opened: cold start

    return DefaultAzureCredential(**kwargs)


# Storage answers in milliseconds; one that accepts connections and never answers must not hold a request or a
# step for azure-core's default of 300 s per read: 5 s to connect, 10 s per read (the SDK's 3 retries included,
# under a minute), then a RetryableError (HTTP 503 with Retry-After, or the step re-sent later: docs/engine.md).
STORAGE_TIMEOUTS: dict[str, Any] = {"connection_timeout": 5.0, "read_timeout": 10.0}


def _table(settings: Settings, name: str) -> AzureTableStateStore:
    """A table of the Functions storage account: by connection string locally, by managed identity in Azure."""
    if settings.storage_connection:
        return AzureTableStateStore.from_connection_string(settings.storage_connection, name, **STORAGE_TIMEOUTS)
    if settings.storage_account:
        from azure.data.tables.aio import TableClient

        return AzureTableStateStore(TableClient(f"https://{settings.storage_account}.table.core.windows.net", name,
                                                credential=_storage_credential(settings), **STORAGE_TIMEOUTS))
    raise ConfigError("AzureWebJobsStorage must name the storage account (a connection string locally, "
                      "AzureWebJobsStorage__accountName with a managed identity in Azure)")


def _queue(settings: Settings, name: str) -> AzureStepQueue:
    return AzureStepQueue(_queue_service(settings), name)


def _dead_letters(settings: Settings, queue: str) -> AzureDeadLetters:
    return AzureDeadLetters(_queue_service(settings), queue + DEAD_SUFFIX)


def _queue_service(settings: Settings) -> QueueServiceClient:
    """The queue service of the Functions storage account, as `_table` reaches its tables."""
    if settings.storage_connection:
        return QueueServiceClient.from_connection_string(settings.storage_connection, **STORAGE_TIMEOUTS)
    if settings.storage_account:
        return QueueServiceClient(f"https://{settings.storage_account}.queue.core.windows.net",
                                  credential=_storage_credential(settings), **STORAGE_TIMEOUTS)
    raise ConfigError("AzureWebJobsStorage must name the storage account")


def _storage_credential(settings: Settings) -> Any:
    return _default_credential(managed_identity_client_id=settings.storage_client_id)


async def _secret_store(settings: Settings, stack: AsyncExitStack, credential: Any) -> SecretStore:
    """Key Vault; without one, a table, in local mode only (outside it, ConfigError: generated passwords never go to
    a storage table). Local mode accepts a vault that is not under vault.azure.net (the emulator's stand-in), whose
    challenge names another resource."""
    if settings.key_vault_uri is None:
        if not settings.local:
            raise ConfigError(f"{KEY_VAULT_SETTING} must name the Key Vault for generated secrets (Windows admin "
                              "passwords); only local mode keeps them in a storage table")
        return TableSecretStore(await stack.enter_async_context(_table(settings, SECRETS_TABLE)))
    from shared.adapters.keyvault import KeyVaultSecretStore

    store = KeyVaultSecretStore.create(settings.key_vault_uri, credential, verify_challenge_resource=not settings.local,
                                       connection_verify=settings.arm_ca_cert or True)
    return await stack.enter_async_context(store)
