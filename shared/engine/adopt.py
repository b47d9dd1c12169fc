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
