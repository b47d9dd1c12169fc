"""Operations and their steps, as pure data: what the engine must do, derived again from what it stored.

An operation (create a cluster, put or delete a pool, delete a cluster, upgrade) is a DAG of steps. The engine stores
only the operation's kind and its (expanded) request; the steps, their ARM ids and exact bodies are derived
here, deterministically, each time they are needed. So what is stored stays small, and a redelivered message
sees exactly the step it saw before.

A step's body may hold placeholders (see `arm.py`): `${key.path}` for outputs of earlier steps and
`${secret:name}` for secrets. `needed_outputs` says which outputs of which step to keep when it succeeds;
`resolve` fills them in just before the request is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from shared.domain import arm, byo
from shared.domain.plan import VNET_RULE_PREFIX, Plan, plan
from shared.domain.pool_steps import own_subnet_deletes, own_subnet_steps
from shared.domain.request import ClusterRequest
from shared.domain.step_spec import StepSpec

# update-pool: a put-pool that keeps the pool's count and power state as ARM has them (a change of taints, labels or
# bounds that names no count). stop-pool, start-pool: one that keeps ARM's count and sets the power state.
OperationKind = Literal["create-cluster", "put-pool", "delete-pool", "delete-cluster", "upgrade", "patch-cluster",
                        "swap-system-pool", "update-pool", "stop-pool", "start-pool"]
OPERATION_KINDS: tuple[OperationKind, ...] = ("create-cluster", "put-pool", "delete-pool", "delete-cluster", "upgrade",
                                              "patch-cluster", "swap-system-pool", "update-pool", "stop-pool",
                                              "start-pool")
# the power state a stop-pool or start-pool PUT sets (`az aks nodepool stop`/`start`: the pool as it is, with
# `properties.powerState.code`; AKS docs "Start and stop a node pool")
POWER_OF: dict[str, str] = {"stop-pool": "Stopped", "start-pool": "Running"}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z][\w:.-]*)\.(properties(?:\.\w+)+)\}")
_SECRET = re.compile(r"^\$\{secret:(\w+)\}\Z")


def steps_for(kind: OperationKind, request: ClusterRequest, pool_name: str | None = None,
              pool_subnet: str | None = None, *, edits_targets: bool = False) -> tuple[StepSpec, ...]:
    """The steps of an operation. `pool_name` names the pool of put-pool and delete-pool; `pool_subnet`, a
    delete-pool's pool's `subnet` as the request had it before (None: not known, an older operation);
    `edits_targets`, whether a put-pool that adds the pool, or a delete-pool, edits the service endpoint targets'
    rules for the pool's own subnet (`OperationRecord.edits_targets`)."""
    if kind == "create-cluster":
        return _create_steps(plan(request))
    if kind == "delete-cluster":
        return _delete_steps(plan(request))
    if kind == "upgrade":
        return _upgrade_steps(request)
    if kind == "patch-cluster":
        return _patch_steps(request, pool_name)
    if kind == "swap-system-pool":
        return _swap_steps(request, pool_name)
    if pool_name is None:
        raise ValueError(f"{kind} needs a pool name")
    pool_id = f"{arm.ids(request)['cluster']}/agentPools/{pool_name}"
    pools = arm.AGENT_POOL
    if kind == "delete-pool":
        delete_pool = StepSpec(f"delete:pool:{pool_name}", "delete", f"pool:{pool_name}", pools.name, pool_id,
                               pools.api_version, None, (), True, pools.seconds["delete"])
        if not byo.is_subnet_id(pool_subnet or "") and (byo.uses_existing_network(request) or pool_subnet == ""):
            return (delete_pool,)  # no subnet of the pool is aksvend's, nor a grant on one: nothing else to delete
        return (delete_pool, *own_subnet_deletes(request, pool_name, delete_pool.id, pool_subnet or "auto",
                                                          edits=edits_targets))
    # the system pool too: a drift repair puts it back as requested (shared/services/drift.py)
    pool = next(p for p in request.pools if p.name == pool_name)
    body = {"properties": arm.agent_pool_properties(request, pool, system=pool is request.system_pool)}
    if kind in POWER_OF:  # the pool exists: it is only stopped or started, never created (must_exist)
        body["properties"]["powerState"] = {"code": POWER_OF[kind]}
    before = own_subnet_steps(request, pool, edits=edits_targets) if pool.subnet and kind not in POWER_OF else ()
    return (*before, StepSpec(f"put:pool:{pool_name}", "put", f"pool:{pool_name}", pools.name, pool_id,
                              pools.api_version, body, tuple(s.id for s in before if s.edit is None)[-1:], True,
                              pools.seconds["put"],
                              must_exist=kind in POWER_OF, current=kind in ("update-pool", *POWER_OF)))


