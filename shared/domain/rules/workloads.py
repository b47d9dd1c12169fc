"""Rules for what runs on a pool: spot, GPU, Windows, memory-heavy work, taints and labels."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from decimal import Decimal

from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.rules.pools import each_pool
from shared.domain.violations import CREATE_NODE_POOLS, GPU, LABELS, SPOT, TAINTS, VM_SIZES, Violation, pointer

# Kubernetes qualified names: optional DNS-subdomain prefix and '/', then a name of <= 63 characters.
_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_PREFIX = r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)"
QUALIFIED_NAME = re.compile(rf"^{_PREFIX}?{_NAME}$")
LABEL_VALUE = re.compile(rf"^{_NAME}?$")
TAINT = re.compile(rf"^{_PREFIX}?{_NAME}(={_NAME}?)?:(NoSchedule|PreferNoSchedule|NoExecute)$")
GPU_TAINT = "sku=gpu:NoSchedule"
ARM64 = "learn.microsoft.com/azure/aks/use-arm64-vms (Arm64 VMs aren't supported for Windows node pools)"
MEMORY_GIB_PER_VCPU = 8  # E-series ratio: what "memory-optimised" means


@functools.lru_cache(maxsize=4096)
def _is_taint(text: str) -> bool:
    """TAINT.fullmatch, cached by the text: the regular expression is costly and most pools carry the same few
    taints (planning is hot: bench/bench_plan.py)."""
    return TAINT.fullmatch(text) is not None


def spot(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, system, _size, _nodes in each_pool(r):
        if pool.spot is None or system:
            continue
        price = pool.spot.max_price
        if price != -1:  # the default: no Decimal to build (planning is hot: bench/bench_plan.py)
            exponent = Decimal(str(price)).as_tuple().exponent  # not an int for NaN and infinity
            if price <= 0 or not isinstance(exponent, int) or -exponent > 5:
                yield Violation("SPOT_MAX_PRICE", f"{at}/spot/maxPrice", "spot maxPrice must be -1 (pay up to the "
                                "on-demand price) or a positive price with at most 5 decimals", source=SPOT)
        if pool.spot.eviction_policy == "Deallocate":
            yield Violation("SPOT_DEALLOCATE_QUOTA", f"{at}/spot/evictionPolicy", "deallocated spot nodes keep "
                            "counting against your compute quota; 'Delete' frees it", severity="warning", source=SPOT)


def gpu(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, _system, size, _nodes in each_pool(r):
        if size is None or (not size.gpus and pool.workload != "gpu" and pool.gpu_driver is None):
            continue  # no GPU asked for, none had: nothing below applies
        if pool.workload == "gpu" and size.gpus == 0:
            yield Violation("GPU_SIZE_REQUIRED", f"{at}/vmSize", f"a 'gpu' workload needs a GPU size (at least "
                            f"Standard_NC4as_T4_v3); {size.name} has no GPU", source=GPU)
        if size.gpus and not size.aks_gpu_supported:
            yield Violation("GPU_SIZE_UNSUPPORTED", f"{at}/vmSize", f"AKS does not support {size.name} as a GPU "
                            "size (NVv4 and older series are not supported)", source=GPU)
        if size.gpus and pool.workload != "gpu":
            yield Violation("GPU_SIZE_OUTSIDE_GPU_WORKLOAD", f"{at}/workload", f"{size.name} has GPUs but the pool's "
                            "workload is not 'gpu'; GPU VMs are costly for general work", severity="warning",
                            source=GPU)
        if pool.gpu_driver is not None and size.gpus == 0:
            yield Violation("GPU_DRIVER_WITHOUT_GPU", f"{at}/gpuDriver", "gpuDriver applies only to GPU sizes",
                            source=GPU)
        if pool.workload == "gpu" and size.gpus and GPU_TAINT not in pool.taints:
            yield Violation("GPU_TAINT_RECOMMENDED", f"{at}/taints", f"add the taint '{GPU_TAINT}' so that only "
                            "pods that tolerate it land on GPU nodes", severity="warning", source=GPU)


def windows(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, system, size, _nodes in each_pool(r):
        if pool.os != "Windows" or system:
            continue
        if r.network.plugin == "kubenet":
            yield Violation("WINDOWS_REQUIRES_AZURE_CNI", f"{at}/os", "Windows pools need Azure CNI "
                            "(network.plugin 'azure-overlay' or 'azure'), not kubenet", source=CREATE_NODE_POOLS)
        if size is not None and size.arm64:
            yield Violation("ARM64_WINDOWS_UNSUPPORTED", f"{at}/vmSize", f"{size.name} is an Arm64 size; AKS runs "
                            "Arm64 nodes in Linux pools only (osSku Ubuntu or AzureLinux): choose an x64 size for "
                            "this Windows pool", source=ARM64)


def memory(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, _system, size, _nodes in each_pool(r):
        if pool.workload == "memory" and size is not None and size.memory_gib < MEMORY_GIB_PER_VCPU * size.vcpus:
            yield Violation("MEMORY_WORKLOAD_SIZE", f"{at}/vmSize", f"a 'memory' workload expects a memory-optimised "
                            f"size (>= {MEMORY_GIB_PER_VCPU} GiB per vCPU, e.g. Esv5); {size.name} has "
                            f"{size.memory_gib:g} GiB for {size.vcpus} vCPU", severity="warning", source=VM_SIZES)


def taints_and_labels(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    for pool, at, _system, _size, _nodes in each_pool(r):
        if not pool.taints and not pool.labels:
            continue  # most pools: no loops to start (planning is hot: bench/bench_plan.py)
        for i, taint in enumerate(pool.taints):
            if not _is_taint(taint):
                yield Violation("TAINT_FORMAT", f"{at}/taints/{i}", "a taint is key[=value]:effect with effect "
                                "NoSchedule, PreferNoSchedule or NoExecute, e.g. sku=gpu:NoSchedule", source=TAINTS)
        for key, value in pool.labels.items():
            if not QUALIFIED_NAME.fullmatch(key) or not LABEL_VALUE.fullmatch(value):
                yield Violation("LABEL_FORMAT", f"{at}{pointer('labels', key)}", "a label key is [prefix/]name and "
                                "a value <= 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric",
                                source=LABELS)


RULES = (spot, gpu, windows, memory, taints_and_labels)
