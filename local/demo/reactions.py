"""The reactions part of `make demo`: once the cluster is built, the ARM emulator evicts spot nodes and delivers
Event Grid's `VirtualMachinePreempted` events to the function app's webhook (`POST /api/events`); aksvend answers
with its decisions, builds the on-demand fallback pool, and the sweeper timer scales it back to 0 once no eviction
was seen for the cooldown.

Each line carries the time since the eviction. The waits end on records that stay (the delivery and the webhook's
answer, kept by the emulator; the operations, in aksvend's API); the pool's states in ARM are shown as they are
seen, every REFRESH_SECONDS, so a state shorter than that may not appear. A cause is printed before its effect: when
the pool changes, the sweeper's scale-down operation is looked up before the pool's new state is shown.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from local.armemu.notifications import NOT_RETRIED
from local.host.client import ArmControl
from local.polling import wait_for
from shared.domain.arm import AGENT_POOL
from shared.domain.events.fallback import fallback_pool_name

EVICTED_NODES = 2  # each evicted node adds one on-demand node: the fallback is created with 1, then scaled to 2
REFRESH_SECONDS = 0.25
DELIVERY_TIMEOUT = 30.0
DEADLINE_SECONDS = 180.0
SCALE_DOWN_SOURCE = "reaction:fallback-scale-down:"
DONE = ("succeeded", "failed", "cancelled")


@dataclass
class Reactions:
    """What the demo saw: the webhook's answer, its decisions, the operations they became, the scale-down."""

    fallback_pool: str
    evicted: int = 0
    status: int | None = None
    decisions: list[str] = field(default_factory=list)
    fallback_operations: list[str] = field(default_factory=list)
    scale_down_operation: str | None = None
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)  # the last view of each

    @property
    def ok(self) -> bool:
        ids = [*self.fallback_operations, self.scale_down_operation]
        return bool(self.fallback_operations) and all(
            i and self.operations.get(i, {}).get("state") == "succeeded" for i in ids)


class Timeline:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()

    def say(self, what: str, text: str) -> None:
        self.out.write(f"  {time.monotonic() - self.started:5.1f} s  {what:<9} {text}\n")
        self.out.flush()


def show_reactions(api: httpx.Client, arm: ArmControl, cluster: dict[str, Any], out: TextIO, *, spot_pool: str,
                   evict: int = EVICTED_NODES, sweep_every: float | None = None,
                   deadline: float = DEADLINE_SECONDS) -> Reactions:
    """Evict `evict` nodes of `spot_pool` of `cluster` (aksvend's view of it) and follow what aksvend does."""
    cooldown = cluster["desired"]["reactions"]["cooldownSeconds"]
    seen = Reactions(fallback_pool_name(spot_pool))
    sweeper = f"every {sweep_every:g} s here" if sweep_every else "on its schedule"
    out.write(f"\nSpot eviction: the emulator evicts {evict} spot nodes of pool {spot_pool} and delivers Event Grid's "
              f"events to POST /api/events.\naksvend adds one on-demand node to pool {seen.fallback_pool} per evicted "
              f"node and scales it back to 0 after {cooldown} s without eviction\n(reactions.cooldownSeconds; "
              f"the sweeper timer runs {sweeper}). Times from the eviction:\n")
    line = Timeline(out)
    if _evict_and_deliver(arm, cluster["id"], spot_pool, evict, seen, line):
        wait_for(_Watch(api, arm, cluster, seen, line, cooldown).done, timeout=deadline, interval=REFRESH_SECONDS)
    return seen


def _evict_and_deliver(arm: ArmControl, cluster_id: str, pool: str, count: int, seen: Reactions,
                       line: Timeline) -> bool:
    """The eviction, the delivery of its events and aksvend's answer: its decisions and their operations."""
    evicted = arm.control("POST", "spot-eviction", {"clusterId": cluster_id, "pool": pool, "count": count})
    seen.evicted = evicted["evicted"]
    nodes = [_node(e["subject"]) for e in evicted["events"]]
    line.say("evicted", f"{', '.join(nodes) or 'nothing'} (pool {pool}: {_nodes(evicted['count'], 'spot')} left)")
    if not evicted["events"] or not evicted["deliveredTo"]:
        line.say("stopped", "no events, or no webhook to deliver them to")
        return False
    delivery = wait_for(lambda: _delivery(arm, [e["id"] for e in evicted["events"]]), timeout=DELIVERY_TIMEOUT)
    seen.status = delivery["status"]
    kinds = {e["data"]["resourceInfo"]["properties"]["annotationName"] for e in evicted["events"]}
    line.say("event", f"{len(nodes)} x {evicted['events'][0]['eventType'].rsplit('.', 1)[-1]} "
                      f"({', '.join(sorted(kinds))}) -> POST /api/events: {seen.status}")
    answer = _json(delivery.get("response"))
    for outcome in answer.get("outcomes", []):
        seen.decisions.append(outcome["outcome"])
        line.say("decision", outcome["outcome"])
    seen.fallback_operations = list(answer.get("operations", []))
    if seen.status != 200 or not seen.fallback_operations:
        line.say("stopped", f"no fallback operation: {str(delivery.get('response'))[:300]}")
        return False
    return True


