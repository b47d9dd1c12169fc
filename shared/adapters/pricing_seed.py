"""The shipped price table's figures when the Retail Prices API cannot be reached: anchors found with the
team's search of public pages and code (2026-11-29), and the derivations that spread them over every VM size
and region of the catalog. `python -m shared.adapters.pricing seed` writes the table from here;
`python -m shared.adapters.pricing refresh` replaces every derived figure with the API's own.

What is an anchor and what is derived is written into the table itself (`sources`, `derivations`), so a reader
of `shared/domain/pricing/prices.json` sees which figure to trust how much (docs/cost.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.regions import REGIONS
from shared.domain.vmsizes import CATALOG, VmSize

AS_OF = "2026-11-29"
BASE_REGION = "eastus"

# Linux pay-as-you-go USD per hour in eastus, per vCPU for the series whose price is linear in vCPUs.
PER_VCPU: Mapping[str, float] = {
    "Dsv5": 0.048, "Ddsv5": 0.0565, "Dasv5": 0.043, "Dsv6": 0.0505, "Esv5": 0.063, "Fsv2": 0.0423,
    # Issue 18's series (see SOURCES: most are derived from a neighbour series' anchor, marked so).
    "Dv4": 0.048, "Dsv4": 0.048, "Ddsv4": 0.0565, "Ev4": 0.063, "Esv4": 0.063, "Edsv4": 0.072, "Edsv5": 0.072,
    "Easv5": 0.0565, "Ddsv6": 0.0595, "Dasv6": 0.0435, "Esv6": 0.0655, "Edsv6": 0.0755,
    "Dpsv5": 0.0385, "Dpdsv5": 0.0452, "Dpsv6": 0.04, "Epsv5": 0.0505,
}
# Burstable series by size suffix, per vCPU (ts/ats sizes are not linear: listed whole below).
PER_VCPU_BY_SUFFIX: Mapping[tuple[str, str], float] = {
    ("Bsv2", "s"): 0.0416, ("Bsv2", "ls"): 0.0208, ("Basv2", "as"): 0.0376, ("Basv2", "als"): 0.0188,
}
WHOLE: Mapping[str, float] = {
    "Standard_B2s": 0.0416, "Standard_B2ms": 0.0832, "Standard_B4ms": 0.166, "Standard_B8ms": 0.333,
    "Standard_B12ms": 0.499, "Standard_B16ms": 0.666, "Standard_B20ms": 0.832,
    "Standard_B2ts_v2": 0.0104, "Standard_B2ats_v2": 0.0094,
    "Standard_NC4as_T4_v3": 0.526, "Standard_NC8as_T4_v3": 0.752, "Standard_NC16as_T4_v3": 1.204,
    "Standard_NC64as_T4_v3": 4.352,
    "Standard_NC24ads_A100_v4": 3.673, "Standard_NC48ads_A100_v4": 7.346, "Standard_NC96ads_A100_v4": 14.692,
    "Standard_NC6s_v3": 3.06, "Standard_NC12s_v3": 6.12, "Standard_NC24s_v3": 12.24,
    "Standard_NV4as_v4": 0.17,
    "Standard_NC40ads_H100_v5": 6.98, "Standard_NC80adis_H100_v5": 13.96, "Standard_ND96isr_H100_v5": 98.32,
    "Standard_NV6ads_A10_v5": 0.454, "Standard_NV12ads_A10_v5": 0.908, "Standard_NV18ads_A10_v5": 1.6,
    "Standard_NV36ads_A10_v5": 3.2, "Standard_NV36adms_A10_v5": 4.52, "Standard_NV72ads_A10_v5": 6.52,
}
WINDOWS_PER_VCPU = 0.046  # the Windows Server licence on a pay-as-you-go VM, per vCPU-hour (D-series: 0.188 - 0.096)
WINDOWS_BURSTABLE_FACTOR = 1.2  # B-series Windows over Linux
SPOT_SHARE = 0.2  # a typical spot price as a share of Linux pay-as-you-go (CPU sizes)
SPOT_SHARE_GPU = 0.4  # GPU sizes keep less of their discount

SOURCES: Mapping[str, str] = {
    "Dsv5": "anchor D4s_v5 eastus 0.192 USD/h: Retail Prices API response examples (docs and code search, "
            "learn.microsoft.com azure-retail-prices; several repositories' API fixtures), 2026-11-29",
    "Ddsv5": "D2ds_v5 eastus 0.113 USD/h (Azure Linux VM pricing page as commonly quoted); not confirmed by search",
    "Dasv5": "D2as_v5 eastus 0.086 USD/h (Azure Linux VM pricing page as commonly quoted); not confirmed by search",
    "Dsv6": "D2s_v6 eastus 0.101 USD/h; not confirmed by search (estimate)",
    "Esv5": "E2s_v5 eastus 0.126 USD/h (Azure Linux VM pricing page as commonly quoted); not confirmed by search",
    "Fsv2": "F2s_v2 eastus 0.0846 USD/h (Azure Linux VM pricing page as commonly quoted); not confirmed by search",
    "Bv1": "B-series eastus list (B2s 0.0416 ... B20ms 0.832); search found the older Southeast Asia list "
           "(pango853/man cloud/azure/pricing.md: B2s 0.053) with the same ratios between sizes",
    "Bsv2": "B2s_v2 eastus 0.0832 USD/h, ls sizes half, B2ts_v2 0.0104; not confirmed by search",
    "Basv2": "B2as_v2 eastus 0.0752 USD/h, als sizes half, B2ats_v2 0.0094; not confirmed by search",
    "NCasT4_v3": "NC4as_T4_v3 eastus 0.526 ... NC64as_T4_v3 4.352 USD/h; not confirmed by search",
    "NC_A100_v4": "NC24ads_A100_v4 eastus 3.673 USD/h, linear in GPUs; not confirmed by search",
    "NCv3": "NC6s_v3 eastus 3.06 USD/h, linear in GPUs (the series is retired: a historical price)",
    "NVv4": "NV4as_v4 eastus 0.17 USD/h; estimate (the series is retired)",
    "Dv4": "derived: Dsv5's per-vCPU price (Bioconductor/BBS Doc/Azure-VMs.md, Dec 2021: D48s_v4 and D48s_v5 the "
           "same monthly price)",
    "Dsv4": "derived: Dsv5's per-vCPU price (same source as Dv4)",
    "Ddsv4": "derived: Ddsv5's per-vCPU price",
    "Ev4": "derived: Esv5's per-vCPU price",
    "Esv4": "derived: Esv5's per-vCPU price",
    "Edsv4": "derived: Edsv5's per-vCPU price",
    "Edsv5": "E2ds_v5 eastus 0.144 USD/h (Azure Linux VM pricing page as commonly quoted); not confirmed by search",
    "Easv5": "E2as_v5 eastus 0.113 USD/h (as commonly quoted); not confirmed by search",
    "Ddsv6": "derived: D2ds_v6 0.119 USD/h (Dsv6 plus the local disk's share); not confirmed",
    "Dasv6": "derived: D2as_v6 0.087 USD/h (Dasv5's level); not confirmed",
    "Esv6": "derived: E2s_v6 0.131 USD/h (Esv5's level plus Dsv6 over Dsv5); not confirmed",
    "Edsv6": "derived: E2ds_v6 0.151 USD/h; not confirmed",
    "Dpsv5": "D2ps_v5 eastus 0.077 USD/h (Arm64; as commonly quoted); not confirmed by search",
    "Dpdsv5": "D2pds_v5 eastus 0.0904 USD/h (Arm64; as commonly quoted); not confirmed by search",
    "Dpsv6": "derived: D2ps_v6 0.08 USD/h (Cobalt 100, near Dpsv5); not confirmed",
    "Epsv5": "E2ps_v5 eastus 0.101 USD/h (Arm64; as commonly quoted); not confirmed by search",
    "NCads_H100_v5": "NC40ads_H100_v5 6.98 USD/h: Azure's H100 per GPU-hour as quoted by thundercompute.com's H100 "
                     "pricing (a price table found by code search, 2026-11-30); NC80adis linear in GPUs",
    "ND_H100_v5": "ND96isr_H100_v5 eastus 98.32 USD/h (as commonly quoted); not confirmed by search",
    "NVadsA10_v5": "NV6ads_A10_v5 eastus 0.454 ... NV72ads_A10_v5 6.52 USD/h (as commonly quoted); not confirmed by "
                   "search",
    "aksTier": "AKS pricing tiers: Free 0, Standard 0.10 USD per cluster-hour (techmarmot.com AKS pricing analysis "
               "quoting azure.microsoft.com/pricing/details/kubernetes-service; MicrosoftDocs/azure-aks-docs "
               "free-standard-pricing-tiers.md for the tiers), Premium 0.60 USD per cluster-hour (Standard plus LTS)",
    "disks": "Premium SSD LRS P10 19.71, P20 73.22, P30 135.17 USD/month (searchcloudcomputing.techtarget.com; "
             "lucidity.cloud: P30 135.17, E30 76.80); P4/P6/P15/P40 and E4..E40 at the same per-tier ratios "
             "(Azure managed disks pricing page as commonly quoted; not all confirmed by search)",
    "privateEndpoint": "0.01 USD per endpoint-hour (c3x.dev azurerm_private_endpoint, oneuptime.com: ~7.30/month); "
                       "data processed (0.01 USD/GB) is usage and left out",
    "loadBalancer": "Standard Load Balancer 0.025 USD/hour for the first 5 rules (Azure load balancer pricing "
                    "page as commonly quoted; not confirmed by search); data processed is left out",
}

# Region price level against eastus, by geography: a derivation, not a published figure. West Europe's 1.2 is the
# ratio of D2s_v5 in westeurope (0.115) to eastus (0.096) as commonly quoted.
_LEVELS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (1.0, ("eastus", "eastus2", "centralus", "southcentralus", "westus2", "westus3", "northcentralus")),
    (1.08, ("westus", "westcentralus", "centralindia", "southindia", "westindia")),
    (1.1, ("northeurope", "canadacentral", "canadaeast", "swedencentral", "polandcentral", "italynorth",
           "spaincentral", "austriaeast", "belgiumcentral")),
    (1.2, ("westeurope", "uksouth", "ukwest", "germanywestcentral", "germanynorth", "francecentral",
           "francesouth", "koreacentral", "koreasouth", "mexicocentral", "southeastasia", "eastasia",
           "indonesiacentral", "malaysiawest", "israelcentral", "qatarcentral", "uaenorth", "uaecentral")),
    (1.3, ("switzerlandnorth", "switzerlandwest", "norwayeast", "norwaywest", "japaneast", "japanwest",
           "australiaeast", "australiasoutheast", "australiacentral", "australiacentral2", "newzealandnorth",
           "southafricanorth", "southafricawest", "chilecentral")),
    (1.55, ("brazilsouth", "brazilsoutheast")),
)
REGION_LEVEL: Mapping[str, float] = {region: level for level, regions in _LEVELS for region in regions}

# Managed disk tiers by size (GiB): eastus LRS USD per month.
PREMIUM_SSD: Mapping[int, float] = {32: 5.28, 64: 10.21, 128: 19.71, 256: 38.02, 512: 73.22, 1024: 135.17,
                                    2048: 259.05}
STANDARD_SSD: Mapping[int, float] = {32: 2.40, 64: 4.80, 128: 9.60, 256: 19.20, 512: 38.40, 1024: 76.80,
                                     2048: 153.60}
AKS_TIER_HOURLY: Mapping[str, float] = {"Free": 0.0, "Standard": 0.10, "Premium": 0.60}
PRIVATE_ENDPOINT_HOURLY = 0.01
LOAD_BALANCER_HOURLY = 0.025


def linux_base(size: VmSize) -> float:
    """The eastus Linux hourly price of a catalog size, from its anchor."""
    if size.name in WHOLE:
        return WHOLE[size.name]
    if size.family in PER_VCPU:
        return PER_VCPU[size.family] * size.vcpus
    suffix = size.name.split("_")[1].lstrip("B0123456789")
    return PER_VCPU_BY_SUFFIX[(size.family, suffix)] * size.vcpus


def vm_row(size: VmSize, level: float) -> list[float]:
    """[Linux, Windows, spot] USD per hour in a region of price level `level`."""
    linux = linux_base(size) * level
    windows = linux * WINDOWS_BURSTABLE_FACTOR if size.burstable else linux + WINDOWS_PER_VCPU * size.vcpus * level
    spot = linux * (SPOT_SHARE_GPU if size.gpus else SPOT_SHARE)
    return [round(linux, 4), round(windows, 4), round(spot, 4)]


def seed_table() -> dict[str, Any]:
    """The whole table, in the shape `shared.domain.pricing` reads."""
    missing = sorted(set(REGIONS) - set(REGION_LEVEL))
    if missing:
        raise ValueError(f"no price level for regions {missing}")
    vm = {region: {name: vm_row(size, REGION_LEVEL[region]) for name, size in CATALOG.items()}
          for region in sorted(REGIONS)}
    disks = {region: {"Premium_LRS": {str(k): round(v * REGION_LEVEL[region], 2) for k, v in PREMIUM_SSD.items()},
                      "StandardSSD_LRS": {str(k): round(v * REGION_LEVEL[region], 2) for k, v in STANDARD_SSD.items()}}
             for region in sorted(REGIONS)}
    return {
        "asOf": AS_OF, "currency": "USD", "hoursPerMonth": 730,
        "source": "seed: anchors from public pages and code found by search on 2026-11-29, spread over sizes and "
                  "regions by the derivations below (shared/adapters/pricing_seed.py); "
                  "`python -m shared.adapters.pricing refresh` replaces them with Azure Retail Prices API figures",
        "sources": dict(SOURCES),
        "derivations": {
            "regionLevel": "a region's VM and disk prices are eastus's times its geography's level (derived)",
            "regionLevels": dict(sorted(REGION_LEVEL.items())),
            "windows": f"Linux + {WINDOWS_PER_VCPU} USD per vCPU-hour x level; B-series Linux x "
                       f"{WINDOWS_BURSTABLE_FACTOR} (derived)",
            "arm64Windows": "Arm64 sizes run no Windows pools (aks/use-arm64-vms): their windows figure is the "
                            "formula's and never used",
            "spot": f"Linux x {SPOT_SHARE} ({SPOT_SHARE_GPU} for GPU sizes): a typical price; spot varies (derived)",
        },
        "vmColumns": ["linux", "windows", "spot"],
        "vm": vm,
        "disks": disks,
        "aksTierHourly": dict(AKS_TIER_HOURLY),
        "privateEndpointHourly": PRIVATE_ENDPOINT_HOURLY,
        "loadBalancerHourly": LOAD_BALANCER_HOURLY,
    }
