import dataclasses
import datetime

import pytest

from shared.domain import vmsizes
from shared.domain.vmsizes import CATALOG, CATALOG_AS_OF, VmSize, lookup, suggest


def test_d4s_v5_has_four_vcpus_and_16_gib():
    size = CATALOG["Standard_D4s_v5"]
    assert (size.family, size.vcpus, size.memory_gib, size.gpus) == ("Dsv5", 4, 16.0, 0)


@pytest.mark.parametrize(
    ("name", "vcpus", "memory_gib"),
    [
        ("Standard_D2s_v5", 2, 8),
        ("Standard_D8s_v5", 8, 32),
        ("Standard_D16s_v5", 16, 64),
        ("Standard_E8s_v5", 8, 64),
        ("Standard_E96s_v5", 96, 672),
        ("Standard_F72s_v2", 72, 144),
        ("Standard_D192s_v6", 192, 768),
        ("Standard_B2ts_v2", 2, 1),
    ],
)
def test_sizes_match_the_published_vcpu_and_memory_figures(name, vcpus, memory_gib):
    size = CATALOG[name]
    assert (size.vcpus, size.memory_gib) == (vcpus, memory_gib)


@pytest.mark.parametrize("family", ["Dsv5", "Dasv5", "Dsv6", "Esv5", "Bsv2", "Basv2"])
def test_families_without_a_local_disk_have_no_room_for_an_ephemeral_os_disk(family):
    sizes = [s for s in CATALOG.values() if s.family == family]
    assert sizes
    assert all(s.ephemeral_os_disk_gib == 0 and not s.supports_ephemeral_os_disk for s in sizes)


def test_dsv5_has_no_room_for_an_ephemeral_os_disk():
    assert lookup("Standard_D8s_v5").ephemeral_os_disk_gib == 0


def test_ddsv5_has_a_temp_disk_big_enough_for_an_ephemeral_os_disk():
    assert CATALOG["Standard_D4ds_v5"].ephemeral_os_disk_gib == 150
    assert CATALOG["Standard_D4ds_v5"].supports_ephemeral_os_disk


def test_t4_and_a100_sizes_can_hold_an_ephemeral_os_disk():
    assert CATALOG["Standard_NC4as_T4_v3"].ephemeral_os_disk_gib == 176
    assert CATALOG["Standard_NC24ads_A100_v4"].ephemeral_os_disk_gib == 64


def test_nc4as_t4_v3_has_one_t4_with_16_gb():
    size = CATALOG["Standard_NC4as_T4_v3"]
    assert (size.vcpus, size.memory_gib, size.gpus, size.gpu_model) == (4, 28, 1, "T4 16 GB")
    assert size.aks_gpu_supported


def test_nc24ads_a100_v4_has_one_a100_with_80_gb():
    size = CATALOG["Standard_NC24ads_A100_v4"]
    assert (size.vcpus, size.memory_gib, size.gpus, size.gpu_model) == (24, 220, 1, "A100 80 GB")
    assert size.aks_gpu_supported


def test_nc64as_t4_v3_has_four_gpus():
    assert CATALOG["Standard_NC64as_T4_v3"].gpus == 4


def test_nc6s_v3_is_retired():
    size = CATALOG["Standard_NC6s_v3"]
    assert (size.vcpus, size.memory_gib, size.gpus, size.gpu_model) == (6, 112, 1, "V100 16 GB")
    assert size.retired_on == datetime.date(2025, 9, 30)
    assert size.is_retired_on(CATALOG_AS_OF)
    assert size.is_retired_on(datetime.date(2025, 9, 30))
    assert not size.is_retired_on(datetime.date(2025, 9, 29))
    assert size.retirement_note


def test_nvv4_is_not_an_aks_gpu_size():
    size = CATALOG["Standard_NV4as_v4"]
    assert size.gpus > 0
    assert not size.aks_gpu_supported
    assert size.retired_on == datetime.date(2026, 9, 30)


def test_only_gpu_sizes_can_be_aks_gpu_sizes():
    assert all(s.gpus > 0 for s in CATALOG.values() if s.aks_gpu_supported)


def test_current_sizes_are_not_retired():
    assert not CATALOG["Standard_D4s_v5"].is_retired_on(CATALOG_AS_OF)
    assert CATALOG["Standard_D4s_v5"].retired_on is None


def test_b_series_are_burstable():
    for name in ["Standard_B2s", "Standard_B2ms", "Standard_B4ms", "Standard_B8ms", "Standard_B2ts_v2",
                 "Standard_B2ls_v2", "Standard_B2s_v2", "Standard_B4s_v2", "Standard_B2as_v2"]:
        assert CATALOG[name].burstable, name
    assert all(s.burstable == s.family.startswith("B") for s in CATALOG.values())


def test_bv1_has_accelerated_networking_only_from_b12ms_up():
    assert not CATALOG["Standard_B2s"].accelerated_networking
    assert CATALOG["Standard_B12ms"].accelerated_networking


def test_every_entry_is_consistent():
    for name, size in CATALOG.items():
        assert isinstance(size, VmSize)
        assert size.name == name
        assert name.startswith("Standard_")
        assert (size.gpus > 0) == (size.gpu_model is not None), name
        assert size.vcpus > 0 and size.memory_gib > 0, name
        assert size.ephemeral_os_disk_gib >= 0, name
        assert (size.retired_on is None) == (size.retirement_note is None), name
        assert size.zones_supported, name


def test_catalog_is_read_only():
    with pytest.raises(TypeError):
        CATALOG["Standard_X"] = CATALOG["Standard_D4s_v5"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOG["Standard_D4s_v5"].vcpus = 8  # type: ignore[misc]


def test_lookup_ignores_case():
    assert lookup("standard_d4s_v5") is CATALOG["Standard_D4s_v5"]
    assert lookup("STANDARD_NC24ADS_A100_V4") is CATALOG["Standard_NC24ads_A100_v4"]


def test_lookup_of_an_unknown_size_returns_none():
    assert lookup("Standard_D4_v5") is None
    assert lookup("") is None


def test_unknown_size_suggests_closest_names():
    assert suggest("Standard_D4_v5")[0] == "Standard_D4s_v5"
    assert suggest("standard_d4sv5")[0] == "Standard_D4s_v5"
    assert suggest("D4s_v5")[0] == "Standard_D4s_v5"
    assert suggest("Standard_NC4as_T4")[0] == "Standard_NC4as_T4_v3"


def test_suggest_respects_the_limit_and_only_returns_known_names():
    names = suggest("Standard_E8_v5", limit=2)
    assert len(names) == 2
    assert all(n in CATALOG for n in names)
    assert suggest("Standard_D4s_v5", limit=0) == []


def test_suggest_returns_nothing_for_garbage():
    assert suggest("kubernetes") == []


def test_loose_forms_of_names_do_not_collide():
    assert len(vmsizes._BY_SQUASHED) == len(CATALOG)


def test_catalog_date_is_when_the_figures_were_checked():
    assert CATALOG_AS_OF.isoformat() == "2026-11-30"
