"""Catalog of the Azure VM sizes aksvend accepts for AKS node pools.

Source: the Microsoft Learn size pages in MicrosoftDocs/azure-compute-docs, under
``articles/virtual-machines/sizes/`` (e.g. ``general-purpose/dsv5-series.md``), read on 2026-11-27
(``CATALOG_AS_OF``). Each series below names its page. Retirement dates come from the size pages'
retirement notes and the retirement articles (``gpu-accelerated/nvv4-retirement.md``;
MicrosoftDocs/azure-docs ``articles/virtual-machines/ncv3-nc6s-nc12s-nc24s-retirement.md``).
Whether AKS supports a GPU size comes from MicrosoftDocs/azure-aks-docs ``articles/aks/use-nvidia-gpu.md``
("The NVv4 series (based on AMD GPUs) aren't supported on AKS").

Units: the pages head the memory column "Memory (GB)" on some pages and "Memory (GiB)" on others for the
same kind of figure; Azure means GiB in both cases, and this module stores GiB.

``ephemeral_os_disk_gib`` is the largest ephemeral OS disk the size can hold: the bigger of its cache and
its temp (resource) disk. It is 0 where the page says "Ephemeral OS Disk: Not Supported" (sizes with no
local disk: Dsv5, Dasv5, Dsv6, Esv5, Bsv2, Basv2). The current pages publish the temp disk size only,
not the cache size, so for most series the temp disk size is used; see the per-series comments.

Pure data: standard library only, no I/O, no clock.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["CATALOG", "CATALOG_AS_OF", "VmSize", "lookup", "suggest"]

CATALOG_AS_OF = datetime.date(2026, 11, 27)


@dataclass(frozen=True)
class VmSize:
    name: str  # exact Azure name, e.g. "Standard_D4s_v5"
    family: str  # series, e.g. "Dsv5"
    vcpus: int
    memory_gib: float
    gpus: int
    gpu_model: str | None  # per-GPU model and memory, e.g. "T4 16 GB"
    ephemeral_os_disk_gib: int  # largest ephemeral OS disk that fits (cache or temp disk); 0 = none
    burstable: bool  # B-series (CPU credits)
    premium_storage: bool
    accelerated_networking: bool
    zones_supported: bool
    retired_on: datetime.date | None  # announced retirement date, past or future
    retirement_note: str | None
    aks_gpu_supported: bool = False  # True only for GPU sizes AKS supports

    @property
    def supports_ephemeral_os_disk(self) -> bool:
        return self.ephemeral_os_disk_gib > 0

    def is_retired_on(self, day: datetime.date) -> bool:
        """True when the size is retired on ``day`` (the retirement date itself counts as retired)."""
        return self.retired_on is not None and day >= self.retired_on


# A row is (name, vCPUs, memory GiB, ephemeral OS disk GiB, GPUs).
_Row = tuple[str, int, float, int, int]


def _series(
    family: str,
    rows: Iterable[_Row],
    *,
    gpu_model: str | None = None,
    burstable: bool = False,
    premium_storage: bool = True,
    accelerated_networking: bool = True,
    retired_on: datetime.date | None = None,
    retirement_note: str | None = None,
    aks_gpu_supported: bool = False,
) -> list[VmSize]:
    return [
        VmSize(
            name=name,
            family=family,
            vcpus=vcpus,
            memory_gib=float(memory),
            gpus=gpus,
            gpu_model=gpu_model if gpus else None,
            ephemeral_os_disk_gib=ephemeral,
            burstable=burstable,
            premium_storage=premium_storage,
            accelerated_networking=accelerated_networking,
            zones_supported=True,  # assumed for all of these series; the size pages do not list zones
            retired_on=retired_on,
            retirement_note=retirement_note,
            aks_gpu_supported=aks_gpu_supported and gpus > 0,
        )
        for name, vcpus, memory, ephemeral, gpus in rows
    ]


_NCV3_RETIREMENT = datetime.date(2025, 9, 30)
_NVV4_RETIREMENT = datetime.date(2026, 9, 30)

_SIZES: list[VmSize] = [
    # general-purpose/dsv5-series.md: no local storage, Ephemeral OS Disk not supported,
    # accelerated networking "Required".
    *_series("Dsv5", [
        ("Standard_D2s_v5", 2, 8, 0, 0),
        ("Standard_D4s_v5", 4, 16, 0, 0),
        ("Standard_D8s_v5", 8, 32, 0, 0),
        ("Standard_D16s_v5", 16, 64, 0, 0),
        ("Standard_D32s_v5", 32, 128, 0, 0),
        ("Standard_D48s_v5", 48, 192, 0, 0),
        ("Standard_D64s_v5", 64, 256, 0, 0),
        ("Standard_D96s_v5", 96, 384, 0, 0),
    ]),
    # general-purpose/ddsv5-series.md: temp disk (GiB) below; Ephemeral OS Disk supported. The page gives no
    # cache size, so the temp disk size is the figure used.
    *_series("Ddsv5", [
        ("Standard_D2ds_v5", 2, 8, 75, 0),
        ("Standard_D4ds_v5", 4, 16, 150, 0),
        ("Standard_D8ds_v5", 8, 32, 300, 0),
        ("Standard_D16ds_v5", 16, 64, 600, 0),
        ("Standard_D32ds_v5", 32, 128, 1200, 0),
        ("Standard_D48ds_v5", 48, 192, 1800, 0),
        ("Standard_D64ds_v5", 64, 256, 2400, 0),
        ("Standard_D96ds_v5", 96, 384, 3600, 0),
    ]),
    # general-purpose/dasv5-series.md: no local storage, Ephemeral OS Disk not supported.
    *_series("Dasv5", [
        ("Standard_D2as_v5", 2, 8, 0, 0),
        ("Standard_D4as_v5", 4, 16, 0, 0),
        ("Standard_D8as_v5", 8, 32, 0, 0),
        ("Standard_D16as_v5", 16, 64, 0, 0),
        ("Standard_D32as_v5", 32, 128, 0, 0),
        ("Standard_D48as_v5", 48, 192, 0, 0),
        ("Standard_D64as_v5", 64, 256, 0, 0),
        ("Standard_D96as_v5", 96, 384, 0, 0),
    ]),
    # general-purpose/dsv6-series.md: no local storage, Ephemeral OS Disk not supported; Generation 2 only.
    *_series("Dsv6", [
        ("Standard_D2s_v6", 2, 8, 0, 0),
        ("Standard_D4s_v6", 4, 16, 0, 0),
        ("Standard_D8s_v6", 8, 32, 0, 0),
        ("Standard_D16s_v6", 16, 64, 0, 0),
        ("Standard_D32s_v6", 32, 128, 0, 0),
        ("Standard_D48s_v6", 48, 192, 0, 0),
        ("Standard_D64s_v6", 64, 256, 0, 0),
        ("Standard_D96s_v6", 96, 384, 0, 0),
        ("Standard_D128s_v6", 128, 512, 0, 0),
        ("Standard_D192s_v6", 192, 768, 0, 0),
    ]),
    # memory-optimized/esv5-series.md: no local storage, Ephemeral OS Disk not supported. There is no
    # E80s_v5/E104s_v5; the 104-vCPU size is the isolated E104is_v5 (and E96s_v5 has 672 GiB, not 768).
    *_series("Esv5", [
        ("Standard_E2s_v5", 2, 16, 0, 0),
        ("Standard_E4s_v5", 4, 32, 0, 0),
        ("Standard_E8s_v5", 8, 64, 0, 0),
        ("Standard_E16s_v5", 16, 128, 0, 0),
        ("Standard_E20s_v5", 20, 160, 0, 0),
        ("Standard_E32s_v5", 32, 256, 0, 0),
        ("Standard_E48s_v5", 48, 384, 0, 0),
        ("Standard_E64s_v5", 64, 512, 0, 0),
        ("Standard_E96s_v5", 96, 672, 0, 0),
        ("Standard_E104is_v5", 104, 672, 0, 0),
    ]),
    # compute-optimized/fsv2-series.md gives vCPUs, memory and the temp disk (16, 32, ... 576 GiB) but no
    # longer the cache size. The ephemeral figure below is the cache size (larger than the temp disk) from the
    # older fsv2-series.md table ("Max cached and temp storage throughput: IOPS/MBps (cache size in GiB)":
    # 32, 64, 128, 256, 512, 768, 1024, 1520), read in a 2020 translated copy; not confirmed on the current page.
    *_series("Fsv2", [
        ("Standard_F2s_v2", 2, 4, 32, 0),
        ("Standard_F4s_v2", 4, 8, 64, 0),
        ("Standard_F8s_v2", 8, 16, 128, 0),
        ("Standard_F16s_v2", 16, 32, 256, 0),
        ("Standard_F32s_v2", 32, 64, 512, 0),
        ("Standard_F48s_v2", 48, 96, 768, 0),
        ("Standard_F64s_v2", 64, 128, 1024, 0),
        ("Standard_F72s_v2", 72, 144, 1520, 0),
    ]),
    # general-purpose/bv1-series.md ("previous generation"; no retirement date announced there). Premium
    # Storage caching is not supported, so the temp disk is the only place for an ephemeral OS disk.
    # Accelerated networking only on B12ms, B16ms and B20ms. B1* sizes are left out (too small for AKS;
    # the page also spells the smallest one both "Standard_B1ls2" and "Standard_B1ls").
    *_series("Bv1", [
        ("Standard_B2s", 2, 4, 8, 0),
        ("Standard_B2ms", 2, 8, 16, 0),
        ("Standard_B4ms", 4, 16, 32, 0),
        ("Standard_B8ms", 8, 32, 64, 0),
    ], burstable=True, accelerated_networking=False),
    *_series("Bv1", [
        ("Standard_B12ms", 12, 48, 96, 0),
        ("Standard_B16ms", 16, 64, 128, 0),
        ("Standard_B20ms", 20, 80, 160, 0),
    ], burstable=True),
    # general-purpose/bsv2-series.md: no local storage, Ephemeral OS Disk not supported.
    *_series("Bsv2", [
        ("Standard_B2ts_v2", 2, 1, 0, 0),
        ("Standard_B2ls_v2", 2, 4, 0, 0),
        ("Standard_B2s_v2", 2, 8, 0, 0),
        ("Standard_B4ls_v2", 4, 8, 0, 0),
        ("Standard_B4s_v2", 4, 16, 0, 0),
        ("Standard_B8ls_v2", 8, 16, 0, 0),
        ("Standard_B8s_v2", 8, 32, 0, 0),
        ("Standard_B16ls_v2", 16, 32, 0, 0),
        ("Standard_B16s_v2", 16, 64, 0, 0),
        ("Standard_B32ls_v2", 32, 64, 0, 0),
        ("Standard_B32s_v2", 32, 128, 0, 0),
    ], burstable=True),
    # general-purpose/basv2-series.md: no local storage, Ephemeral OS Disk not supported.
    *_series("Basv2", [
        ("Standard_B2ats_v2", 2, 1, 0, 0),
        ("Standard_B2als_v2", 2, 4, 0, 0),
        ("Standard_B2as_v2", 2, 8, 0, 0),
        ("Standard_B4als_v2", 4, 8, 0, 0),
        ("Standard_B4as_v2", 4, 16, 0, 0),
        ("Standard_B8als_v2", 8, 16, 0, 0),
        ("Standard_B8as_v2", 8, 32, 0, 0),
        ("Standard_B16als_v2", 16, 32, 0, 0),
        ("Standard_B16as_v2", 16, 64, 0, 0),
        ("Standard_B32als_v2", 32, 64, 0, 0),
        ("Standard_B32as_v2", 32, 128, 0, 0),
    ], burstable=True),
    # gpu-accelerated/ncast4v3-series.md: temp disk 176/352/352/2,816 GiB; 16 GB per T4.
    *_series("NCasT4_v3", [
        ("Standard_NC4as_T4_v3", 4, 28, 176, 1),
        ("Standard_NC8as_T4_v3", 8, 56, 352, 1),
        ("Standard_NC16as_T4_v3", 16, 110, 352, 1),
        ("Standard_NC64as_T4_v3", 64, 440, 2816, 4),
    ], gpu_model="T4 16 GB", aks_gpu_supported=True),
    # gpu-accelerated/nca100v4-series.md: temp disk 64/128/256 GiB (the separate NVMe disk is not counted);
    # 80 GB per A100. AKS: A100 sizes are not available with the Azure Linux OS SKU (use-nvidia-gpu.md).
    *_series("NC_A100_v4", [
        ("Standard_NC24ads_A100_v4", 24, 220, 64, 1),
        ("Standard_NC48ads_A100_v4", 48, 440, 128, 2),
        ("Standard_NC96ads_A100_v4", 96, 880, 256, 4),
    ], gpu_model="A100 80 GB", aks_gpu_supported=True),
    # gpu-accelerated/ncv3-series.md: temp disk 736/1,474/2,948 GiB; 16 GB per V100; accelerated networking
    # "Not Supported". Retired 2025-09-30 (ncv3-nc6s-nc12s-nc24s-retirement.md). AKS did support these
    # (use-nvidia-gpu.md still uses Standard_NC6s_v3 in its examples), so aks_gpu_supported stays True;
    # check retired_on before accepting one. NC24rs_v3 is left out (its retirement was not verified).
    *_series("NCv3", [
        ("Standard_NC6s_v3", 6, 112, 736, 1),
        ("Standard_NC12s_v3", 12, 224, 1474, 2),
        ("Standard_NC24s_v3", 24, 448, 2948, 4),
    ], gpu_model="V100 16 GB", accelerated_networking=False, aks_gpu_supported=True,
        retired_on=_NCV3_RETIREMENT,
        retirement_note="NCv3 (V100) sizes were retired on 2025-09-30; use NC A100 v4 or NCasT4_v3 instead."),
    # gpu-accelerated/nvv4-series.md: a fraction of one AMD Radeon Instinct MI25 (NV4as_v4: 1/8 GPU, 2 GB);
    # gpus=1 marks "has a (partial) GPU". Temp disk 88 GiB. Not supported by AKS (AMD GPUs). Retired
    # 2026-09-30 (nvv4-retirement.md).
    *_series("NVv4", [
        ("Standard_NV4as_v4", 4, 14, 88, 1),
    ], gpu_model="Radeon Instinct MI25, 1/8 partition 2 GB", aks_gpu_supported=False,
        retired_on=_NVV4_RETIREMENT,
        retirement_note="NVv4 sizes were retired on 2026-09-30; Microsoft recommends NVads_V710_v5."),
]

CATALOG: Mapping[str, VmSize] = MappingProxyType({size.name: size for size in _SIZES})

_BY_LOWER: Mapping[str, VmSize] = MappingProxyType({name.lower(): size for name, size in CATALOG.items()})


def _squash(name: str) -> str:
    """Loose form for typo matching: lower case, no "standard" prefix, no underscores, dashes or spaces."""
    key = name.strip().lower()
    for ch in "_- ":
        key = key.replace(ch, "")
    return key.removeprefix("standard")


_BY_SQUASHED: Mapping[str, str] = MappingProxyType({_squash(name): name for name in CATALOG})


def lookup(name: str) -> VmSize | None:
    """The size called ``name`` (case-insensitive, surrounding spaces ignored), or None."""
    return _BY_LOWER.get(name.strip().lower())


def suggest(name: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` known size names closest to ``name``, best first (for "did you mean ...?")."""
    if limit <= 0:
        return []
    key = _squash(name)
    matches = difflib.get_close_matches(key, list(_BY_SQUASHED), n=limit, cutoff=0.6)
    return [_BY_SQUASHED[match] for match in matches]
