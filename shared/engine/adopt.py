"""A retry adopts what ARM already has: a step whose resource the failed attempt created is done after a GET.

The rule (docs/engine.md, "Retrying a failed operation"): a PUT step of a retry (an operation with `retryOf`) is
done without a PUT when

- the same step of the operation it retries *succeeded*: ARM accepted and completed exactly the body this step
  would send (the retry runs the same request, so the same plan; placeholders resolve to the same outputs and
  secrets), and
- ARM has the resource now, `provisioningState` Succeeded (or none, as for a role assignment), and its
  `systemData.lastModifiedAt` is not after that step's end: nobody deleted, replaced or changed it since (a
  resource of the same name someone put there since is PUT again, not adopted by name; without `systemData` the
  step is PUT again).

Otherwise the step sends its PUT, as a first attempt does: that PUT is idempotent (the same body again), and it is
what repairs a resource the failed attempt left half-made, Failed, or that was never sent. Comparing ARM's body
with ours is not attempted: ARM adds read-only and defaulted fields, so "equal" would need a per-type model of
them. Deletes are sent again (a DELETE of what is gone is 204).

A step that only changes its resource (`StepSpec.must_exist`: an upgrade's cluster PUT) fails with `ResourceGone`
when ARM no longer has it, instead of creating it again.

A step that rebuilds a pool body (`StepSpec.current`: an upgrade's, a patch's cluster PUT) takes each pool's `count`
and `powerState` from ARM as it is when the step begins (`current_body`): the desired request's count is what the
pool was asked for, not what it has now (the autoscaler, spot evictions and a stop change it), and an upgrade must
not resize or start a pool as a side effect. An autoscaled pool's count is kept within the body's bounds. A body that
sets a power state itself (a stop-pool's, a start-pool's) keeps it: that is the change it sends. The same GET carries
through what aksvend's body never writes (shared/domain/arm/carry.py: an adopted cluster's SSH key, KEDA, a pool's pod
subnet ...), so a change never resets a setting aksvend does not model; so does the GET before any other PUT of a
resource that exists: one that must exist (a patch's system pool PUT with its new count), and every pool PUT (a
put-pool of a pool ARM has).

A create's cluster PUT never overwrites a cluster it did not make (`put_once`): the first time it is sent (in the
create and every operation it retries) it goes with `If-None-Match: *`, so a cluster of that name that ARM got
between the create's check (shared/services/unmanaged.py) and this PUT (another aksvend instance's create, one made
in the portal) is left as it is: ARM answers 412 and the step fails with `ClusterNameTaken`, and the failed create
gets no cleanup (cleanup.py: the VNet and identity of that name are likely the other cluster's). A PUT sent again
after an attempt that may have reached ARM (a timeout, a throttled retry, a delivery that died while sending) goes
without the condition: that attempt may have made the cluster, which is then this create's own. An attempt that ARM
refused with 412 made nothing and does not count as sent (a retry of it is refused anyway: retrying.py).

Below the engine, which calls `adoptable` before its PUT (`Engine._begin`); it sees the engine only as
`AdoptParts`, as finish.py does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from shared.domain.arm.aks import AGENT_POOL
from shared.domain.arm.carry import carried
from shared.domain.operations import StepSpec
from shared.engine.history import History
from shared.engine.ports import RESOURCE_EXISTS, ArmPort, ArmResult, StateStore
from shared.engine.records import NAME_TAKEN, OPERATION_ROW, STEP_PREFIX, Loaded
from shared.errors import FatalError

MAX_RETRIES_SEEN = 50  # the operations of one retry chain looked through (as cleanup.py's MAX_ATTEMPTS)


class AdoptParts(Protocol):
    """What adopting uses of the engine (`shared.engine.Engine` has them all)."""

    ops: StateStore
    arm: ArmPort
    history: History


async def adoptable(engine: AdoptParts, loaded: Loaded, spec: StepSpec) -> Mapping[str, Any] | None:
    """The resource as ARM has it when this step need not be sent (the rule above); None: send it. No I/O for an
    operation that is not a retry. A failing GET raises as a failing PUT would (retried or failed by the engine)."""
    if spec.must_exist and spec.action == "put" and await engine.arm.get(spec.resource_type, spec.resource_id,
                                                                         spec.api_version) is None:
        raise FatalError("ResourceGone", f"{spec.resource_id} no longer exists in ARM; this step only changes it "
                                         "and does not create it again (it was deleted outside aksvend)")
    previous = loaded.op.retry_of
    if previous is None or spec.action != "put":
        return None
    before = await engine.ops.get(previous, STEP_PREFIX + spec.id)
    if before is None or before.entity.get("state") != "succeeded" or "skipped" in (before.entity.get("outputs") or {}):
        return None  # not done, or done without being sent (a skipped edit: tried again)
    resource = await engine.arm.get(spec.resource_type, spec.resource_id, spec.api_version)
    state = ((resource or {}).get("properties") or {}).get("provisioningState")
    if resource is None or state not in (None, "Succeeded"):
        return None
    if not _untouched_since(resource, before.entity.get("endedAt")):
        return None
    await engine.history.record(loaded.op.id, "adopted", f"{spec.id}: ARM has it Succeeded, as {previous} left it; "
                                                         f"no PUT sent")
    return resource


async def put_once(engine: AdoptParts, loaded: Loaded, spec: StepSpec, unsent: bool, body: Any) -> ArmResult:
    """Send the step's PUT; a create's first cluster PUT only if ARM has no cluster of that name (the rule above).
    `unsent`: no earlier delivery of this step sent (or began to send) its request."""
    if not (unsent and await _only_new(engine, loaded, spec)):
        return await engine.arm.put(spec.resource_type, spec.resource_id, spec.api_version, body)
    try:
        return await engine.arm.put(spec.resource_type, spec.resource_id, spec.api_version, body, only_new=True)
    except FatalError as err:
        if err.code != RESOURCE_EXISTS:
            raise
        name = spec.resource_id.rsplit("/", 1)[-1]
        raise FatalError(NAME_TAKEN, f"ARM has a cluster '{name}' that this create did not make (it appeared after "
                                     "the create was accepted); aksvend never overwrites it, and nothing was changed "
                                     "or deleted. Choose another name, or have an admin adopt it (POST "
                                     ".../adopt)") from None


async def _only_new(engine: AdoptParts, loaded: Loaded, spec: StepSpec) -> bool:
    """Whether this is a create's cluster PUT that no operation this one retries sent before (walking `retryOf`)."""
    if loaded.op.kind != "create-cluster" or spec.action != "put" or spec.resource_id != loaded.op.cluster_id:
        return False
    previous, seen = loaded.op.retry_of, 0
    while previous is not None:
        seen += 1
        before = await engine.ops.get(previous, STEP_PREFIX + spec.id)
        if seen > MAX_RETRIES_SEEN or before is None or (_sent(before.entity) and not _refused(before.entity)):
            return False  # sent before (or not known): that attempt may have made it
        op_row = await engine.ops.get(previous, OPERATION_ROW)
        previous = op_row.entity.get("retryOf") if op_row is not None else None
    return True


