"""The steps around a pool on a subnet of its own (shared/domain/pool_subnets.py), when the pool is put or deleted
apart from its cluster: the subnet, the cluster identity's grant on it, and the service endpoint targets' VNet rules
for it (shared/engine/target_rules.py), as the cluster's create and delete have them for the subnets they know."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from shared.domain import arm, armid, byo
from shared.domain.plan import pool_grant, target_key
from shared.domain.request import ClusterRequest, Pool
from shared.domain.step_spec import Action, StepSpec


def own_subnet_deletes(request: ClusterRequest, pool_name: str, after: str, given: str, *,
                       edits: bool = False) -> tuple[StepSpec, ...]:
    """Once a pool is gone, its own subnet's grant and the subnet (shared/domain/pool_subnets.py). `given`: the
    pool's `subnet` as the request had it ("auto" when not known: then both ids are derived from its name, and a
    pool that had none gets two DELETEs that ARM answers 404, done). An existing subnet (an ARM id) is its owner's:
    only the Network Contributor role aksvend gave the cluster's identity on it goes (if aksvend made the identity)."""
    gone = Pool(name=pool_name, vm_size="-", count=0, subnet=given if byo.is_subnet_id(given) else "auto")
    key, role_id = pool_grant(request, gone)
    role, subnet = arm.ROLE_ASSIGNMENT, arm.SUBNET
    grant = StepSpec(f"delete:{key}", "delete", key, role.name, role_id, role.api_version, None, (after,), False,
                     role.seconds["delete"])
    if byo.is_subnet_id(given):
        return (grant,) if byo.makes_identity(request) else ()
    removed = target_edits(request, gone, "remove", (after,)) if edits else ()
    return (grant, StepSpec(f"delete:subnet:{pool_name}", "delete", f"subnet:{pool_name}", subnet.name,
                            arm.pool_subnet_id(request, gone), subnet.api_version, None, (f"delete:{key}",), False,
                            subnet.seconds["delete"]), *removed)


def own_subnet_steps(request: ClusterRequest, pool: Pool, *, edits: bool = False) -> tuple[StepSpec, ...]:
    """A pool on its own subnet: the subnet (a PUT of the same prefix again is a no-op), and the cluster identity's
    Network Contributor role on it; the identity is PUT again (unchanged) for its principal id. An existing subnet
    (an ARM id) is not PUT, and an existing identity gets no grant (shared/domain/byo.py): its owner grants it."""
    ids, role, subnet = arm.ids(request), arm.ROLE_ASSIGNMENT, arm.SUBNET
    key, role_id = pool_grant(request, pool)
    existing = byo.is_subnet_id(pool.subnet or "")
    put_subnet = () if existing else (
        StepSpec(f"put:subnet:{pool.name}", "put", f"subnet:{pool.name}", subnet.name,
                 arm.pool_subnet_id(request, pool), subnet.api_version, subnet.body(request, pool), (), False,
                 subnet.seconds["put"]),)
    added = target_edits(request, pool, "add", tuple(s.id for s in put_subnet)) if edits else ()
    if not byo.makes_identity(request):
        return (*put_subnet, *added)
    return (
        StepSpec("put:identity", "put", "identity", arm.IDENTITY.name, ids["identity"], arm.IDENTITY.api_version,
                 arm.IDENTITY.body(request), (), False, arm.IDENTITY.seconds["put"]),
        *put_subnet,
        StepSpec(f"put:{key}", "put", key, role.name, role_id, role.api_version, role.body(request),
                 ("put:identity", *(s.id for s in put_subnet)), False, role.seconds["put"]),
        *added,
    )


def pool_subnets(request: Mapping[str, Any], pool: str | None) -> list[str]:
    """The `subnet` of a (stored) request's user pool called `pool` ("" none), or [] when it has no such pool."""
    return [str(p.get("subnet") or "") for p in request.get("userPools") or () if p.get("name") == pool]


def edits_targets(kind: str, cluster: Mapping[str, Any], applied: Mapping[str, Any] | None, pool: str | None) -> bool:
    """Whether an operation edits the targets for its pool's own subnet: a delete-pool, or a put-pool of a pool the
    cluster does not have yet, as the last successful operation left it (`applied`; the desired request `cluster`
    for a record without one). Not the desired request: a submit sent again after a crash finds its pool there
    already. A put of a pool that exists (a change, a reaction, a drift repair) never edits them: a rule the
    target's owner removed stays removed."""
    return kind == "delete-pool" or (kind == "put-pool" and not pool_subnets(
        applied if applied is not None else cluster, pool))


def target_edits(request: ClusterRequest, pool: Pool, edit: Literal["add", "remove"],
                 after: tuple[str, ...]) -> tuple[StepSpec, ...]:
    """The pool's own subnet in each service endpoint target's VNet rules: added once the subnet (with the request's
    service endpoints) is there, removed once the pool is gone, as the cluster's create and delete do for the subnets
    they know (`arm.cluster_subnets`). An existing subnet is its owner's: its endpoints are not the request's."""
    if request.network.existing is not None or byo.is_subnet_id(pool.subnet or ""):
        return ()
    subnet_id, out = arm.pool_subnet_id(request, pool), []
    for target in request.network.service_endpoint_targets:
        parsed = armid.parse(target.target_resource_id)
        if parsed is None:  # a validated request names ARM ids only
            raise ValueError("a service endpoint target is no ARM id")
        type_, key = arm.resource_type(parsed.resource_type), f"{target_key(target.target_resource_id)}:{pool.name}"
        action: Action = "put" if edit == "add" else "delete"
        out.append(StepSpec(f"{action}:{key}", action, key, type_.name, target.target_resource_id, type_.api_version,
                            type_.body(type_.name, [subnet_id]), after, False, type_.seconds[action], edit=edit))
    return tuple(out)
