"""The provisioning engine: operations as DAGs of durable, idempotent, retried steps (docs/engine.md).

This is its surface; code outside the package uses these names and never an underscore name of a module in it.
Where a change goes (docs/architecture.md):

- `engine`: `Engine`, one step message at a time (begin, monitor, retry, succeed, fail) and starting and
  advancing an operation;
- `records`: the persisted records and how each moves on (`StepRecord.began`, `.succeeded`, ...);
- `submit`: accepting an operation (the commit point, idempotency, the cluster's desired request);
- `retrying`: running a failed operation again as a new one (`retry`, `RetryRefused`); `adopt`: what its steps
  adopt of what ARM already has;
- `finish`: ending one (outcome, cancelled steps, the cluster's state, the next operation in line);
- `sweeper`: the timer that finishes what a crash left (`sweep`);
- `delivery`: a step message's delivery through storage faults (`deliver`) and the poison queue (`poisoned`);
- `registry`: `ClusterRegistry`, the clusters and each one's FIFO of operations;
- `history`: the audit trail of an operation's transitions (written by the engine, read by the API);
- `lifecycle`: which lifecycle events a transition records, and the `LifecycleSink` port they go to;
- `ports`: what the engine needs from outside (storage, queue, ARM, secrets, the clock).
"""

from shared.engine import lifecycle, ports, records
from shared.engine.delivery import deliver, poisoned
from shared.engine.engine import Engine, EngineSettings
from shared.engine.history import History, Transition
from shared.engine.lifecycle import LifecycleSink
from shared.engine.ports import ArmPort, Clock, SecretStore, StateStore, StepQueue
from shared.engine.records import ClusterRecord, Loaded, OperationRecord, StepRecord, cluster_key
from shared.engine.registry import ClusterRegistry
from shared.engine.retrying import RetryRefused, retry, retry_id
from shared.engine.submit import (
    MAX_QUEUED,
    Change,
    ClusterBusy,
    ClusterConflict,
    ClusterNotFound,
    DesiredStateChanged,
    IdempotencyConflict,
    Submitted,
    operation_id,
    submit,
    submit_change,
)
from shared.engine.sweeper import SweepReport, sweep

__all__ = [
    "MAX_QUEUED",
    "ArmPort",
    "Change",
    "Clock",
    "ClusterBusy",
    "ClusterConflict",
    "ClusterNotFound",
    "ClusterRecord",
    "ClusterRegistry",
    "DesiredStateChanged",
    "Engine",
    "EngineSettings",
    "History",
    "IdempotencyConflict",
    "LifecycleSink",
    "Loaded",
    "OperationRecord",
    "RetryRefused",
    "SecretStore",
    "StateStore",
    "StepQueue",
    "StepRecord",
    "Submitted",
    "SweepReport",
    "Transition",
    "cluster_key",
    "deliver",
    "lifecycle",
    "operation_id",
    "poisoned",
    "ports",
    "records",
    "retry",
    "retry_id",
    "submit",
    "submit_change",
    "sweep",
]
