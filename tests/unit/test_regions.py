import dataclasses

import pytest

from shared.domain.regions import REGIONS, RESTRICTED_ACCESS, Region, lookup_region, suggest_region


def test_west_europe_has_availability_zones():
    assert REGIONS["westeurope"] == Region("westeurope", "West Europe", True)


@pytest.mark.parametrize("name", ["eastus2", "swedencentral", "germanywestcentral", "japaneast", "uksouth"])
def test_common_regions_have_availability_zones(name):
    assert REGIONS[name].availability_zones


@pytest.mark.parametrize("name", ["westus", "northcentralus", "westcentralus", "ukwest", "canadaeast"])
def test_some_regions_have_no_availability_zones(name):
    assert not REGIONS[name].availability_zones


def test_lookup_accepts_programmatic_names_in_any_case():
    assert lookup_region("WestEurope") is REGIONS["westeurope"]
    assert lookup_region(" eastus2 ") is REGIONS["eastus2"]


def test_lookup_accepts_display_names():
    assert lookup_region("West Europe") is REGIONS["westeurope"]
    assert lookup_region("East US 2") is REGIONS["eastus2"]
    assert lookup_region("sweden central") is REGIONS["swedencentral"]


def test_lookup_of_an_unknown_region_returns_none():
    assert lookup_region("westeurop") is None
    assert lookup_region("") is None
    assert lookup_region("usgovvirginia") is None


def test_every_display_name_without_spaces_is_the_programmatic_name():
    for name, region in REGIONS.items():
        assert region.name == name
        assert "".join(region.display_name.split()).lower() == name


def test_unknown_region_suggests_closest_names():
    assert suggest_region("westeurop")[0] == "westeurope"
    assert suggest_region("swedencentrl")[0] == "swedencentral"
    assert suggest_region("uk-south")[0] == "uksouth"
    assert suggest_region("East US 2")[0] == "eastus2"


def test_suggest_region_respects_the_limit():
    assert len(suggest_region("westus", limit=2)) == 2
    assert suggest_region("westus", limit=0) == []
    assert suggest_region("mars") == []


def test_restricted_regions_are_known_and_have_no_zones():
    assert RESTRICTED_ACCESS.issubset(REGIONS)
    assert not any(REGIONS[name].availability_zones for name in RESTRICTED_ACCESS)


def test_region_list_covers_the_public_regions():
    assert len(REGIONS) == 55
    assert sum(r.availability_zones for r in REGIONS.values()) == 37


def test_regions_are_read_only():
    with pytest.raises(TypeError):
        REGIONS["mars"] = REGIONS["westeurope"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        REGIONS["westeurope"].availability_zones = False  # type: ignore[misc]