def _upgrade_steps(request: ClusterRequest) -> tuple[StepSpec, ...]:
    """Upgrade to `request.kubernetes_version`: the control plane first (the cluster PUT with the new
    `kubernetesVersion`, its pool profiles without `orchestratorVersion` so that AKS keeps each pool's version,
    as `az aks upgrade --control-plane-only` does), then each pool through the agentPools API with the new
    `orchestratorVersion`, one after another (system pool first; AKS allows one mutating operation at a time)."""
    cluster_id = arm.ids(request)["cluster"]
    body = arm.managed_cluster_body(request)
    profiles = [{k: v for k, v in p.items() if k != "orchestratorVersion"}
                for p in body["properties"]["agentPoolProfiles"]]
    body = {**body, "properties": {**body["properties"], "agentPoolProfiles": profiles}}
    cluster, pools = arm.CLUSTER, arm.AGENT_POOL
    steps = [StepSpec("upgrade:controlPlane", "put", "cluster", cluster.name, cluster_id, cluster.api_version, body,
                      (), True, cluster.seconds["put"], must_exist=True, current=True)]  # never creates a deleted one
    for i, pool in enumerate(request.pools):
        props = arm.agent_pool_properties(request, pool, system=i == 0)
        steps.append(StepSpec(f"upgrade:pool:{pool.name}", "put", f"pool:{pool.name}", pools.name,
                              f"{cluster_id}/agentPools/{pool.name}", pools.api_version, {"properties": props},
                              (steps[-1].id,), True, pools.seconds["put"], current=True))
    return tuple(steps)


def _patch_steps(request: ClusterRequest, pool_name: str | None) -> tuple[StepSpec, ...]:
    """A patch: the cluster PUT (tags, add-ons, autoscaler profile, upgrade channel, the pools' bounds, taints and
    labels) with each pool's count and power state as ARM has them, then, when the patch changed the system pool's
    count (`pool_name`), its PUT through the agentPools API with the desired count."""
    cluster, pools = arm.CLUSTER, arm.AGENT_POOL
    cluster_id = arm.ids(request)["cluster"]
    steps = [StepSpec("update:cluster", "put", "cluster", cluster.name, cluster_id, cluster.api_version,
                      arm.managed_cluster_body(request), (), True, cluster.seconds["put"], must_exist=True,
                      current=True)]
    if pool_name is not None:
        props = arm.agent_pool_properties(request, request.system_pool, system=True)
        steps.append(StepSpec(f"put:pool:{pool_name}", "put", f"pool:{pool_name}", pools.name,
                              f"{cluster_id}/agentPools/{pool_name}", pools.api_version, {"properties": props},
                              (steps[0].id,), True, pools.seconds["put"], must_exist=True))
    return tuple(steps)


def _swap_steps(request: ClusterRequest, old: str | None) -> tuple[StepSpec, ...]:
    """A system pool VM size change (shared/domain/patch.py `Swap`): the new System pool (the request's system pool,
    named anew) is added and must be Succeeded, then the old one (`old`) is deleted, which cordons and drains it."""
    if old is None:
        raise ValueError("swap-system-pool needs the old pool's name")
    pools, cluster_id, new = arm.AGENT_POOL, arm.ids(request)["cluster"], request.system_pool
    props = arm.agent_pool_properties(request, new, system=True)
    add = StepSpec(f"put:pool:{new.name}", "put", f"pool:{new.name}", pools.name, f"{cluster_id}/agentPools/{new.name}",
                   pools.api_version, {"properties": props}, (), True, pools.seconds["put"])
    return (add, StepSpec(f"delete:pool:{old}", "delete", f"pool:{old}", pools.name, f"{cluster_id}/agentPools/{old}",
                          pools.api_version, None, (add.id,), True, pools.seconds["delete"]))


