"""Node pool rules: names, sizes, counts, autoscaling, zones, OS disks, and what the system pool must be."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from shared.domain.network import MAX_PODS_LIMIT, MIN_MAX_PODS, WINDOWS_RECOMMENDED_MAX_PODS, max_pods
from shared.domain.profiles import CRITICAL_ADDONS_TAINT
from shared.domain.regions import lookup_region
from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.context import Context
from shared.domain.violations import (
    CREATE_NODE_POOLS,
    EPHEMERAL,
    IP_PLANNING,
    QUOTAS,
    SPEC,
    USE_SYSTEM_POOLS,
    VM_SIZES,
    ZONES,
    Violation,
)
from shared.domain.vmsizes import VmSize, lookup, suggest

POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}\Z")
WINDOWS_NAME_MAX = 6
MAX_NODES_PER_POOL = 1000
SYSTEM_MIN_PODS = 30
VALID_ZONES = frozenset(("1", "2", "3"))


class PoolFacts(NamedTuple):
    """What the pool rules ask of every pool, worked out once per request."""

    pool: Pool
    at: str  # the pool's JSON pointer
    system: bool  # is it the system pool
    size: VmSize | None  # vmsizes.lookup(pool.vm_size)
    max_nodes: int  # pool.max_nodes


_last_pools: tuple[ClusterRequest, tuple[PoolFacts, ...]] | None = None


def each_pool(r: ClusterRequest) -> tuple[PoolFacts, ...]:
    """The facts of every pool, the system pool first. A dozen rules walk the pools and ask the same of each
    (planning is hot: bench/bench_plan.py), so the last answer is kept for that very (frozen) request, as
    network.layout does: an identity check, so no other request ever gets it."""
    global _last_pools
    last = _last_pools
    if last is not None and last[0] is r:
        return last[1]
    system = r.system_pool
    facts = [PoolFacts(system, "/systemPool", True, lookup(system.vm_size), system.max_nodes)]
    for i, pool in enumerate(r.user_pools):
        facts.append(PoolFacts(pool, f"/userPools/{i}", False, lookup(pool.vm_size), pool.max_nodes))
    answer = tuple(facts)
    _last_pools = (r, answer)
    return answer  # never the global read again: another thread may have replaced it in between


def names(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    seen: set[str] = set()
    for pool, at, _system, _size, _nodes in each_pool(r):
        if not POOL_NAME.fullmatch(pool.name):
            yield Violation("POOL_NAME_FORMAT", f"{at}/name",
                            "pool name must be 1-12 lowercase letters and digits, starting with a letter",
                            source=SPEC)
        elif pool.os == "Windows" and len(pool.name) > WINDOWS_NAME_MAX:
            yield Violation("WINDOWS_POOL_NAME_LENGTH", f"{at}/name",
                            f"a Windows pool name has at most {WINDOWS_NAME_MAX} characters", source=CREATE_NODE_POOLS)
        if pool.name in seen:
            yield Violation("POOL_NAME_DUPLICATE", f"{at}/name", f"pool name '{pool.name}' is used twice; names "
                            "must be unique in a cluster", source=SPEC)
        seen.add(pool.name)


def vm_sizes(r: ClusterRequest, ctx: Context) -> Iterator[Violation]:
    for pool, at, _system, size, _nodes in each_pool(r):
        if size is None:
            hint = suggest(pool.vm_size)
            also = f"; did you mean {', '.join(hint)}?" if hint else ""
            yield Violation("VM_SIZE_UNKNOWN", f"{at}/vmSize", f"'{pool.vm_size}' is not a known VM size{also}",
                            source=VM_SIZES)
        elif size.retired_on and size.is_retired_on(ctx.as_of):
            yield Violation("VM_SIZE_RETIRED", f"{at}/vmSize",
                            f"{size.name} was retired on {size.retired_on.isoformat()}; choose a current size "
                            f"({size.retirement_note})",
                            source=VM_SIZES)
        elif size.retired_on:
            yield Violation("VM_SIZE_RETIRING", f"{at}/vmSize",
                            f"{size.name} retires on {size.retired_on.isoformat()}; plan a move to a current size",
                            severity="warning", source=VM_SIZES)


def system_pool(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    pool, at, prod = r.system_pool, "/systemPool", r.is_production
    if pool.os != "Linux":
        yield Violation("SYSTEM_POOL_LINUX", f"{at}/os", "the system pool must run Linux (it is the cluster's first "
                        "pool and hosts CoreDNS and the add-ons)", source=USE_SYSTEM_POOLS)
    if pool.spot is not None:
        yield Violation("SPOT_SYSTEM_POOL", f"{at}/spot", "a spot pool can only be a user pool, never the system pool",
                        source=USE_SYSTEM_POOLS)
    if pool.workload != "general":
        yield Violation("SYSTEM_POOL_WORKLOAD", f"{at}/workload", "the system pool runs critical add-ons only; put "
                        f"'{pool.workload}' workloads in a user pool (workload must be 'general')",
                        source=USE_SYSTEM_POOLS)
    size = each_pool(r)[0].size
    if size is not None:
        if size.burstable:
            yield Violation("SYSTEM_POOL_BURSTABLE", f"{at}/vmSize", f"{size.name} is a B-series (burstable) size; "
                            "the system pool must not use B-series sizes", source=USE_SYSTEM_POOLS)
        if size.vcpus < 2 or size.memory_gib < 4:
            yield Violation("SYSTEM_POOL_MIN_SIZE", f"{at}/vmSize", f"{size.name} has {size.vcpus} vCPU and "
                            f"{size.memory_gib:g} GiB; the system pool needs at least 2 vCPU and 4 GiB",
                            source=USE_SYSTEM_POOLS)
        elif size.vcpus < 4:
            yield Violation("SYSTEM_POOL_MIN_VCPU", f"{at}/vmSize", f"{size.name} has {size.vcpus} vCPU; a system "
                            "pool should have at least 4 vCPU" + (" in production" if prod else ""),
                            severity="error" if prod else "warning", source=USE_SYSTEM_POOLS)
    low = min(pool.count, pool.autoscale.min) if pool.autoscale else pool.count
    if low < 1:
        yield Violation("SYSTEM_POOL_MIN_NODES", f"{at}/count", "the system pool needs at least 1 node at all times "
                        "(count and autoscale min >= 1)", source=USE_SYSTEM_POOLS)
    elif prod and low < 3:
        yield Violation("SYSTEM_POOL_MIN_NODES", f"{at}/count", f"production needs at least 3 system nodes; this "
                        f"pool can go down to {low}", source=USE_SYSTEM_POOLS)
    elif low == 1:
        yield Violation("SYSTEM_POOL_SINGLE_NODE", f"{at}/count", f"a single system node is a single point of "
                        f"failure: acceptable for {r.profile}, but use 3 for a cluster that must stay up (the "
                        f"production profile requires at least 3)", severity="warning", source=USE_SYSTEM_POOLS)
    if prod and len(set(pool.zones or [])) < 2:
        yield Violation("SYSTEM_POOL_ZONES", f"{at}/zones", "production spreads the system pool over at least 2 "
                        "availability zones, e.g. [\"1\", \"2\", \"3\"]", source=ZONES)
    if max_pods(pool, r.network.plugin) < SYSTEM_MIN_PODS:
        yield Violation("SYSTEM_POOL_MAX_PODS", f"{at}/maxPods", f"a system pool must fit at least "
                        f"{SYSTEM_MIN_PODS} pods per node (maxPods >= {SYSTEM_MIN_PODS})", source=USE_SYSTEM_POOLS)


def system_pool_taint(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    """The profile taints the system pool; a request may list other taints (or none), and is warned that
    application pods can then land on it. Any CriticalAddonsOnly taint that keeps pods off counts (AKS's
    add-ons tolerate the key with any value)."""
    for taint in r.system_pool.taints:
        key, _sep, effect = taint.rpartition(":")
        if key.split("=", 1)[0] == "CriticalAddonsOnly" and effect in ("NoSchedule", "NoExecute"):
            return
    yield Violation("SYSTEM_POOL_UNTAINTED", "/systemPool/taints", f"the system pool has no {CRITICAL_ADDONS_TAINT} "
                    "taint, so application pods may be scheduled on it; leave taints out to get it, or list it",
                    severity="warning", source=USE_SYSTEM_POOLS)


def counts(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, _system, _size, _nodes in each_pool(r):
        if pool.count > MAX_NODES_PER_POOL:
            yield Violation("POOL_COUNT_RANGE", f"{at}/count",
                            f"count must be between 0 and {MAX_NODES_PER_POOL}", source=QUOTAS)
        a = pool.autoscale
        if a is None:
            continue
        if a.min > a.max:
            yield Violation("AUTOSCALE_BOUNDS", f"{at}/autoscale/min", "autoscale needs min <= max", source=SPEC)
        elif not a.min <= pool.count <= a.max:
            yield Violation("AUTOSCALE_BOUNDS", f"{at}/count", f"count must lie within the autoscale bounds "
                            f"(0 <= min <= count <= max <= {MAX_NODES_PER_POOL}); got {a.min} <= {pool.count} <= "
                            f"{a.max}", source=SPEC)


def pods(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, _system, _size, _nodes in each_pool(r):
        value = max_pods(pool, r.network.plugin)
        if not MIN_MAX_PODS <= value <= MAX_PODS_LIMIT:
            yield Violation("MAX_PODS_RANGE", f"{at}/maxPods",
                            f"maxPods must be between {MIN_MAX_PODS} and {MAX_PODS_LIMIT}", source=IP_PLANNING)
        elif pool.os == "Windows" and value > WINDOWS_RECOMMENDED_MAX_PODS:
            yield Violation("WINDOWS_MAX_PODS", f"{at}/maxPods", f"Windows pools are recommended to run at most "
                            f"{WINDOWS_RECOMMENDED_MAX_PODS} pods per node", severity="warning", source=IP_PLANNING)


def zones(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    region = lookup_region(r.location)
    for pool, at, _system, _size, _nodes in each_pool(r):
        if not pool.zones:
            continue
        if not VALID_ZONES.issuperset(pool.zones) or len(set(pool.zones)) != len(pool.zones):
            yield Violation("ZONES_INVALID", f"{at}/zones", "zones must be distinct values out of \"1\", \"2\", \"3\"",
                            source=ZONES)
        elif region is not None and not region.availability_zones:
            yield Violation("ZONES_NOT_IN_REGION", f"{at}/zones",
                            f"{region.name} has no availability zones; leave zones out", source=ZONES)


def os_disks(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, _system, size, _nodes in each_pool(r):
        if pool.os_disk_type != "Ephemeral" or size is None:
            continue
        if not size.supports_ephemeral_os_disk:
            yield Violation("EPHEMERAL_OS_DISK_UNSUPPORTED", f"{at}/osDiskType", f"{size.name} has no local disk "
                            "for an ephemeral OS disk; use 'Managed' or a size with a temp disk (e.g. Ddsv5)",
                            source=EPHEMERAL)
        elif pool.os_disk_size_gb and pool.os_disk_size_gb > size.ephemeral_os_disk_gib:
            yield Violation("EPHEMERAL_OS_DISK_TOO_LARGE", f"{at}/osDiskSizeGb", f"{size.name} holds an ephemeral "
                            f"OS disk of at most {size.ephemeral_os_disk_gib} GB", source=EPHEMERAL)


RULES = (names, vm_sizes, system_pool, system_pool_taint, counts, pods, zones, os_disks)
