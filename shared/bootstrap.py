"""Wires adapters to services from Settings. Entry points (function_app, the local worker and host, the CLI)
call this; tests pass their own parameters instead of reading the environment."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from shared.adapters.arm import AzureArm
from shared.adapters.clock import SystemClock, TableSecretStore
from shared.adapters.queue import AzureStepQueue
from shared.adapters.store import AzureTableStateStore
from shared.config import ConfigError, Settings
from shared.domain.policy import Policy, allow_all
from shared.services.api import ClusterService
from shared.services.engine import Engine, EngineSettings
from shared.services.rejected import RejectedMessages

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
    clusters: ClusterService
    rejected: RejectedMessages


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
    engine = await open_engine(settings, stack, credential=credential)
    rejected = await stack.enter_async_context(_table(settings, REJECTED_TABLE))
    return Runtime(settings, engine, ClusterService(engine, policy, settings.default_subscription_id),
                   RejectedMessages(rejected, engine.clock))


def _table(settings: Settings, name: str) -> AzureTableStateStore:
    if not settings.storage_connection:
        raise ConfigError("AzureWebJobsStorage must name the storage account (a connection string locally)")
    return AzureTableStateStore.from_connection_string(settings.storage_connection, name)


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


async def open_engine(settings: Settings, stack: AsyncExitStack, *, credential: Any = None) -> Engine:
    """An Engine over Table Storage, the step queue and ARM; everything it opens is closed by `stack`."""
    if not settings.storage_connection:
        raise ConfigError("AzureWebJobsStorage must name the storage account (a connection string locally)")
    conn = settings.storage_connection
    ops = await stack.enter_async_context(AzureTableStateStore.from_connection_string(conn, OPERATIONS_TABLE))
    clusters = await stack.enter_async_context(AzureTableStateStore.from_connection_string(conn, CLUSTERS_TABLE))
    secrets = await stack.enter_async_context(AzureTableStateStore.from_connection_string(conn, SECRETS_TABLE))
    queue = await stack.enter_async_context(AzureStepQueue.from_connection_string(conn, STEPS_QUEUE))
    credential = credential or arm_credential(settings)
    arm = await stack.enter_async_context(AzureArm(
        credential, settings.default_subscription_id,
        base_url=settings.arm_endpoint if settings.local_arm else None,
        connection_verify=settings.arm_ca_cert or True))
    return Engine(operations=ops, clusters=clusters, queue=queue, arm=arm, clock=SystemClock(),
                  secrets=TableSecretStore(secrets), settings=engine_settings(settings))
