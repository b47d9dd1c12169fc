"""Network math: the IP formulas of docs/aks-facts.md and where the subnets go."""

from __future__ import annotations

import ipaddress

import pytest

from shared.domain.network import (
    LayoutError,
    layout,
    max_pods,
    node_subnet_ips,
    pe_subnet_prefix,
    pod_cidr_addresses,
    prefix_for,
    surge,
)
from shared.domain.profiles import expand
from tests.requests import PAYMENTS, SUB, patched


def _request(patch):
    request, violations = expand(patched(PAYMENTS, patch), default_subscription_id=SUB)
    assert request is not None, violations
    return request


def test_the_documented_flat_cni_example_needs_a_slash_21():
    # docs/aks-facts.md: 50 nodes, maxPods 30, surge 1 -> 1,581 IPs -> /21.
    assert (50 + 1) * (30 + 1) == 1581
    assert prefix_for(1581) == 21


@pytest.mark.parametrize(("usable", "prefix"), [(3, 29), (0, 29), (11, 28), (27, 27), (28, 26), (59, 26),
                                                (60, 25), (1019, 22), (1020, 21)])
def test_prefix_leaves_room_for_the_five_addresses_azure_reserves(usable, prefix):
    assert prefix_for(usable) == prefix
    assert 2 ** (32 - prefix) - 5 >= usable


@pytest.mark.parametrize(("nodes", "extra"), [(0, 1), (1, 1), (10, 1), (11, 2), (20, 2), (100, 10), (1000, 100)])
def test_surge_is_one_node_or_ten_percent_whichever_is_more(nodes, extra):
    assert surge(nodes) == extra


def test_overlay_node_subnet_holds_node_ips_only_at_the_autoscale_maxima():
    request = _request({})
    # system 3+1, apps 10+1, gpu 2+1, batch 20+2, win1 2+1
    assert node_subnet_ips(request) == 43


def test_flat_azure_cni_counts_one_ip_per_pod_plus_the_node():
    request = _request({"/network/plugin": "azure", "/network/podCidr": None,
                        "/userPools": [{"name": "apps", "count": 50, "maxPods": 30}],
                        "/systemPool/maxPods": 30})
    assert node_subnet_ips(request) == (3 + 1) * 31 + (50 + 5) * 31


def test_each_node_takes_a_slash_24_of_the_pod_cidr():
    assert pod_cidr_addresses(_request({})) == 43 * 256


def test_max_pods_defaults_by_plugin_and_windows_defaults_to_110():
    request = _request({})
    assert max_pods(request.system_pool, "azure-overlay") == 250
    assert max_pods(request.system_pool, "azure") == 30
    assert max_pods(request.system_pool, "kubenet") == 110
    assert max_pods(request.user_pools[3], "azure-overlay") == 110


def test_the_private_endpoint_subnet_is_at_least_a_slash_28():
    assert pe_subnet_prefix(0) == 28
    assert pe_subnet_prefix(11) == 28
    assert pe_subnet_prefix(12) == 27


def test_subnets_sit_inside_the_vnet_aligned_and_apart():
    request = _request({})
    placed = layout(request, ipaddress.IPv4Network("10.40.0.0/16"))
    assert str(placed.node_subnet) == "10.40.0.0/26"
    assert str(placed.pe_subnet) == "10.40.0.64/28"
    assert not placed.node_subnet.overlaps(placed.pe_subnet)


def test_a_vnet_too_small_reports_the_prefix_it_would_need():
    request = _request({"/network/plugin": "azure", "/network/podCidr": None})
    result = layout(request, ipaddress.IPv4Network("10.40.0.0/24"))
    assert isinstance(result, LayoutError)
    fitting = layout(request, ipaddress.IPv4Network(f"10.40.0.0/{result.required_prefix}"))
    assert not isinstance(fitting, LayoutError)
