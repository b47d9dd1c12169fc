"""A pool's explicit subnet prefix (`subnet: "<prefix>"`) is checked against the cluster's VNet as ARM has it before
the change is accepted (shared/domain/pool_subnets.py `on_arm_vnet`): inside ARM's address space, overlapping none of
ARM's subnets (one added outside aksvend since the plan), else 422 naming the prefix, the space and the subnet."""

from __future__ import annotations

import ipaddress

import pytest

from shared.domain.pool_subnets import ArmVnet, on_arm_vnet
from shared.refusals import InvalidInput
from tests.fakes import created_over_fakes
from tests.principals import principal
from tests.requests import MINIMAL_PRODUCTION, valid_request

SUB = "00000000-0000-0000-0000-000000000000"
CALLER = principal("dev")
POOL = {"vmSize": "Standard_D4ds_v5", "count": 2}


async def _cluster_with_arm_vnet(space: str, extra: dict[str, str]):  # type: ignore[no-untyped-def]
    """The production cluster made over the fakes, its VNet in ARM then changed outside aksvend."""
    _, _, fake, clusters = await created_over_fakes(MINIMAL_PRODUCTION, SUB, CALLER)
    vnet = next(r for k, r in fake.resources.items() if k.endswith("/virtualnetworks/vnet-shop-prod"))
    vnet["properties"]["addressSpace"] = {"addressPrefixes": [space]}
    vnet["properties"]["subnets"] += [{"name": n, "properties": {"addressPrefix": p}} for n, p in extra.items()]
    return clusters


async def test_a_prefix_overlapping_a_subnet_added_in_arm_is_refused_naming_it():
    clusters = await _cluster_with_arm_vnet("10.40.0.0/16", {"snet-db": "10.40.8.0/24"})
    with pytest.raises(InvalidInput) as refused:
        await clusters.put_pool(SUB, "rg-shop", "shop-prod", "etl", {**POOL, "subnet": "10.40.8.128/26"}, CALLER,
                                None)
    [violation] = refused.value.violations
    assert (refused.value.code, violation.code, violation.path) == (
        "PoolSubnetUnavailable", "POOL_SUBNET_OVERLAP", "/userPools/3/subnet")  # after the three it has
    assert "10.40.8.128/26" in violation.message and "'snet-db' (10.40.8.0/24)" in violation.message
    assert "10.40.0.0/16" in violation.message


async def test_a_prefix_outside_the_address_space_arm_has_is_refused_naming_the_space():
    clusters = await _cluster_with_arm_vnet("10.40.0.0/20", {})  # the request says /16: ARM's is smaller now
    with pytest.raises(InvalidInput) as refused:
        await clusters.put_pool(SUB, "rg-shop", "shop-prod", "etl", {**POOL, "subnet": "10.40.64.0/26"}, CALLER,
                                None)
    [violation] = refused.value.violations
    assert violation.code == "POOL_SUBNET_OUTSIDE_VNET" and "10.40.64.0/26" in violation.message
    assert "10.40.0.0/20" in violation.message


async def test_a_free_prefix_and_auto_are_accepted_clear_of_arms_subnets():
    clusters = await _cluster_with_arm_vnet("10.40.0.0/16", {"snet-db": "10.40.1.0/24"})
    explicit = await clusters.put_pool(SUB, "rg-shop", "shop-prod", "etl", {**POOL, "subnet": "10.40.2.0/26"},
                                       CALLER, None)
    auto = await clusters.put_pool(SUB, "rg-shop", "shop-prod", "jobs", {**POOL, "subnet": "auto"}, CALLER, None)
    assert explicit.created and auto.created


def test_the_pools_own_subnet_in_arm_is_no_clash_and_an_unknown_space_is_not_checked():
    request = valid_request({**MINIMAL_PRODUCTION, "userPools": [{**POOL, "name": "batch",
                                                                  "subnet": "10.40.2.0/26"}]})
    own = {"snet-pool-batch": ipaddress.IPv4Network("10.40.2.0/26")}
    space = (ipaddress.IPv4Network("10.40.0.0/16"),)
    assert on_arm_vnet(request, "batch", ArmVnet(space, own)) is None
    assert on_arm_vnet(request, "batch", ArmVnet((), {"x": ipaddress.IPv4Network("10.40.2.0/24")})) is None
    moved = {"snet-pool-batch": ipaddress.IPv4Network("10.40.2.0/25")}
    clash = on_arm_vnet(request, "batch", ArmVnet(space, moved))
    assert clash is not None and clash.code == "POOL_SUBNET_OVERLAP"
