"""What callers may ask of aksvend about clusters (the HTTP API, the cluster-requests queue, ticketing): create
one, read its state and its operations, change its pools, delete it.

Every refusal is a domain exception (shared/refusals.py) with a stable code and, for invalid input, the
violations; each way in maps it to its own outcome (the HTTP API to problem+json). Callers are checked against the
policy before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.domain.arm import NODE_SUBNET
from shared.domain.caller import Caller
from shared.domain.operations import OperationKind
from shared.domain.policy import Action, Policy, action_of
from shared.domain.pricing import shipped
from shared.domain.pricing.budget import over_budget
from shared.domain.request import ClusterRequest
from shared.domain.rules import Context, check
from shared.domain.violations import errors
from shared.engine import (
    MAX_QUEUED,
    Change,
    ClusterBusy,
    ClusterConflict,
    ClusterNotFound,
    Engine,
    IdempotencyConflict,
    RetryRefused,
    retry,
    submit,
    submit_change,
)
from shared.engine.records import OPERATION_ROW, ClusterRecord, cluster_key
from shared.engine.start_checks import unmade_skips
from shared.errors import PreconditionFailedError
from shared.refusals import InConflict, InvalidInput, NotFound, NotPermitted
from shared.services.drift import drift_row
from shared.services.events.agent_keys import AgentKeys, cluster_id_of
from shared.services.handoff import arm_vnet, named_subnets
from shared.services.pool_change import IMMUTABLE_POOL_FIELDS as IMMUTABLE_POOL_FIELDS  # re-exported
from shared.services.pool_change import revalidate, with_pool
from shared.services.targets import authorize_create, authorize_links
from shared.services.unmanaged import unmanaged_in_arm
from shared.services.views import cluster_view, iso, operation_view

MAX_HISTORY = 200  # the newest transitions shown with an operation


@dataclass(frozen=True, slots=True)
class Accepted:
    operation_id: str
    created: bool


class Clusters:
    """The cluster use cases: each checks the request and the caller's policy, then reads the registry or submits
    an operation to the engine."""

    def __init__(self, engine: Engine, policy: Policy, default_subscription_id: str, *,
                 agent_keys: AgentKeys | None = None) -> None:
        """`agent_keys`: where the in-cluster agents' keys are issued (None: no keys, the agent channel is off)."""
        self.engine = engine
        self.policy = policy
        self.default_subscription_id = default_subscription_id
        self.agent_keys = agent_keys

    # ---- create ------------------------------------------------------------------------------------------
    async def create(self, raw: Any, caller: Caller, *, idempotency_key: str | None = None, source: str = "api",
                     ticket: str | None = None) -> Accepted:
        request = self._valid(raw)
        authorize_create(self.policy, caller, request)
        self._within_policy_budget(request, caller, "create")
        await unmanaged_in_arm(self.engine, request)
        await _not_deleting(self.engine, request)
        accepted = await self._submit("create-cluster", request, caller, idempotency_key, source=source, ticket=ticket)
        if self.agent_keys is not None:  # idempotent: a retried create issues what a failed attempt did not
            await self.agent_keys.issue(cluster_id_of(request.subscription_id, request.resource_group, request.name))
        return accepted

    async def rotate_agent_key(self, subscription_id: str, resource_group: str, name: str,
                               caller: Caller) -> dict[str, Any]:
        """A new key for the cluster's in-cluster agent (docs/events.md); the previous keys stay valid for the grace
        period. Needs `change` on the cluster. Answers the new version's id and time, never a key."""
        self._authorize(caller, subscription_id, resource_group, "change")
        record = await self.engine.registry.get(cluster_key(subscription_id, resource_group, name))
        if record is None or record.state == "deleted":
            raise NotFound("ClusterNotFound", f"aksvend manages no cluster '{name}' in {resource_group}")
        if record.state == "deleting":  # its keys were revoked when its deletion was accepted
            raise InConflict("ClusterDeleting", f"cluster '{name}' is being deleted; it gets no new agent key")
        if self.agent_keys is None:
            raise InConflict("AgentKeysOff", "this app keeps no agent keys (its secret store keeps no versions)")
        added = await self.agent_keys.rotate(cluster_id_of(subscription_id, resource_group, name))
        return {"version": added.version, "created": iso(added.created)}

    def _valid(self, raw: Any) -> ClusterRequest:
        today = self.engine.clock.now().date()
        request, violations = check(raw, default_subscription_id=self.default_subscription_id,
                                    context=Context(as_of=today) if isinstance(today, date) else None)
        if request is None:
            raise InvalidInput("InvalidRequest", "the request breaks the rules listed in `errors`", errors(violations))
        return request

    def _within_policy_budget(self, request: ClusterRequest, caller: Caller, action: Action,
                              changed: str | None = None) -> None:
        """422 BUDGET_EXCEEDED naming the pool when the request at its maximum costs more than the caller policy's
        budget for this caller and resource group (the request's own budget is a rule of `check`); a change's pool
        (`changed`) is counted last, so that it is the one named."""
        budget = self.policy.budget(caller, request.subscription_id, request.resource_group, action)
        found = list(over_budget(request, shipped(), budget, changed)) if budget is not None else []
        if found:
            raise InvalidInput("InvalidRequest", "the request breaks the rules listed in `errors`", found)

    def _authorize(self, caller: Caller, subscription_id: str, resource_group: str, action: Action) -> None:
        if not self.policy.allows(caller, subscription_id, resource_group, action):
            raise NotPermitted("Forbidden", f"caller {caller.display} may not {action} clusters in "
                                            f"subscription {subscription_id}, resource group {resource_group}")

    async def _submit(self, kind: str, request: ClusterRequest | Change, caller: Caller, key: str | None, *,
                      pool: str | None = None, source: str = "api", ticket: str | None = None,
                      where: str = "", skip: Mapping[str, str] | None = None) -> Accepted:
        """Submit a whole request (create, delete the cluster) or a change to the desired request (a pool).
        `where`: the cluster as the caller named it (from the request when it is one)."""
        if isinstance(request, ClusterRequest):
            where = f"'{request.name}' in {request.resource_group}"
        try:
            if isinstance(request, Change):
                done = await submit_change(self.engine, kind, request, pool=pool,  # type: ignore[arg-type]
                                           idempotency_key=key, caller=caller.id, source=source, ticket=ticket)
            else:
                done = await submit(self.engine, kind, request, pool=pool,  # type: ignore[arg-type]
                                    idempotency_key=key, caller=caller.id, source=source, ticket=ticket, skip=skip)
        except ClusterConflict as conflict:
            raise InConflict("ClusterNameTaken", await _name_taken(self.engine, str(conflict), where)) from None
        except IdempotencyConflict:
            raise InConflict("IdempotencyKeyReused", "this Idempotency-Key was used before with a different "
                                                     "request") from None
        except ClusterNotFound:
            raise NotFound("ClusterNotFound", f"aksvend manages no cluster {where}") from None
        except ClusterBusy:
            raise InConflict("ClusterBusy", f"cluster {where} has {MAX_QUEUED} operations queued, the most it "
                                            "takes; wait until some ran (a delete of the cluster still fits)") from None
        except PreconditionFailedError:  # the registry's bound of compare-and-swap rounds, each after a pause
            raise InConflict("ConcurrentChange", "the cluster's record kept changing while this change was "
                                                 "accepted; retry") from None
        return Accepted(done.operation_id, done.created)

    # ---- read --------------------------------------------------------------------------------------------
    async def operation(self, op_id: str, caller: Caller) -> dict[str, Any]:
        """The operation's view, when the caller may read its cluster. One that does not exist and one the caller
        may not read are the same 404: ids are computable (uuid5 of caller and key), existence is not to be told."""
        loaded = await self.engine.load(op_id) if _is_id(op_id) else None
        if loaded is None or not self._may_read(caller, loaded.op.request):
            raise NotFound("OperationNotFound", f"no operation '{op_id[:64]}'")
        view = operation_view(loaded.op, loaded.steps, loaded.specs)
        view["history"] = [{"at": iso(t.at), "kind": t.kind, "message": t.message}
                           for t in await self.engine.history.read(op_id, newest=MAX_HISTORY)]
        return view

    async def retry(self, op_id: str, caller: Caller) -> Accepted:
        """Run a failed operation again as a new one linked to it (docs/decisions/0008-retry.md). 404 as for reading
        it; 403 without the action the operation needs (a create's retry needs `create`); 409 with the engine's
        code when it cannot be the same operation again (not failed, the cluster deleted or moved on)."""
        loaded = await self.engine.load(op_id) if _is_id(op_id) else None
        if loaded is None or not self._may_read(caller, loaded.op.request):
            raise NotFound("OperationNotFound", f"no operation '{op_id[:64]}'")
        request = ClusterRequest.model_validate(loaded.op.request)
        self._authorize(caller, request.subscription_id, request.resource_group, action_of(loaded.op.kind))
        try:
            done = await retry(self.engine, loaded.op)
        except RetryRefused as refused:
            raise InConflict(refused.code, refused.detail) from None
        if self.agent_keys is not None and loaded.op.kind in ("create-cluster", "delete-cluster"):
            cluster = cluster_id_of(request.subscription_id, request.resource_group, request.name)
            if loaded.op.kind == "create-cluster":  # as a create does (idempotent)
                await self.agent_keys.issue(cluster)
            else:  # as a delete does: its agents may not act any more
                await self.agent_keys.revoke(cluster)
        return Accepted(done.operation_id, done.created)

    def _may_read(self, caller: Caller, request: Mapping[str, Any]) -> bool:
        sub, rg = request.get("subscriptionId"), request.get("resourceGroup")
        return isinstance(sub, str) and isinstance(rg, str) and self.policy.allows(caller, sub, rg, "read")

    async def cluster(self, sub: str, rg: str, name: str, caller: Caller) -> dict[str, Any]:
        record = await self._cluster(sub, rg, name, caller, "read")
        return cluster_view(record, await drift_row(self.engine.registry.table, record.key))

    async def _cluster(self, sub: str, rg: str, name: str, caller: Caller, action: Action) -> ClusterRecord:
        self._authorize(caller, sub, rg, action)
        record = await self.engine.registry.get(cluster_key(sub, rg, name))
        if record is None or record.state == "deleted":
            raise NotFound("ClusterNotFound", f"aksvend manages no cluster '{name[:63]}' in {rg[:90]}")
        return record

    # ---- change ------------------------------------------------------------------------------------------
    # A pool change is a `Change`: applied to the desired request as it is when accepted, so concurrent changes
    # are all accepted, each behind the one before in the cluster's queue (docs/engine.md "Concurrent changes").
    async def put_pool(self, sub: str, rg: str, name: str, pool: str, raw_pool: Any, caller: Caller,
                       key: str | None) -> Accepted:
        record = await self._cluster(sub, rg, name, caller, "change")  # before ARM is read for the subnets
        desired = ClusterRequest.model_validate(record.request)
        vnet = await arm_vnet(self.engine.arm, desired)
        subnets = named_subnets(vnet, desired)

        def apply(desired: Mapping[str, Any]) -> ClusterRequest:
            return with_pool(dict(desired), pool, raw_pool, default_subscription_id=self.default_subscription_id,
                             today=self.engine.clock.now().date(), capacity=True,
                             node_subnet=subnets.get(NODE_SUBNET), taken=tuple(subnets.values()), arm_vnet=vnet)

        # A change of an existing pool that names no count (taints, labels, bounds) keeps the count ARM has.
        kind: OperationKind = "update-pool" if await _existing_without_count(self.engine, sub, rg, name, pool,
                                                                             raw_pool) else "put-pool"
        return await self._change(kind, sub, rg, name, pool, {"pool": raw_pool}, apply, caller, key)

    async def delete_pool(self, sub: str, rg: str, name: str, pool: str, caller: Caller, key: str | None) -> Accepted:
        def apply(current: Mapping[str, Any]) -> ClusterRequest:
            desired = dict(current)
            if pool == desired["systemPool"]["name"]:
                raise InConflict("LastSystemPool", "the system pool is the cluster's only System pool and "
                                                   "cannot be deleted; delete the cluster instead")
            pools = [p for p in desired.get("userPools", []) if p["name"] != pool]
            if len(pools) == len(desired.get("userPools", [])):
                raise NotFound("PoolNotFound", f"cluster '{name}' has no user pool '{pool[:12]}'")
            return self._revalidate({**desired, "userPools": pools}, prefix="/userPools")

        return await self._change("delete-pool", sub, rg, name, pool, {}, apply, caller, key)

    async def _change(self, kind: OperationKind, sub: str, rg: str, name: str, pool: str, spec: Mapping[str, Any],
                      apply: Callable[[Mapping[str, Any]], ClusterRequest], caller: Caller,
                      key: str | None) -> Accepted:
        """Check the caller and the change on the desired request as read now (a refusal writes nothing), then
        submit it: the engine applies it again to the desired request as it is when accepted."""
        record = await self._cluster(sub, rg, name, caller, "change")
        after = apply(record.request)
        authorize_links(self.policy, caller, after, ClusterRequest.model_validate(record.request))
        self._within_policy_budget(after, caller, "change", pool)
        return await self._submit(kind, Change(record.key, spec, apply), caller, key, pool=pool,
                                  where=f"'{name[:63]}' in {rg[:90]}")

    async def delete_cluster(self, sub: str, rg: str, name: str, caller: Caller, key: str | None) -> Accepted:
        record = await self._cluster(sub, rg, name, caller, "delete")
        request = ClusterRequest.model_validate(record.request)
        if request.deletion_protection:
            raise InConflict("DeletionProtected", f"cluster '{name}' has deletionProtection on; turn it off first: "
                                                  'PATCH the cluster with {"deletionProtection": false}')
        skip = await unmade_skips(self.engine, record)  # a create that never succeeded: only what it made (cleanup.py)
        accepted = await self._submit("delete-cluster", request, caller, key, skip=skip)
        if self.agent_keys is not None:  # its agents may not act any more, nor on a cluster made again by the name
            await self.agent_keys.revoke(cluster_id_of(sub, rg, name))
        return accepted

    def _revalidate(self, desired: dict[str, Any], prefix: str) -> ClusterRequest:
        return revalidate(desired, prefix=prefix, default_subscription_id=self.default_subscription_id,
                          today=self.engine.clock.now().date())


