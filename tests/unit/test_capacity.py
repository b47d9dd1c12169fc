"""Node subnet capacity (shared/domain/capacity.py, shared/services/pool_change.py): a pool change is refused when the
pools at their maxima plus upgrade surge outgrow the node subnet the cluster has, with the planner's formula."""

from __future__ import annotations

import ipaddress
from datetime import date

import pytest

from shared.domain.capacity import largest_maximum, node_subnet_violation, planned_node_subnet
from shared.domain.network import node_subnet_ips
from shared.refusals import InvalidInput
from shared.services.pool_change import with_pool
from tests.requests import SUB, valid_request

DEV = {"name": "shop", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "development"}
TODAY = date(2026, 11, 29)


def desired(raw=DEV) -> dict:
    return valid_request(raw).model_dump(by_alias=True, exclude_none=True)


def change(pool: str, body: dict, subnet: str | None = None, raw=DEV):
    return with_pool(desired(raw), pool, body, default_subscription_id=SUB, today=TODAY, capacity=True,
                     node_subnet=ipaddress.IPv4Network(subnet) if subnet else None)


def test_the_issues_pool_of_3_to_40_on_a_slash_26_is_refused_naming_the_subnet_its_size_the_need_and_the_way_out():
    raw = {**DEV, "userPools": [{"name": "apps", "count": 3, "autoscale": {"min": 3, "max": 30}}]}
    with pytest.raises(InvalidInput) as refused:
        change("big", {"autoscale": {"min": 3, "max": 40}}, "10.40.0.0/26", raw=raw)
    [violation] = refused.value.violations
    assert (refused.value.code, violation.code, violation.path) == ("NodeSubnetFull", "NODE_SUBNET_FULL",
                                                                    "/userPools/1")
    # system 1 (+1 surge), apps max 30 (+3), big max 40 (+4): 79 addresses, one per node (Azure CNI Overlay)
    assert "snet-nodes (10.40.0.0/26) has 59 usable addresses" in violation.message
    assert "need 79 (1 address per node), 44 more than before" in violation.message
    assert "lower pool 'big' to at most 21 nodes" in violation.message  # 35 + 21 + surge 3 = 59


def test_a_change_is_checked_against_the_subnet_arm_has_else_the_one_the_plan_gives():
    request = valid_request(DEV)
    assert planned_node_subnet(request) == ipaddress.IPv4Network("10.40.0.0/28")  # 11 usable; 6 needed
    assert node_subnet_ips(request) == 6
    with pytest.raises(InvalidInput):
        change("mem", {"autoscale": {"min": 1, "max": 5}})  # 6 more: 12 > 11 on the planned /28
    assert [p.name for p in change("mem", {"autoscale": {"min": 1, "max": 5}}, "10.40.0.0/26").user_pools] == [
        "apps", "mem"]  # ARM's subnet is larger: it fits
    assert change("mem", {"autoscale": {"min": 1, "max": 3}}).user_pools[-1].name == "mem"  # 10 <= 11


def test_a_change_that_needs_no_more_addresses_is_never_refused_even_on_a_full_subnet():
    before = valid_request(DEV)
    after = valid_request({**DEV, "userPools": [{"name": "apps", "count": 1}]})
    assert node_subnet_violation(before, after, "apps", ipaddress.IPv4Network("10.40.0.0/29")) is None


def test_flat_azure_cni_counts_one_plus_max_pods_per_node_and_names_the_largest_maximum_that_fits():
    raw = {**DEV, "network": {"plugin": "azure"}, "userPools": [{"name": "apps", "count": 10, "maxPods": 30}]}
    request = valid_request(raw)
    assert node_subnet_ips(request) == (1 + 1) * 31 + (10 + 1) * 31  # 1 + maxPods per node, surge included
    assert largest_maximum(request, "apps", 256 - 5) == 5  # 62 + (5 + 1) * 31 = 248 <= 251 < 62 + (6 + 1) * 31
    violation = node_subnet_violation(valid_request({**raw, "userPools": [{"name": "apps", "count": 1,
                                                                           "maxPods": 30}]}),
                                      request, "apps", ipaddress.IPv4Network("10.40.0.0/24"))
    assert violation is not None and "at most 5 nodes" in violation.message
    assert "1 + maxPods addresses per node" in violation.message


def test_a_pool_on_its_own_subnet_is_placed_clear_of_every_subnet_arm_has_and_leaves_the_node_subnet():
    taken = (ipaddress.IPv4Network("10.40.0.0/27"), ipaddress.IPv4Network("10.40.0.64/26"))  # ARM: node grown, other
    after = with_pool(desired(), "big", {"autoscale": {"min": 3, "max": 40}, "subnet": "auto"},
                      default_subscription_id=SUB, today=TODAY, capacity=True, node_subnet=taken[0], taken=taken)
    big = after.user_pools[-1]
    assert big.subnet == "10.40.0.128/26"  # the first free /26 (44 addresses) after the plan's and ARM's subnets
    assert node_subnet_ips(after) == node_subnet_ips(valid_request(DEV))  # the node subnet does not count it
    again = with_pool(after.model_dump(by_alias=True, exclude_none=True), "big", {"subnet": "auto", "count": 4},
                      default_subscription_id=SUB, today=TODAY, capacity=True)
    assert again.user_pools[-1].subnet == big.subnet  # "auto" again is the same subnet, never a move
    with pytest.raises(InvalidInput) as moved:
        with_pool(after.model_dump(by_alias=True, exclude_none=True), "big", {"subnet": "10.40.1.0/26"},
                  default_subscription_id=SUB, today=TODAY)
    assert moved.value.violations[0].code == "POOL_FIELD_IMMUTABLE"
    with pytest.raises(InvalidInput) as outgrown:  # its own subnet cannot grow either
        with_pool(after.model_dump(by_alias=True, exclude_none=True), "big", {"autoscale": {"min": 3, "max": 60}},
                  default_subscription_id=SUB, today=TODAY, capacity=True)
    assert [v.code for v in outgrown.value.violations] == ["POOL_SUBNET_TOO_SMALL"]


def test_a_create_puts_a_pools_own_subnet_in_the_vnet_with_the_identitys_role_before_the_cluster():
    from shared.domain.plan import plan

    request = valid_request({**DEV, "userPools": [{"name": "apps", "count": 1},
                                                  {"name": "big", "count": 3, "autoscale": {"min": 3, "max": 40},
                                                   "subnet": "auto"}]})
    planned = plan(request)
    vnet = planned.resource("vnet").body["properties"]
    subnets = {s["name"]: s["properties"]["addressPrefix"] for s in vnet["subnets"]}
    assert subnets == {"snet-nodes": "10.40.0.0/28", "snet-private-endpoints": "10.40.0.16/28",
                       "snet-pool-big": "10.40.0.64/26"}
    grant = planned.resource("roleAssignment:big")
    assert grant.id.startswith(f"{planned.resource('vnet').id}/subnets/snet-pool-big/providers/")
    assert "roleAssignment:big" in planned.resource("cluster").depends_on
    cluster = planned.resource("cluster").body["properties"]
    profiles = {p["name"]: p["vnetSubnetID"] for p in cluster["agentPoolProfiles"]}
    assert profiles["big"].endswith("/subnets/snet-pool-big") and profiles["apps"].endswith("/subnets/snet-nodes")
