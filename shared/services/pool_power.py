"""Stop and start a user pool (issue 17): `POST .../pools/{pool}/stop` and `.../start`, as `az aks nodepool stop` and
`start` do it: a PUT of the agent pool as ARM has it (its count and power state read when the step begins,
shared/engine/adopt.py `current_body`) with `properties.powerState.code` `Stopped` or `Running` (AKS docs "Start
and stop a node pool"; REST example `AgentPools_Stop`). Each is an engine operation (`stop-pool`, `start-pool`),
queued behind the cluster's others like a pool change; the desired request does not change (nothing is resized,
and the drift check does not start a stopped pool: it compares no count of a stopped pool).

Refusals before anything is sent: the system pool, 409 `SystemPoolCannotStop` (AKS: "You can't stop system pools");
a pool the request does not have, 404 `PoolNotFound`; a pool ARM does not have (yet), 409 `PoolNotInArm`; ARM not
answering that read, 503 `ArmUnavailable`.
A pool already in the asked power state is a no-op answer: 200 with ARM's state and no operation (`operationId`
null), so a repeated stop is harmless and says what is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.domain import arm
from shared.domain.caller import Caller
from shared.domain.operations import POWER_OF, OperationKind
from shared.domain.request import ClusterRequest
from shared.engine import Change
from shared.errors import AksvendError
from shared.refusals import InConflict, NotFound, Unavailable
from shared.services.clusters import Accepted, Clusters
from shared.services.handoff import OBSERVED_TIMEOUT_SECONDS

Verb = Literal["stop", "start"]
KIND_OF: dict[str, OperationKind] = {"stop": "stop-pool", "start": "start-pool"}


@dataclass(frozen=True, slots=True)
class AlreadyThere:
    """The pool already has the asked power state: nothing was submitted."""

    pool: str
    power_state: str
    count: Any

    def view(self) -> dict[str, Any]:
        return {"operationId": None, "pool": self.pool, "powerState": self.power_state, "count": self.count}


async def set_power(clusters: Clusters, sub: str, rg: str, name: str, pool: str, verb: Verb, caller: Caller,
                    key: str | None) -> Accepted | AlreadyThere:
    """Submit the stop or start of user pool `pool` (needs `change`), or say it is already so (no operation)."""
    kind = KIND_OF[verb]
    record = await clusters._cluster(sub, rg, name, caller, "change")

    def apply(desired: Mapping[str, Any]) -> ClusterRequest:
        """The desired request unchanged, once the pool is known to be a user pool of it (checked again when the
        engine accepts the change: the pool may have been deleted meanwhile)."""
        if pool == desired["systemPool"]["name"]:
            raise InConflict("SystemPoolCannotStop", "the system pool cannot be stopped or started on its own (AKS: "
                                                     "only User pools can; docs/api.md, \"Stopping and starting a "
                                                     "pool\"); stop a user pool, or the whole cluster in Azure")
        if not any(p.get("name") == pool for p in desired.get("userPools") or []):
            raise NotFound("PoolNotFound", f"cluster '{name}' has no user pool '{pool[:12]}'")
        return ClusterRequest.model_validate(dict(desired))

    found = await _pool_in_arm(clusters, apply(record.request), pool)
    if found is None:
        raise InConflict("PoolNotInArm", f"ARM has no pool '{pool}' of cluster '{name}' yet (its operation has not "
                                         "succeeded, or it was deleted outside aksvend); wait for it, or PUT the pool")
    props = found.get("properties") or {}
    power = (props.get("powerState") or {}).get("code") or "Running"
    if power == POWER_OF[kind]:
        return AlreadyThere(pool, power, props.get("count"))
    return await clusters._submit(kind, Change(record.key, {"powerState": POWER_OF[kind]}, apply), caller, key,
                                  pool=pool, where=f"'{name[:63]}' in {rg[:90]}")


async def _pool_in_arm(clusters: Clusters, request: ClusterRequest, pool: str) -> Mapping[str, Any] | None:
    """The agent pool as ARM has it (None: it has none); 503 `ArmUnavailable` when ARM cannot be read now."""
    pool_id = f"{arm.ids(request)['cluster']}/agentPools/{pool}"
    try:
        async with asyncio.timeout(OBSERVED_TIMEOUT_SECONDS):
            return await clusters.engine.arm.get(arm.AGENT_POOL.name, pool_id, arm.AGENT_POOL.api_version)
    except TimeoutError:
        raise Unavailable("ArmUnavailable", f"ARM did not answer within {OBSERVED_TIMEOUT_SECONDS:g} s; try "
                                            "again") from None
    except AksvendError as exc:  # never chained: nothing of the answer travels with the refusal
        raise Unavailable("ArmUnavailable", f"ARM could not read pool '{pool}' ({getattr(exc, 'code', '')}); try "
                                            "again") from None
