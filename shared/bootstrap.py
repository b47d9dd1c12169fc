"""Wires adapters to services from Settings. Entry points (function_app, the local worker and host, the CLI)
call this; tests pass their own parameters instead of reading the environment."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from shared.adapters.arm import AzureArm
from shared.adapters.clock import SystemClock, TableSecretStore
from shared.adapters.publisher import EventGridPublisher
from shared.adapters.queue import AzureStepQueue
from shared.adapters.store import AzureTableStateStore
from shared.config import ConfigError, Settings, TicketSettings, TopicSettings
from shared.domain.policy import Policy, allow_all
from shared.domain.tickets import MappingError
from shared.engine import Engine, EngineSettings
from shared.engine.lifecycle import LifecycleSink
from shared.engine.ports import Clock, SecretStore
from shared.services.clusters import Clusters
from shared.services.events import EventService, EventSettings
from shared.services.outbox import Outbox
from shared.services.rejected import RejectedMessages
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
# What infra/ must create (tests/unit/test_infra.py). The secrets table is the local stand-in for Key Vault.
TABLES = (OPERATIONS_TABLE, CLUSTERS_TABLE, REJECTED_TABLE, EVENTS_TABLE, OUTBOX_TABLE)
QUEUES = (REQUESTS_QUEUE, STEPS_QUEUE)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything the trigger functions call, opened once per process."""

    settings: Settings
    engine: Engine
    clusters: Clusters
    rejected: RejectedMessages
    event_intake: EventService | None = None  # POST /api/events and the Event Grid trigger
    tickets: TicketIntake | None = None  # POST /api/webhooks/{system}
    outbox: Outbox | None = None  # lifecycle events recorded by the engine and the webhooks
    publisher: EventGridPublisher | None = None  # the topic the sweeper drains the outbox to; None: no topic


def caller_policy(settings: Settings) -> Policy:
    """The configured policy; without one, everyone may do everything locally and no one may in Azure."""
    if settings.caller_policy:
        try:
            return Policy.parse(settings.caller_policy)
        except ValueError as exc:
            raise ConfigError(f"AKSVEND_CALLER_POLICY: {exc}") from None
    return allow_all() if settings.local_arm else Policy()


async def open_runtime(settings: Settings, stack: AsyncExitStack, *, credential: Any = None) -> Runtime:
    policy = caller_policy(settings)
    clock = SystemClock()
    outbox = Outbox(await stack.enter_async_context(_table(settings, OUTBOX_TABLE)), clock)
    engine = await open_engine(settings, stack, credential=credential, lifecycle=outbox, clock=clock)
    rejected = await stack.enter_async_context(_table(settings, REJECTED_TABLE))
    events_table = await stack.enter_async_context(_table(settings, EVENTS_TABLE))
    event_intake = EventService(engine, events_table, EventSettings(webhook_secret=settings.events_webhook_secret),
                                default_subscription_id=settings.default_subscription_id)
    clusters = Clusters(engine, policy, settings.default_subscription_id)
    tickets = settings.tickets or TicketSettings()
    topic = settings.topic or TopicSettings()
    for name in (*tickets.unresolved, *topic.unresolved):
        log.warning("%s is a Key Vault reference that did not resolve; it is treated as unset", name)
    intake = TicketIntake(secrets=tickets.auth, mappings=ticket_mappings(tickets), submit=submit_through(clusters),
                          publish=outbox, default_subscription_id=settings.default_subscription_id, clock=clock)
    return Runtime(settings, engine, clusters, RejectedMessages(rejected, clock), event_intake=event_intake,
                   tickets=intake, outbox=outbox, publisher=await open_publisher(topic, stack))


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
    from azure.identity.aio import DefaultAzureCredential

    credential = await stack.enter_async_context(DefaultAzureCredential())
    return await stack.enter_async_context(EventGridPublisher.with_credential(topic.endpoint, credential,
                                                                              retry_total=2))



def engine_settings(settings: Settings) -> EngineSettings:
    return EngineSettings(poll_interval_seconds=settings.poll_interval_seconds, lease_seconds=settings.lease_seconds,
                          backoff_base_seconds=settings.backoff_base_seconds,
                          step_deadline_seconds=settings.step_deadline_seconds)


def arm_credential(settings: Settings) -> Any:
    """DefaultAzureCredential in Azure; the offline credential of local/ against the local emulator."""
    if settings.local_arm:
        from local.credential import AsyncOfflineCredential

        return AsyncOfflineCredential()
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()


def _table(settings: Settings, name: str) -> AzureTableStateStore:
    """A table of the Functions storage account: by connection string locally, by managed identity in Azure."""
    if settings.storage_connection:
        return AzureTableStateStore.from_connection_string(settings.storage_connection, name)
    if settings.storage_account:
        from azure.data.tables.aio import TableClient

        return AzureTableStateStore(TableClient(f"https://{settings.storage_account}.table.core.windows.net", name,
                                                credential=_storage_credential(settings)))
    raise ConfigError("AzureWebJobsStorage must name the storage account (a connection string locally, "
                      "AzureWebJobsStorage__accountName with a managed identity in Azure)")


def _queue(settings: Settings, name: str) -> AzureStepQueue:
    if settings.storage_connection:
        return AzureStepQueue.from_connection_string(settings.storage_connection, name)
    if settings.storage_account:
        from azure.storage.queue.aio import QueueServiceClient

        return AzureStepQueue(QueueServiceClient(f"https://{settings.storage_account}.queue.core.windows.net",
                                                 credential=_storage_credential(settings)), name)
    raise ConfigError("AzureWebJobsStorage must name the storage account")


def _storage_credential(settings: Settings) -> Any:
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=settings.storage_client_id)


async def _secret_store(settings: Settings, stack: AsyncExitStack) -> SecretStore:
    """Key Vault when configured (Azure: the app's identity; locally: the emulator's stand-in), else a table."""
    if settings.key_vault_uri is None:
        return TableSecretStore(await stack.enter_async_context(_table(settings, SECRETS_TABLE)))
    from shared.adapters.keyvault import KeyVaultSecretStore

    if settings.local_arm:
        store = KeyVaultSecretStore.create(settings.key_vault_uri, arm_credential(settings),
                                           verify_challenge_resource=False,
                                           connection_verify=settings.arm_ca_cert or True)
    else:
        from azure.identity.aio import DefaultAzureCredential

        credential = await stack.enter_async_context(DefaultAzureCredential())
        store = KeyVaultSecretStore.create(settings.key_vault_uri, credential)
    return await stack.enter_async_context(store)


async def open_engine(settings: Settings, stack: AsyncExitStack, *, credential: Any = None,
                      lifecycle: LifecycleSink | None = None, clock: Clock | None = None) -> Engine:
    """An Engine over Table Storage, the step queue and ARM; everything it opens is closed by `stack`."""
    ops = await stack.enter_async_context(_table(settings, OPERATIONS_TABLE))
    clusters = await stack.enter_async_context(_table(settings, CLUSTERS_TABLE))
    secrets = await _secret_store(settings, stack)
    queue = await stack.enter_async_context(_queue(settings, STEPS_QUEUE))
    credential = credential or arm_credential(settings)
    arm = await stack.enter_async_context(AzureArm(
        credential, settings.default_subscription_id,
        base_url=settings.arm_endpoint if settings.local_arm else None,
        connection_verify=settings.arm_ca_cert or True))
    return Engine(operations=ops, clusters=clusters, queue=queue, arm=arm, clock=clock or SystemClock(),
                  secrets=secrets, settings=engine_settings(settings), lifecycle=lifecycle)
