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
sets a power state itself (a stop-pool's, a start-pool's) keeps it: that is the change it sends.

Below the engine, which calls `adoptable` before its PUT (`Engine._begin`); it sees the engine only as
`AdoptParts`, as finish.py does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from shared.domain.operations import StepSpec
from shared.engine.history import History
from shared.engine.ports import ArmPort, StateStore
from shared.engine.records import STEP_PREFIX, Loaded
from shared.errors import FatalError


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
    if before is None or before.entity.get("state") != "succeeded":
        return None
    resource = await engine.arm.get(spec.resource_type, spec.resource_id, spec.api_version)
    state = ((resource or {}).get("properties") or {}).get("provisioningState")
    if resource is None or state not in (None, "Succeeded"):
        return None
    if not _untouched_since(resource, before.entity.get("endedAt")):
        return None
    await engine.history.record(loaded.op.id, "adopted", f"{spec.id}: ARM has it Succeeded, as {previous} left it; "
                                                         f"no PUT sent")
    return resource


async def current_body(arm: ArmPort, spec: StepSpec, body: Any) -> Any:
    """`body` with each pool's count and power state as ARM has them now, for a step marked `current` (else `body`
    as it is). One GET of the step's resource; a pool ARM does not have keeps the body's values."""
    if not spec.current or not isinstance(body, Mapping):
        return body
    resource = await arm.get(spec.resource_type, spec.resource_id, spec.api_version)
    now = (resource or {}).get("properties") or {}
    props = dict(body.get("properties") or {})
    if "agentPoolProfiles" in props:  # the cluster: its pools by name
        have = {p.get("name"): p for p in now.get("agentPoolProfiles") or [] if isinstance(p, Mapping)}
        props["agentPoolProfiles"] = [_as_now(p, have.get(p.get("name"))) for p in props["agentPoolProfiles"]]
    elif resource is not None:
        props = _as_now(props, now)
    return {**body, "properties": props}


def _as_now(pool: Mapping[str, Any], now: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(pool)
    if now is None:
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
