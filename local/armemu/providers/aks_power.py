"""Stopping and starting AKS clusters and pools, as AKS does it.

- A pool stops by a PUT of the agent pool with `properties.powerState.code: "Stopped"` (what `az aks nodepool stop`
  sends; REST example `AgentPools_Stop`) and starts by one with `"Running"`. The operation runs in provisioningState
  `Stopping`/`Starting`, the answer already showing the target (powerState `Stopped` and `count` 0; `Running` and
  the count from before the stop), as the Azure CLI's recording `test_aks_nodepool_stop_and_start` shows; when it
  ends the pool is `Succeeded`. System pools cannot be stopped (AKS docs, "Start and stop a node
  pool": "You can't stop system pools"), a 400.
- A cluster stops by `POST .../managedClusters/{name}/stop` and starts by `POST .../start` (REST
  `ManagedClusters_Stop`/`_Start`): 202 with `Location` and `Azure-AsyncOperation`, provisioningState `Stopping`/
  `Starting` on the cluster and its pools meanwhile; at the end the cluster and every pool have that powerState
  (pool counts are kept: the cluster's node pools are deallocated, not scaled).
- A stopped cluster refuses what needs its control plane: a cluster PUT or PATCH (update, upgrade, scale through
  the cluster) and any agent pool PUT (add, scale, upgrade, stop or start a pool), and a second stop: 400
  `OperationNotAllowed` "Managed cluster is in Provisioning State(Succeeded) and Power State(Stopped), <verb> cannot be
  performed." (the one real answer found, to a stop of a stopped cluster: MicrosoftDocs/azure-docs#85161; AKS docs
  "Start and stop a node pool": "The cluster and node pool must be running"). GET, start and DELETE still work.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import ArmError, invalid
from ..lro import Operation
from ..store import Resource
from ..world import Call, Reply
from .aks_common import POOLS

RUNNING, STOPPED = "Running", "Stopped"
SAVED_COUNT = "countBeforeStop"


def power(props: dict[str, Any]) -> str:
    return ((props.get("powerState") or {}).get("code")) or RUNNING


def pool_power_kind(body: dict[str, Any], existing: Resource | None) -> str | None:
    """`stop` or `start` when a pool PUT changes the power state; None otherwise."""
    wanted = ((body.get("properties") or {}).get("powerState") or {}).get("code")
    if existing is None or wanted not in (RUNNING, STOPPED) or wanted == power(existing.properties):
        return None
    return "stop" if wanted == STOPPED else "start"


def effective(body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
    """A stop or start may carry only `powerState` (REST example `AgentPools_Stop`): the pool's other properties are
    the ones it has."""
    if pool_power_kind(body, existing) is None or existing is None:
        return body
    kept = {k: v for k, v in existing.properties.items() if k not in ("provisioningState", "powerState")}
    return {**body, "properties": {**kept, **(body.get("properties") or {})}}


def check_pool_power(body: dict[str, Any], existing: Resource | None) -> None:
    wanted = ((body.get("properties") or {}).get("powerState") or {}).get("code")
    if wanted is not None and wanted not in (RUNNING, STOPPED):
        raise invalid(f"powerState.code must be Running or Stopped, not '{wanted}'.", "properties.powerState.code")
    if existing is None and wanted == STOPPED:
        raise invalid("A new agent pool cannot be created stopped.", "properties.powerState.code")
    mode = (body.get("properties") or {}).get("mode") or (existing.properties.get("mode") if existing else None)
    if pool_power_kind(body, existing) == "stop" and mode == "System":
        raise invalid("System agent pools cannot be stopped; only User pools can.", "properties.powerState.code")


def shape_pool_power(props: dict[str, Any], existing: Resource | None, kind: str | None) -> None:
    """A stop or start shows its target at once, as AKS answers the PUT (Azure CLI recording
    `test_aks_nodepool_stop_and_start`, 2025: `Stopping` with powerState `Stopped` and count 0, then `Starting` with
    `Running` and the count from before the stop); any other PUT keeps the pool's power state, and a stopped pool
    keeps count 0."""
    if existing is not None and kind == "stop":
        existing.extra[SAVED_COUNT] = int(existing.properties.get("count") or 0) or existing.extra.get(SAVED_COUNT, 1)
        props.update(powerState={"code": STOPPED}, count=0)
        return
    if existing is not None and kind == "start":
        props.update(powerState={"code": RUNNING}, count=int(existing.extra.get(SAVED_COUNT, 1)))
        return
    props["powerState"] = {"code": power(existing.properties) if existing else RUNNING}
    if existing is not None and power(existing.properties) == STOPPED:
        props["count"] = 0


def keep_through_cluster_put(props: dict[str, Any], pool: Resource | None, profile: dict[str, Any]) -> None:
    """A cluster PUT (an update, an upgrade) keeps a stopped pool stopped with count 0, unless its profile asks for
    `Running`: then it starts, with the count the profile gives or else the one from before the stop. AKS docs,
    "Start and stop a node pool": "Stopped node pools can be upgraded"; the az CLI's upgrade PUTs the pools as read."""
    if pool is None or power(pool.properties) != STOPPED:
        return
    if (power(profile) if profile.get("powerState") else STOPPED) == STOPPED:
        props.update(powerState={"code": STOPPED}, count=0)
        return
    given = profile.get("count")
    saved = int(pool.extra.pop(SAVED_COUNT, 1))
    props.update(powerState={"code": RUNNING}, count=given if isinstance(given, int) and given > 0 else saved)