async def _existing_without_count(engine: Engine, sub: str, rg: str, name: str, pool: str, raw_pool: Any) -> bool:
    record = await engine.registry.get(cluster_key(sub, rg, name))
    pools = (record.request.get("userPools") or []) if record is not None else []
    return isinstance(raw_pool, dict) and "count" not in raw_pool and any(p.get("name") == pool for p in pools)


async def _name_taken(engine: Engine, key: str, where: str) -> str:
    """Why a create's name is taken, and what to do: a failed create (kept, `onFailure: keep`) is named with its
    retry and the DELETE that frees the name; its cleanup (`onFailure: cleanup`) frees it by itself."""
    record = await engine.registry.get(key)
    if record is None or record.state != "failed" or not record.last_operation:
        return f"a different request already owns cluster {where}"
    op = record.last_operation
    return (f"cluster {where} is bound to the request of failed operation {op}: retry it (POST /api/operations/{op}"
            "/retry) or DELETE the cluster, which frees the name for a different request")


async def _not_deleting(engine: Engine, request: ClusterRequest) -> None:
    """409 ClusterDeleting while the cluster's deletion is queued or running: the same body would otherwise answer
    with the create that made it (same body, same operation), as if it were accepted while it goes away."""
    record = await engine.registry.get(cluster_key(request.subscription_id, request.resource_group, request.name))
    if record is None or record.state != "deleting":
        return
    kinds = {op: await engine.ops.get(op, OPERATION_ROW) for op in record.queue}
    op = next((o for o, row in kinds.items() if row and row.entity.get("kind") == "delete-cluster"), None)
    raise InConflict("ClusterDeleting", f"cluster '{request.name}' in {request.resource_group} is being deleted: "
                                        f"wait until operation {op or record.last_operation} is done, then create it")


def _is_id(op_id: str) -> bool:
    return 0 < len(op_id) <= 64 and all(c.isalnum() or c == "-" for c in op_id)
