"""Catalog of the Azure VM sizes aksvend accepts for AKS node pools.

The sizes are data: ``vmsizes.json`` beside this module, with its date (``asOf``, here ``CATALOG_AS_OF``), the
Microsoft Learn page each series comes from (``sources``: a path under ``articles/virtual-machines/sizes/`` in
MicrosoftDocs/azure-compute-docs, with what the page does not say or what aksvend chose) and one row per size. It is
read once, at import, into frozen ``VmSize`` values: ``lookup`` is then a dictionary read, no more work than when the
catalog was Python source. Reading the package's own data is as pure as importing a module (like
``pricing/table.py``'s ``prices.json``); a row that is not valid stops the import with the row named.

Units: GiB for memory and disks. ``ephemeral_os_disk_gib`` is the largest ephemeral OS disk the size can hold: the
bigger of its cache and its temp (resource) disk, 0 where there is none (or only an NVMe disk, which aksvend does not
count). ``architecture`` is ``x64`` or ``Arm64`` (an Arm64 size runs Linux pools only: aks/use-arm64-vms).
``quota_family`` is the family the usages API counts the size's vCPUs under (``standardDSv5Family`` ...).
``mig_capable`` marks the sizes AKS offers Multi-Instance GPU profiles on (aks/gpu-multi-instance);
``azure_linux`` is False for the sizes AKS does not offer with the Azure Linux OS SKU (A100 and H100:
aks/use-nvidia-gpu). ``zones_supported`` is assumed True: the size pages do not list zones per region.
"""

from __future__ import annotations

import datetime
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["CATALOG", "CATALOG_AS_OF", "CATALOG_PATH", "VmSize", "lookup", "parse", "suggest"]

CATALOG_PATH = Path(__file__).with_name("vmsizes.json")
ARCHITECTURES = ("x64", "Arm64")


@dataclass(frozen=True)
class VmSize:
    name: str  # exact Azure name, e.g. "Standard_D4s_v5"
    family: str  # series, e.g. "Dsv5"
    vcpus: int
    memory_gib: float
    gpus: int  # 1 also for a partial GPU (gpu_model says the share)
    gpu_model: str | None  # per-GPU model and memory, e.g. "T4 16 GB"
    ephemeral_os_disk_gib: int  # largest ephemeral OS disk that fits (cache or temp disk); 0 = none
    burstable: bool  # B-series (CPU credits)
    premium_storage: bool
    accelerated_networking: bool
    zones_supported: bool
    retired_on: datetime.date | None  # announced retirement date, past or future
    retirement_note: str | None
    aks_gpu_supported: bool = False  # True only for GPU sizes AKS supports
    architecture: str = "x64"  # "x64" or "Arm64"
    quota_family: str = ""  # the usages API's family name, e.g. "standardDSv5Family"
    mig_capable: bool = False  # AKS offers gpuInstanceProfile (MIG) on it
    azure_linux: bool = True  # AKS offers it with osSku AzureLinux

    @property
    def supports_ephemeral_os_disk(self) -> bool:
        return self.ephemeral_os_disk_gib > 0

    @property
    def arm64(self) -> bool:
        return self.architecture == "Arm64"

    def is_retired_on(self, day: datetime.date) -> bool:
        """True when the size is retired on ``day`` (the retirement date itself counts as retired)."""
        return self.retired_on is not None and day >= self.retired_on


_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "family": (str,), "architecture": (str,), "vcpus": (int,), "memoryGib": (int, float),
    "gpus": (int,), "gpuModel": (str, type(None)), "ephemeralOsDiskGib": (int,), "burstable": (bool,),
    "premiumStorage": (bool,), "acceleratedNetworking": (bool,), "zonesSupported": (bool,),
    "retiredOn": (str, type(None)), "retirementNote": (str, type(None)), "aksGpuSupported": (bool,),
    "migCapable": (bool,), "azureLinux": (bool,), "quotaFamily": (str,),
}


