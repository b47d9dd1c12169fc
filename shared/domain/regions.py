"""The public Azure regions aksvend accepts, with availability zone support.

Source: Microsoft Learn "Azure regions list" (MicrosoftDocs/reliability-docs
``articles/reliability/regions-list.md``, page dated 2025-09-23; columns "Availability zone support" and
"Programmatic name"), read on 2026-11-27 (``REGIONS_AS_OF``). Cross-checked against the older
MicrosoftDocs/azure-docs ``articles/reliability/availability-zones-region-support.md`` (2024-11-20): every
region that page lists with zones has zones here too (it predates Austria East, Belgium Central, Chile Central,
Indonesia Central and Malaysia West).

Left out: sovereign clouds (US Gov, China, which the page does not list), EUAP/canary regions, and Denmark
East (``denmarkeast``), which the page marks "coming soon" (with zones). Regions the page marks access
"restricted" (reserved for disaster recovery in their geography; a subscription must request access) are
included and also named in ``RESTRICTED_ACCESS``.

Pure data: standard library only, no I/O, no clock.
"""

from __future__ import annotations

import datetime
import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["REGIONS", "REGIONS_AS_OF", "RESTRICTED_ACCESS", "Region", "lookup_region", "suggest_region"]

REGIONS_AS_OF = datetime.date(2026, 11, 27)


@dataclass(frozen=True)
class Region:
    name: str  # programmatic name, e.g. "westeurope"
    display_name: str  # e.g. "West Europe"
    availability_zones: bool


# (programmatic name, display name, availability zones)
_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("australiacentral", "Australia Central", False),
    ("australiacentral2", "Australia Central 2", False),  # restricted
    ("australiaeast", "Australia East", True),
    ("australiasoutheast", "Australia Southeast", False),
    ("austriaeast", "Austria East", True),
    ("belgiumcentral", "Belgium Central", True),
    ("brazilsouth", "Brazil South", True),
    ("brazilsoutheast", "Brazil Southeast", False),  # restricted
    ("canadacentral", "Canada Central", True),
    ("canadaeast", "Canada East", False),
    ("centralindia", "Central India", True),
    ("centralus", "Central US", True),
    ("chilecentral", "Chile Central", True),
    ("eastasia", "East Asia", True),
    ("eastus", "East US", True),
    ("eastus2", "East US 2", True),
    ("francecentral", "France Central", True),
    ("francesouth", "France South", False),  # restricted
    ("germanynorth", "Germany North", False),  # restricted
    ("germanywestcentral", "Germany West Central", True),
    ("indonesiacentral", "Indonesia Central", True),
    ("israelcentral", "Israel Central", True),
    ("italynorth", "Italy North", True),
    ("japaneast", "Japan East", True),
    ("japanwest", "Japan West", True),  # the 2024 page starred it ("contact your Microsoft representative")
    ("koreacentral", "Korea Central", True),
    ("koreasouth", "Korea South", False),
    ("malaysiawest", "Malaysia West", True),
    ("mexicocentral", "Mexico Central", True),
    ("newzealandnorth", "New Zealand North", True),
    ("northcentralus", "North Central US", False),
    ("northeurope", "North Europe", True),
    ("norwayeast", "Norway East", True),
    ("norwaywest", "Norway West", False),  # restricted
    ("polandcentral", "Poland Central", True),
    ("qatarcentral", "Qatar Central", True),
    ("southafricanorth", "South Africa North", True),
    ("southafricawest", "South Africa West", False),  # restricted
    ("southcentralus", "South Central US", True),
    ("southindia", "South India", False),
    ("southeastasia", "Southeast Asia", True),
    ("spaincentral", "Spain Central", True),
    ("swedencentral", "Sweden Central", True),
    ("switzerlandnorth", "Switzerland North", True),
    ("switzerlandwest", "Switzerland West", False),  # restricted
    ("uaecentral", "UAE Central", False),  # restricted
    ("uaenorth", "UAE North", True),
    ("uksouth", "UK South", True),
    ("ukwest", "UK West", False),
    ("westcentralus", "West Central US", False),
    ("westeurope", "West Europe", True),
    ("westindia", "West India", False),
    ("westus", "West US", False),
    ("westus2", "West US 2", True),
    ("westus3", "West US 3", True),
)

REGIONS: Mapping[str, Region] = MappingProxyType({name: Region(name, display, zones) for name, display, zones in _ROWS})

# Regions whose access is restricted: a subscription has to request access before deploying there.
RESTRICTED_ACCESS: frozenset[str] = frozenset(
    {
        "australiacentral2",
        "brazilsoutheast",
        "francesouth",
        "germanynorth",
        "norwaywest",
        "southafricawest",
        "switzerlandwest",
        "uaecentral",
    }
)


def _key(name: str) -> str:
    """Lower case without spaces: "West Europe" and "westeurope" both give "westeurope"."""
    return "".join(name.split()).lower()


_BY_KEY: Mapping[str, Region] = MappingProxyType(
    {_key(alias): region for region in REGIONS.values() for alias in (region.name, region.display_name)}
)


@functools.lru_cache(maxsize=1024)
def lookup_region(name: str) -> Region | None:
    """The region called ``name``: its programmatic name or its display name, case and spaces ignored. Cached by the
    name: expansion and two rules ask it of every request, mostly of the same few names."""
    return _BY_KEY.get(_key(name))


def suggest_region(name: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` programmatic region names closest to ``name``, best first."""
    if limit <= 0:
        return []
    key = _key(name).replace("-", "").replace("_", "")
    return difflib.get_close_matches(key, list(REGIONS), n=limit, cutoff=0.6)
