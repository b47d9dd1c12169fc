"""The VM catalog as data (issue 18): shared/domain/vmsizes.json loads into the same API, every row is valid, every
series names its size page, and the facts the new rules need (architecture, MIG, Azure Linux, quota family) hold for
issue 18's series. The rules built on them are refused and accepted here; the emulator knows the examples' sizes by
the same quota family."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest

from local.armemu.errors import ArmError
from local.armemu.providers import aks_features, compute
from shared.domain import quota, vmsizes
from shared.domain.request import Pool
from shared.domain.rules import check
from shared.domain.vmsizes import CATALOG, CATALOG_AS_OF, CATALOG_PATH, lookup, parse
from tests.requests import PAYMENTS, SUB, patched

RAW = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
ISSUE_18_SERIES = {"Dv4", "Dsv4", "Ddsv4", "Ev4", "Esv4", "Edsv4", "Edsv5", "Easv5", "Ddsv6", "Dasv6", "Esv6",
                   "Edsv6", "Dpsv5", "Dpdsv5", "Dpsv6", "Epsv5", "NCads_H100_v5", "ND_H100_v5", "NVadsA10_v5",
                   "NCasT4_v3", "NC_A100_v4"}


def _row(name: str) -> dict[str, Any]:
    return copy.deepcopy(next(r for r in RAW["sizes"] if r["name"] == name))


def _with_rows(*rows: dict[str, Any]) -> dict[str, Any]:
    return {**RAW, "sizes": list(rows)}


def _codes(raw: dict[str, Any]) -> set[tuple[str, str]]:
    _, violations = check(raw, default_subscription_id=SUB)
    return {(v.code, v.path) for v in violations}


# --- the loader


def test_the_file_loads_into_the_catalog_with_one_size_per_row():
    as_of, sizes = parse(RAW)
    assert as_of == CATALOG_AS_OF == datetime.date(2026, 11, 30)
    assert len(sizes) == len(RAW["sizes"]) == len(CATALOG)
    assert set(sizes) == set(CATALOG)


def test_names_are_unique_even_ignoring_case():
    names = [r["name"].lower() for r in RAW["sizes"]]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="listed twice"):
        parse(_with_rows(_row("Standard_D4s_v5"), {**_row("Standard_D4s_v5"), "name": "Standard_d4s_V5"}))


def test_every_series_names_its_microsoft_learn_size_page():
    families = {size.family for size in CATALOG.values()}
    assert families == set(RAW["sources"])
    assert families >= ISSUE_18_SERIES
    for family, source in RAW["sources"].items():
        assert source["page"].endswith("-series.md") and "/" in source["page"], family


@pytest.mark.parametrize(("change", "message"), [
    ({"vcpus": 0}, "vcpus and memoryGib must be positive"),
    ({"vcpus": True}, "vcpus is True"),
    ({"memoryGib": "16"}, "memoryGib is '16'"),
    ({"architecture": "arm"}, "architecture must be one of"),
    ({"gpuModel": "T4 16 GB"}, "gpuModel is given exactly when gpus > 0"),
    ({"migCapable": True}, "only GPU sizes are AKS GPU or MIG sizes"),
    ({"retiredOn": "2030-01-01"}, "retiredOn and retirementNote go together"),
    ({"family": "Nope"}, "has no source"),
    ({"quotaFamily": ""}, "quotaFamily is empty"),
    ({"name": "D4s_v5"}, "must start with Standard_"),
])
def test_a_bad_row_is_refused_with_the_row_and_the_rule_named(change, message):
    with pytest.raises(ValueError, match=message):
        parse(_with_rows({**_row("Standard_D4s_v5"), **change}))


def test_a_row_with_a_missing_or_unknown_field_is_refused():
    row = _row("Standard_D4s_v5")
    del row["quotaFamily"]
    with pytest.raises(ValueError, match="needs exactly the fields"):
        parse(_with_rows(row))
    with pytest.raises(ValueError, match="needs exactly the fields"):
        parse(_with_rows({**_row("Standard_D4s_v5"), "zones": ["1"]}))


def test_the_date_and_the_sources_are_required():
    with pytest.raises(ValueError, match="asOf"):
        parse({**RAW, "asOf": "last week"})
    with pytest.raises(ValueError, match="names its size page"):
        parse({**RAW, "sources": {**RAW["sources"], "Dsv5": {"page": ""}}})
    with pytest.raises(ValueError, match="list of `sizes`"):
        parse({"asOf": "2026-11-30", "sources": {}})


def test_lookup_reads_the_loaded_catalog():
    assert lookup(" standard_nc40ads_h100_v5 ") is CATALOG["Standard_NC40ads_H100_v5"]
    assert len(vmsizes._BY_SQUASHED) == len(CATALOG)


# --- the facts of issue 18's series


@pytest.mark.parametrize(("name", "family", "vcpus", "memory", "ephemeral", "arch"), [
    ("Standard_D4_v4", "Dv4", 4, 16, 0, "x64"),
    ("Standard_D4ds_v4", "Ddsv4", 4, 16, 150, "x64"),
    ("Standard_E64s_v4", "Esv4", 64, 504, 0, "x64"),
    ("Standard_E20ds_v5", "Edsv5", 20, 160, 750, "x64"),
    ("Standard_E96as_v5", "Easv5", 96, 672, 0, "x64"),
    ("Standard_D192ds_v6", "Ddsv6", 192, 768, 0, "x64"),
    ("Standard_E128s_v6", "Esv6", 128, 1024, 0, "x64"),
    ("Standard_D64ps_v5", "Dpsv5", 64, 208, 0, "Arm64"),
    ("Standard_D2pds_v5", "Dpdsv5", 2, 8, 75, "Arm64"),
    ("Standard_D96ps_v6", "Dpsv6", 96, 384, 0, "Arm64"),
    ("Standard_E32ps_v5", "Epsv5", 32, 208, 0, "Arm64"),
])
def test_new_sizes_match_their_pages(name, family, vcpus, memory, ephemeral, arch):
    size = CATALOG[name]
    assert (size.family, size.vcpus, size.memory_gib, size.ephemeral_os_disk_gib, size.architecture) == (
        family, vcpus, memory, ephemeral, arch)
    assert size.arm64 == (arch == "Arm64")


def test_h100_sizes_their_gpus_mig_and_no_azure_linux():
    nc40, nc80, nd96 = (CATALOG[n] for n in ("Standard_NC40ads_H100_v5", "Standard_NC80adis_H100_v5",
                                             "Standard_ND96isr_H100_v5"))
    assert (nc40.vcpus, nc40.memory_gib, nc40.gpus) == (40, 320, 1)
    assert (nd96.vcpus, nd96.memory_gib, nd96.gpus) == (96, 1900, 8)
    assert nc40.mig_capable and nd96.mig_capable and not nc80.mig_capable  # aks/gpu-multi-instance
    assert all(s.aks_gpu_supported and not s.azure_linux for s in (nc40, nc80, nd96))


def test_mig_sizes_are_the_a100_v4_and_the_two_documented_h100_sizes():
    assert {n for n, s in CATALOG.items() if s.mig_capable} == {
        "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4", "Standard_NC96ads_A100_v4",
        "Standard_NC40ads_H100_v5", "Standard_ND96isr_H100_v5"}


def test_a10_partial_gpus_count_as_one_gpu_and_name_their_share():
    nv6 = CATALOG["Standard_NV6ads_A10_v5"]
    assert (nv6.vcpus, nv6.memory_gib, nv6.gpus, nv6.ephemeral_os_disk_gib) == (6, 55, 1, 180)
    assert "1/6" in (nv6.gpu_model or "") and nv6.aks_gpu_supported and not nv6.mig_capable
    assert CATALOG["Standard_NV72ads_A10_v5"].gpus == 2


def test_quota_families_come_from_the_catalog():
    assert quota.FAMILY["Dpsv6"] == "StandardDpsv6Family"
    assert quota.FAMILY["ND_H100_v5"] == "standardNDSH100v5Family"
    assert quota.FAMILY["Dsv5"] == "standardDSv5Family"
    needs = quota.pool_needs(Pool(name="arm", vm_size="Standard_D8ps_v6", count=2))
    assert needs == {"StandardDpsv6Family": 8 * 3, quota.REGIONAL: 8 * 3}  # 2 nodes plus 1 surge node


def test_the_emulator_counts_the_examples_sizes_under_the_catalogs_quota_family():
    for lowered, known in compute.CATALOG.items():
        size = lookup(lowered)
        assert size is not None, lowered
        assert (known.family, known.vcpus, known.arm64) == (size.quota_family, size.vcpus, size.arm64), lowered


def test_the_emulator_guesses_arm64_from_an_unlisted_name():
    assert compute.vm_size("Standard_D32pds_v6").arm64
    assert compute.vm_size("Standard_E4ps_v6").arm64
    assert not compute.vm_size("Standard_D32ds_v6").arm64


def test_the_emulator_refuses_an_arm64_windows_pool_and_mig_where_aks_offers_none():
    with pytest.raises(ArmError, match="Arm64") as arm:
        aks_features.check_pool("win", {"osType": "Windows", "vmSize": "Standard_D4ps_v6"}, {})
    assert arm.value.status == 400
    with pytest.raises(ArmError, match="gpuInstanceProfile"):
        aks_features.check_pool("gpu", {"vmSize": "Standard_NC80adis_H100_v5", "gpuInstanceProfile": "MIG1g"}, {})
    for size in ("Standard_NC40ads_H100_v5", "Standard_ND96isr_H100_v5", "Standard_NC24ads_A100_v4"):
        aks_features.check_pool("gpu", {"vmSize": size, "gpuInstanceProfile": "MIG1g"}, {})
    aks_features.check_pool("arm", {"osType": "Linux", "osSKU": "AzureLinux", "vmSize": "Standard_D4ps_v6"}, {})


# --- the rules on them


def test_an_arm64_size_in_a_windows_pool_is_refused_and_in_linux_pools_accepted():
    windows = _codes(patched(PAYMENTS, {"/userPools/3/vmSize": "Standard_D4ps_v5"}))
    assert ("ARM64_WINDOWS_UNSUPPORTED", "/userPools/3/vmSize") in windows
    for sku in ("Ubuntu", "AzureLinux"):
        linux = _codes(patched(PAYMENTS, {"/userPools/0/vmSize": "Standard_D8ps_v6", "/userPools/0/osSku": sku}))
        assert not {c for c, _ in linux} & {"ARM64_WINDOWS_UNSUPPORTED", "OS_SKU_SIZE_UNSUPPORTED"}, sku


def test_mig_is_refused_on_an_h100_size_aks_offers_no_mig_on():
    base = {"/userPools/1/vmSize": "Standard_NC80adis_H100_v5", "/userPools/1/gpuInstanceProfile": "MIG1g"}
    assert ("MIG_SIZE_UNSUPPORTED", "/userPools/1/gpuInstanceProfile") in _codes(patched(PAYMENTS, base))
    for size in ("Standard_NC40ads_H100_v5", "Standard_ND96isr_H100_v5", "Standard_NC24ads_A100_v4"):
        codes = _codes(patched(PAYMENTS, {**base, "/userPools/1/vmSize": size}))
        assert "MIG_SIZE_UNSUPPORTED" not in {c for c, _ in codes}, size


def test_h100_with_azure_linux_is_refused_and_with_ubuntu_accepted():
    h100 = {"/userPools/1/vmSize": "Standard_ND96isr_H100_v5"}
    refused = _codes(patched(PAYMENTS, {**h100, "/userPools/1/osSku": "AzureLinux"}))
    assert ("OS_SKU_SIZE_UNSUPPORTED", "/userPools/1/osSku") in refused
    accepted = _codes(patched(PAYMENTS, {**h100, "/userPools/1/osSku": "Ubuntu"}))
    assert "OS_SKU_SIZE_UNSUPPORTED" not in {c for c, _ in accepted}


@pytest.mark.parametrize(("size", "refused"), [("Standard_D2ps_v6", True), ("Standard_D4ps_v6", False),
                                               ("Standard_E2as_v5", True), ("Standard_D4_v4", False)])
def test_the_production_system_pool_needs_four_vcpus_of_the_new_sizes_too(size, refused):
    codes = _codes(patched(PAYMENTS, {"/systemPool/vmSize": size}))
    assert (("SYSTEM_POOL_MIN_VCPU", "/systemPool/vmSize") in codes) == refused
    assert not {c for c, _ in codes} & {"VM_SIZE_UNKNOWN", "ARM64_WINDOWS_UNSUPPORTED"}


def test_a_retired_size_is_refused_with_its_retirement_named():
    _, violations = check(patched(PAYMENTS, {"/userPools/1/vmSize": "Standard_NC6s_v3"}), default_subscription_id=SUB)
    retired = next(v for v in violations if v.code == "VM_SIZE_RETIRED")
    assert retired.path == "/userPools/1/vmSize" and retired.severity == "error"
    assert "retired on 2025-09-30" in retired.message and "NC A100 v4" in retired.message