def _create_steps(p: Plan) -> tuple[StepSpec, ...]:
    by_key = {r.key: r for r in p.resources}
    return tuple(
        StepSpec(s.id, "put", s.resource, by_key[s.resource].type, by_key[s.resource].id,
                 by_key[s.resource].api_version, by_key[s.resource].body, s.depends_on, s.mutates_cluster,
                 s.estimated_seconds, edit="add" if s.resource.startswith(VNET_RULE_PREFIX) else None)
        for s in p.steps
    )


def _delete_steps(p: Plan) -> tuple[StepSpec, ...]:
    """Delete what the plan created, dependents first. The resource group stays: it may hold other things. A
    service endpoint target's step and a DNS zone's VNet link keep their body: the rules to remove, and the VNet
    the link must name to be the cluster's (shared/engine/target_rules.py `delete_resource`)."""
    resources = [r for r in p.resources if r.type != arm.RESOURCE_GROUP.name]
    dependents: dict[str, list[str]] = {r.key: [] for r in resources}
    for r in resources:
        for d in r.depends_on:
            if d in dependents:
                dependents[d].append(r.key)
    return tuple(
        StepSpec(f"delete:{r.key}", "delete", r.key, r.type, r.id, r.api_version,
                 r.body if r.key.startswith(VNET_RULE_PREFIX) or r.type == arm.DNS_LINK.name else None,  # (below)
                 tuple(f"delete:{k}" for k in dependents[r.key]), r.type == arm.CLUSTER.name,
                 arm.resource_type(r.type).seconds["delete"],
                 edit="remove" if r.key.startswith(VNET_RULE_PREFIX) else None)  # the target stays: only our rules go
        for r in reversed(resources)
    )


def needed_outputs(steps: Iterable[StepSpec]) -> dict[str, set[str]]:
    """resource key -> the JSON paths of its final state that later bodies refer to."""
    out: dict[str, set[str]] = {}
    for step in steps:
        for key, path in _placeholders(step.body):
            out.setdefault(key, set()).add(path)
    return out


def _placeholders(value: Any) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield from _PLACEHOLDER.findall(value)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _placeholders(v)
    elif isinstance(value, list):
        for v in value:
            yield from _placeholders(v)


def extract(resource: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The values at dotted `paths` of a resource's JSON (missing ones are left out)."""
    out = {}
    for path in paths:
        node: Any = resource
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            out[path] = node
    return out


class UnresolvedPlaceholder(LookupError):
    """A body refers to an output that no finished step provided; a bug, not a transient state."""


def resolve(body: Any, outputs: Mapping[str, Mapping[str, Any]], secret: Callable[[str], str]) -> Any:
    """The body with every placeholder replaced. `outputs`: resource key -> {path: value}."""
    if isinstance(body, str):
        secret_name = _SECRET.match(body)
        if secret_name:
            return secret(secret_name.group(1))

        def fill(m: re.Match[str]) -> str:
            try:
                return str(outputs[m.group(1)][m.group(2)])
            except KeyError:
                raise UnresolvedPlaceholder(f"{m.group(1)}.{m.group(2)}") from None

        return _PLACEHOLDER.sub(fill, body)
    if isinstance(body, Mapping):
        return {k: resolve(v, outputs, secret) for k, v in body.items()}
    if isinstance(body, list):
        return [resolve(v, outputs, secret) for v in body]
    return body


def secret_names(body: Any) -> set[str]:
    """The names of the `${secret:<name>}` placeholders in a body (the engine fetches them before resolving)."""
    if isinstance(body, str):
        return {body[len("${secret:"):-1]} if body.startswith("${secret:") and body.endswith("}") else set()
    if isinstance(body, Mapping):
        return set().union(*(secret_names(v) for v in body.values())) if body else set()
    if isinstance(body, list):
        return set().union(*(secret_names(v) for v in body)) if body else set()
    return set()


def progress(specs: Iterable[StepSpec], done: set[str]) -> int:
    """Percent of the estimated work done, by step durations (a cluster create is most of a create)."""
    specs = list(specs)
    total = sum(s.estimated_seconds for s in specs) or 1
    return round(100 * sum(s.estimated_seconds for s in specs if s.id in done) / total)


def roots(specs: Iterable[StepSpec]) -> list[str]:
    return [s.id for s in specs if not s.depends_on]


def runnable(specs: Iterable[StepSpec], succeeded: set[str], waiting: set[str]) -> list[str]:
    """Waiting steps whose dependencies have all succeeded."""
    return [s.id for s in specs if s.id in waiting and set(s.depends_on) <= succeeded]