def _size(row: Any, sources: Mapping[str, Any]) -> VmSize:
    """One row as a VmSize; ValueError naming the row and the field when it is not valid."""
    if not isinstance(row, Mapping) or set(row) != set(_TYPES):
        raise ValueError(f"catalog row {row!r}: needs exactly the fields {sorted(_TYPES)}")
    name = row["name"]
    for key, types in _TYPES.items():  # bool is an int: a count that is true/false is refused too
        value = row[key]
        if not isinstance(value, types) or (types[0] is not bool and isinstance(value, bool)):
            raise ValueError(f"catalog row {name!r}: {key} is {value!r}")
    problems = [
        (not name.startswith("Standard_"), "name must start with Standard_"),
        (row["family"] not in sources, f"family {row['family']!r} has no source"),
        (row["architecture"] not in ARCHITECTURES, f"architecture must be one of {ARCHITECTURES}"),
        (row["vcpus"] <= 0 or row["memoryGib"] <= 0 or row["gpus"] < 0 or row["ephemeralOsDiskGib"] < 0,
         "vcpus and memoryGib must be positive, gpus and ephemeralOsDiskGib not negative"),
        ((row["gpus"] > 0) != (row["gpuModel"] is not None), "gpuModel is given exactly when gpus > 0"),
        ((row["retiredOn"] is None) != (row["retirementNote"] is None), "retiredOn and retirementNote go together"),
        ((row["aksGpuSupported"] or row["migCapable"]) and not row["gpus"], "only GPU sizes are AKS GPU or MIG sizes"),
        (not row["quotaFamily"], "quotaFamily is empty"),
    ]
    for broken, why in problems:
        if broken:
            raise ValueError(f"catalog row {name!r}: {why}")
    return VmSize(
        name=name, family=row["family"], vcpus=row["vcpus"], memory_gib=float(row["memoryGib"]), gpus=row["gpus"],
        gpu_model=row["gpuModel"], ephemeral_os_disk_gib=row["ephemeralOsDiskGib"], burstable=row["burstable"],
        premium_storage=row["premiumStorage"], accelerated_networking=row["acceleratedNetworking"],
        zones_supported=row["zonesSupported"],
        retired_on=datetime.date.fromisoformat(row["retiredOn"]) if row["retiredOn"] else None,
        retirement_note=row["retirementNote"], aks_gpu_supported=row["aksGpuSupported"],
        architecture=row["architecture"], quota_family=row["quotaFamily"], mig_capable=row["migCapable"],
        azure_linux=row["azureLinux"],
    )


def parse(data: Any) -> tuple[datetime.date, dict[str, VmSize]]:
    """The catalog file's content as (as-of date, name -> VmSize); ValueError for anything not valid: no date, a
    series without its page, a bad row, a name twice (also in another case)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("sizes"), list):
        raise ValueError("the catalog is an object with a list of `sizes`")
    try:
        as_of = datetime.date.fromisoformat(str(data.get("asOf")))
    except ValueError:
        raise ValueError(f"catalog asOf {data.get('asOf')!r} is not an ISO date") from None
    sources = data.get("sources")
    if not isinstance(sources, Mapping) or not all(
            isinstance(s, Mapping) and isinstance(s.get("page"), str) and s["page"].endswith(".md")
            for s in sources.values()):
        raise ValueError("catalog sources: every series names its size page (`page`, a .md path)")
    sizes: dict[str, VmSize] = {}
    seen: set[str] = set()
    for row in data["sizes"]:
        size = _size(row, sources)
        if size.name.lower() in seen:
            raise ValueError(f"catalog row {size.name!r}: the name is listed twice")
        seen.add(size.name.lower())
        sizes[size.name] = size
    return as_of, sizes


CATALOG_AS_OF, _SIZES = parse(json.loads(CATALOG_PATH.read_text(encoding="utf-8")))

CATALOG: Mapping[str, VmSize] = MappingProxyType(_SIZES)

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