def _sent(step: Mapping[str, Any]) -> bool:
    return bool(step.get("attempts") or step.get("armId"))


def _refused(step: Mapping[str, Any]) -> bool:
    """ARM refused the step's conditional PUT (412, `ClusterNameTaken`): it made nothing, so it is not a sent create
    and the next attempt goes with `If-None-Match: *` again."""
    error = step.get("lastError")
    return step.get("state") == "failed" and isinstance(error, Mapping) and error.get("code") == NAME_TAKEN


async def current_body(arm: ArmPort, spec: StepSpec, body: Any) -> Any:
    """`body` as sent: for a step marked `current`, each pool's count and power state as ARM has them now; for that
    step, one that must find its resource, and any pool PUT, what ARM has that aksvend's body never writes (the rule
    above). One GET of the step's resource; `body` as it is when ARM has none (a create)."""
    if not isinstance(body, Mapping) or spec.action != "put" or not (
            spec.current or spec.must_exist or spec.resource_type == AGENT_POOL.name):
        return body
    resource = await arm.get(spec.resource_type, spec.resource_id, spec.api_version)
    if resource is None:
        return body
    now = resource.get("properties") or {}
    props = dict(body.get("properties") or {})
    if "agentPoolProfiles" in props:  # the cluster: its pools by name
        have = {p.get("name"): p for p in now.get("agentPoolProfiles") or [] if isinstance(p, Mapping)}
        props["agentPoolProfiles"] = [_as_now(p, have.get(p.get("name")), spec.current)
                                      for p in props["agentPoolProfiles"]]
        props = carried(now, props, pool=False)
    else:
        props = _as_now(props, now, spec.current)
    return {**body, "properties": props}


def _as_now(pool: Mapping[str, Any], now: Mapping[str, Any] | None, counts: bool) -> dict[str, Any]:
    """The pool with what ARM has that aksvend never writes, and (`counts`) ARM's count and power state."""
    if now is None:
        return dict(pool)
    out = carried(now, pool, pool=True)
    if not counts:
        return out
    count, power = now.get("count"), (now.get("powerState") or {}).get("code")
    if isinstance(count, int) and not isinstance(count, bool):
        running = power in (None, "Running")
        low, high = out.get("minCount"), out.get("maxCount")
        if running and out.get("enableAutoScaling") and isinstance(low, int) and isinstance(high, int):
            count = min(max(count, low), high)
        out["count"] = count
    if isinstance(power, str) and "powerState" not in out:  # a stop or start sets its own
        out["powerState"] = {"code": power}
    return out


def _untouched_since(resource: Mapping[str, Any], ended: Any) -> bool:
    """Whether ARM says nobody modified the resource after the failed attempt's step saw it succeed: its
    `systemData.lastModifiedAt` is at or before that step's end. Without `systemData` (or a time it can read), no:
    a resource of the same name that someone replaced or changed since is PUT again, never adopted by name."""
    system = resource.get("systemData")
    modified = system.get("lastModifiedAt") if isinstance(system, Mapping) else None
    if not isinstance(modified, str) or not isinstance(ended, datetime):
        return False
    try:
        when = datetime.fromisoformat(modified.replace("Z", "+00:00"))
    except ValueError:
        return False
    return when.tzinfo is not None and when <= ended