def finish_pool_power(pool: Resource, op: Operation | None) -> None:
    if op is None or op.kind not in ("stop", "start"):
        return
    if op.kind == "stop":
        pool.properties.update(powerState={"code": STOPPED}, count=0)
    else:
        pool.properties.update(powerState={"code": RUNNING}, count=int(pool.extra.pop(SAVED_COUNT, 1)))


def refuse_if_stopped(cluster: Resource | None, verb: str) -> None:
    """400 `OperationNotAllowed` for `verb` ("updating", "scaling" ...) when the cluster is stopped."""
    if cluster is None or power(cluster.properties) != STOPPED:
        return
    state = cluster.properties.get("provisioningState", "Succeeded")
    raise ArmError(400, "OperationNotAllowed", f"Managed cluster is in Provisioning State({state}) and Power "
                   f"State(Stopped), {verb} cannot be performed. Start the cluster first (az aks start).")


def cluster_action(owner: Any, call: Call, action: str) -> Reply:
    """`POST .../stop` or `.../start` on a cluster (`owner` is the ManagedClusters type)."""
    cluster = owner.find(dataclasses.replace(call.path, types=call.path.types[:-1]))
    owner.guard_cluster(cluster)
    if action == "stop":
        refuse_if_stopped(cluster, "stopping")
    running = "Stopping" if action == "stop" else "Starting"
    for resource in (cluster, *owner.world.store.children(cluster.id, POOLS)):
        resource.properties["provisioningState"] = running
    op = owner.start(call, cluster, action, running, lambda c, holder, o: _finish_cluster(owner, c, holder, o))
    headers = {
        "Location": owner.operation_url(call, op, results=True),
        "Azure-AsyncOperation": owner.operation_url(call, op, results=False),
        **owner.world.poll_hint(op.remaining(owner.world.ops.now())),
    }
    return Reply(202, None, headers)


def _finish_cluster(owner: Any, cluster: Resource, holder: Resource, op: Operation) -> None:
    owner._release(cluster, holder, op)
    if owner.world.store.get(cluster.id) is not cluster:
        return
    state = "Failed" if op.error else "Succeeded"
    code = STOPPED if op.kind == "stop" else RUNNING
    for resource in (cluster, *owner.world.store.children(cluster.id, POOLS)):
        resource.properties["provisioningState"] = state
        if not op.error:
            resource.properties["powerState"] = {"code": code}

