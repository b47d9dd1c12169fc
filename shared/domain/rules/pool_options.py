"""Rules of the per-pool production options (issue 18): OS SKU, surge, kubelet settings, MIG, scale-down mode,
encryption at host, and the label and taint prefix AKS keeps for itself. Sources in docs/request.md."""

from __future__ import annotations

import re
from collections.abc import Iterator

from shared.domain.request import ClusterRequest, Pool
from shared.domain.rules.context import Context
from shared.domain.rules.pools import each_pool
from shared.domain.violations import Violation, pointer
from shared.domain.vmsizes import CATALOG, VmSize

_AKS = "learn.microsoft.com/azure/aks/"
OS_SKUS = _AKS + "cluster-configuration (OS SKU); use-nvidia-gpu (A100 and H100 sizes not on Azure Linux)"
SURGE = _AKS + "upgrade-aks-node-pools-rolling (customize node surge)"
KUBELET = _AKS + "custom-node-configuration"
MIG = _AKS + "gpu-multi-instance"
SCALE_DOWN = _AKS + "scale-down-mode"
ENCRYPTION_AT_HOST = _AKS + "enable-host-encryption"
RESERVED = _AKS + "use-labels (kubernetes.azure.com is reserved)"

WINDOWS_SKUS = ("Windows2022", "Windows2025")
# The sizes AKS offers MIG profiles on (the catalog's migCapable: aks/gpu-multi-instance), for the refusal's message.
MIG_SIZES = ", ".join(sorted(name for name, size in CATALOG.items() if size.mig_capable))
SURGE_VALUE = re.compile(r"^([1-9]\d{0,2})%?\Z")
AKS_PREFIX = "kubernetes.azure.com/"


def pool_options(r: ClusterRequest, _: Context) -> Iterator[Violation]:
    """Every pool's options, in one pass over the pools (planning is hot: bench/bench_plan.py)."""
    for pool, at, _system, size, _nodes in each_pool(r):
        if pool.os_sku is not None:
            yield from os_sku(pool, at, size)
        if pool.max_surge is not None:
            yield from max_surge(pool, at)
        if pool.kubelet_config is not None:
            yield from kubelet(pool, at)
        if pool.gpu_instance_profile is not None:
            yield from mig(pool, at, size)
        if pool.scale_down_mode == "Deallocate":
            yield from scale_down(pool, at)
        if pool.enable_encryption_at_host:
            yield Violation("ENCRYPTION_AT_HOST_FEATURE", f"{at}/enableEncryptionAtHost", "encryption at host needs "
                            "the subscription feature Microsoft.Compute/EncryptionAtHost registered",
                            severity="warning", source=ENCRYPTION_AT_HOST)
        if (pool.labels or pool.taints) and (any(k.startswith(AKS_PREFIX) for k in pool.labels)
                                             or any(t.startswith(AKS_PREFIX) for t in pool.taints)):
            yield from reserved_prefix(pool, at)


def os_sku(pool: Pool, at: str, size: VmSize | None) -> Iterator[Violation]:
    sku = pool.os_sku
    if (sku in WINDOWS_SKUS) != (pool.os == "Windows"):
        yield Violation("OS_SKU_OS_MISMATCH", f"{at}/osSku", f"osSku '{sku}' is for "
                        f"{'Windows' if sku in WINDOWS_SKUS else 'Linux'} pools; this pool's os is {pool.os}",
                        source=OS_SKUS)
    if sku == "AzureLinux" and size is not None and not size.azure_linux:
        yield Violation("OS_SKU_SIZE_UNSUPPORTED", f"{at}/osSku", f"AKS does not offer {size.name} with Azure "
                        "Linux (A100 and H100 sizes); use osSku 'Ubuntu' for this pool", source=OS_SKUS)


def max_surge(pool: Pool, at: str) -> Iterator[Violation]:
    value = pool.max_surge or ""
    match = SURGE_VALUE.fullmatch(value)
    if match is None or (value.endswith("%") and int(match[1]) > 100):
        yield Violation("MAX_SURGE_FORMAT", f"{at}/maxSurge", "maxSurge is a node count (e.g. \"3\") or a "
                        "percentage of the pool from 1% to 100% (e.g. \"33%\")", source=SURGE)
    if pool.spot is not None:
        yield Violation("MAX_SURGE_SPOT", f"{at}/maxSurge", "spot pools upgrade without surge nodes; leave "
                        "maxSurge out", source=SURGE)


def kubelet(pool: Pool, at: str) -> Iterator[Violation]:
    k = pool.kubelet_config
    if k is None:
        return
    high, low = k.image_gc_high_threshold, k.image_gc_low_threshold
    if high is not None and low is not None and low >= high:
        yield Violation("KUBELET_IMAGE_GC_THRESHOLDS", f"{at}/kubeletConfig/imageGcLowThreshold",
                        f"imageGcLowThreshold ({low}) must be lower than imageGcHighThreshold ({high})",
                        source=KUBELET)
    if k.pod_max_pids == 0:
        yield Violation("KUBELET_POD_MAX_PIDS", f"{at}/kubeletConfig/podMaxPids", "podMaxPids is -1 (no limit) "
                        "or a positive number of processes per pod", source=KUBELET)


def mig(pool: Pool, at: str, size: VmSize | None) -> Iterator[Violation]:
    if size is not None and not size.mig_capable:
        yield Violation("MIG_SIZE_UNSUPPORTED", f"{at}/gpuInstanceProfile", f"AKS offers Multi-Instance GPU "
                        f"profiles only on {MIG_SIZES}; {size.name} has {size.gpu_model or 'no GPU'}", source=MIG)


def scale_down(pool: Pool, at: str) -> Iterator[Violation]:
    if pool.spot is not None:
        yield Violation("SCALE_DOWN_DEALLOCATE_SPOT", f"{at}/scaleDownMode", "scaleDownMode 'Deallocate' is not "
                        "supported on spot pools (their evictionPolicy decides)", source=SCALE_DOWN)
    if pool.os_disk_type == "Ephemeral":
        yield Violation("SCALE_DOWN_DEALLOCATE_EPHEMERAL", f"{at}/scaleDownMode", "scaleDownMode 'Deallocate' "
                        "needs managed OS disks; an ephemeral OS disk does not survive deallocation",
                        source=SCALE_DOWN)


def reserved_prefix(pool: Pool, at: str) -> Iterator[Violation]:
    for key in pool.labels:
        if key.startswith(AKS_PREFIX):
            yield Violation("LABEL_RESERVED_PREFIX", f"{at}{pointer('labels', key)}", f"labels under "
                            f"{AKS_PREFIX} are AKS's own (drift checks ignore them); choose another prefix",
                            severity="warning", source=RESERVED)
    for i, taint in enumerate(pool.taints):
        if taint.startswith(AKS_PREFIX):
            yield Violation("TAINT_RESERVED_PREFIX", f"{at}/taints/{i}", f"taints under {AKS_PREFIX} are AKS's "
                            "own (it sets the spot taint itself; drift checks ignore them); choose another key",
                            severity="warning", source=RESERVED)


RULES = (pool_options,)