class _Watch:
    """One look per call at the fallback pool in ARM and at the operations; true once the scale-down has ended."""

    def __init__(self, api: httpx.Client, arm: ArmControl, cluster: dict[str, Any], seen: Reactions,
                 line: Timeline, cooldown: int) -> None:
        self.api, self.arm, self.seen, self.line, self.cooldown = api, arm, seen, line, cooldown
        self.cluster_path = f"/api/clusters/{cluster['subscriptionId']}/{cluster['resourceGroup']}/{cluster['name']}"
        self.pool_id = f"{cluster['id']}/agentPools/{seen.fallback_pool}"
        self.pool_state: tuple[Any, ...] | None = None
        self.fallback_done = False
        self.peak = 0

    def done(self) -> bool:
        self._look_at_pool()
        if self.seen.scale_down_operation is None:
            self._find_scale_down()
        scale_down = self.seen.scale_down_operation
        finished = scale_down is not None and self._operation(scale_down)["state"] in DONE
        for op_id in self.seen.fallback_operations:  # read after the scale-down: they ended before it began
            self._operation(op_id)
        if not self.fallback_done and all(self._state(i) in DONE for i in self.seen.fallback_operations):
            self.fallback_done = True
            states = {self._state(i) for i in self.seen.fallback_operations}
            mark = "✓" if states == {"succeeded"} else "✗"
            self.line.say("fallback", f"{mark} {_nodes(self.peak, 'on-demand')} in place of "
                                      f"{_nodes(self.seen.evicted, 'evicted spot')} "
                                      f"({len(self.seen.fallback_operations)} operations {'/'.join(sorted(states))})")
        if finished:
            self._look_at_pool()
        return finished

    def _look_at_pool(self) -> None:
        pool = self.arm.get(self.pool_id, AGENT_POOL.api_version)
        props = (pool or {}).get("properties") or {}
        state = (props.get("provisioningState"), props.get("count"), props.get("scaleSetPriority") or "Regular",
                 props.get("vmSize")) if pool else None
        if state != self.pool_state and state is not None:
            if self.seen.scale_down_operation is None:
                self._find_scale_down()  # the cause before its effect: the sweeper's decision before the scale-back
            kind = "on-demand" if state[2] == "Regular" else state[2]
            self.line.say(self.seen.fallback_pool, f"{state[0]} · {_nodes(state[1], kind)} ({state[3]}, in ARM)")
        self.pool_state = state
        self.peak = max(self.peak, int(state[1] or 0) if state else 0)

    def _find_scale_down(self) -> None:
        cluster = self.api.get(self.cluster_path).json()
        known = set(self.seen.fallback_operations)
        for op_id in [cluster.get("currentOperation"), *cluster.get("queuedOperations", []),
                      cluster.get("lastOperation")]:
            if op_id and op_id not in known and str(self._operation(op_id).get("source")).startswith(
                    SCALE_DOWN_SOURCE):
                self.seen.scale_down_operation = op_id
                self.line.say("sweeper", f"no eviction for {self.cooldown} s: scale {self.seen.fallback_pool} back "
                                         f"to 0 (operation {op_id[:8]}, {self._operation(op_id)['source']})")
                return

    def _operation(self, op_id: str) -> dict[str, Any]:
        known = self.seen.operations.get(op_id)
        if known is None or known["state"] not in DONE:
            known = self.api.get(f"/api/operations/{op_id}").raise_for_status().json()
            self.seen.operations[op_id] = known
        return known

    def _state(self, op_id: str) -> str:
        return str(self.seen.operations.get(op_id, {}).get("state"))


def _delivery(arm: ArmControl, event_ids: list[str]) -> dict[str, Any] | None:
    """The attempt to deliver these events whose answer ends the delivery (a success, or a refusal that Event Grid
    does not retry), once there is one."""
    final = [d for d in arm.control("GET", "deliveries")["value"] if set(d["eventIds"]) == set(event_ids)
             and d["status"] is not None and (200 <= d["status"] <= 204 or d["status"] in NOT_RETRIED)]
    return final[-1] if final else None


def _node(vm_id: str) -> str:
    """`.../virtualMachineScaleSets/aks-batch-1234-vmss/virtualMachines/2` -> `aks-batch-1234-vmss/2`."""
    parts = vm_id.split("/")
    return f"{parts[-3]}/{parts[-1]}"


def _nodes(count: int, kind: str) -> str:
    return f"{count} {kind} node{'' if count == 1 else 's'}"


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
