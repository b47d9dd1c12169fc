"""Properties over generated requests: validation never raises, every valid request plans, planned subnets never
overlap and always fit their nodes, and planning is deterministic."""

from __future__ import annotations

import ipaddress
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.domain.network import node_subnet_ips, parse_cidr
from shared.domain.plan import plan
from shared.domain.rules import check
from shared.domain.vmsizes import CATALOG
from tests.requests import STORAGE, SUB, VAULT

SIZES = [*sorted(CATALOG), "Standard_Nope", ""]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def pools(draw, index: int):
    pool: dict = {"name": draw(st.sampled_from([f"p{index}", f"pool{index}", "Bad-Name", "win" + str(index)]))}
    if draw(st.booleans()):
        pool["vmSize"] = draw(st.sampled_from(SIZES))
    count = draw(st.integers(0, 60))
    pool["count"] = count
    if draw(st.booleans()):
        low = draw(st.integers(0, count))
        pool["autoscale"] = {"min": low, "max": draw(st.integers(low, 80))}
    pool["workload"] = draw(st.sampled_from(["general", "memory", "gpu", "batch"]))
    pool["os"] = draw(st.sampled_from(["Linux", "Linux", "Windows"]))
    if draw(st.booleans()):
        pool["spot"] = {"evictionPolicy": draw(st.sampled_from(["Delete", "Deallocate"])),
                        "maxPrice": draw(st.sampled_from([-1, 0.5, 0.123456, 0]))}
    if draw(st.booleans()):
        pool["zones"] = draw(st.lists(st.sampled_from(["1", "2", "3", "4"]), max_size=3))
    if draw(st.booleans()):
        pool["maxPods"] = draw(st.integers(5, 260))
    return pool


@st.composite
def requests(draw):
    n = draw(st.integers(0, 6))
    prefix = draw(st.integers(8, 26))
    vnet = ipaddress.IPv4Network((draw(st.sampled_from([0x0A000000, 0x0A280000, 0xAC100000])), prefix), strict=False)
    raw = {
        "name": draw(st.sampled_from(["c1", "shop-prod", "-bad"])),
        "resourceGroup": "rg",
        "location": draw(st.sampled_from(["westeurope", "westus", "nowhere"])),
        "profile": draw(st.sampled_from(["production", "development"])),
        "systemPool": {"count": draw(st.integers(0, 5)),
                       "vmSize": draw(st.sampled_from(["Standard_D4s_v5", "Standard_D2s_v5", "Standard_B2ms"]))},
        "userPools": [draw(pools(i)) for i in range(n)],
        "network": {
            "plugin": draw(st.sampled_from(["azure-overlay", "azure", "kubenet"])),
            "vnetAddressSpace": str(vnet),
            "serviceCidr": draw(st.sampled_from(["10.0.0.0/16", "172.16.0.0/16", "10.40.0.0/24"])),
            "dnsServiceIp": draw(st.sampled_from(["10.0.0.10", "172.16.0.10", "10.40.0.1"])),
            "privateEndpoints": [{"name": f"pe{i}", "targetResourceId": draw(st.sampled_from([STORAGE, VAULT])),
                                  "groupId": draw(st.sampled_from(["blob", "vault", "file"]))}
                                 for i in range(draw(st.integers(0, 3)))],
        },
    }
    if raw["network"]["plugin"] == "azure":
        raw["network"]["podCidr"] = None
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_check_never_raises_on_any_json(raw):
    check(raw, default_subscription_id=SUB)


GOOD_SIZES = {"general": ["Standard_D4s_v5", "Standard_D8s_v5", "Standard_D4as_v5", "Standard_F8s_v2"],
              "memory": ["Standard_E8s_v5", "Standard_E16s_v5"],
              "gpu": ["Standard_NC4as_T4_v3", "Standard_NC24ads_A100_v4"],
              "batch": ["Standard_D8s_v5", "Standard_D16s_v5"]}


@st.composite
def mostly_valid_requests(draw):
    """Requests built to pass most rules, so that the planning properties are exercised, not filtered away."""
    plugin = draw(st.sampled_from(["azure-overlay", "azure", "kubenet"]))
    user_pools = []
    for i in range(draw(st.integers(0, 8))):
        workload = draw(st.sampled_from(sorted(GOOD_SIZES)))
        windows = plugin != "kubenet" and workload == "general" and draw(st.booleans())
        count = draw(st.integers(0, 40))
        pool = {"name": f"w{i}" if windows else f"pool{i}", "workload": workload, "count": count,
                "vmSize": draw(st.sampled_from(GOOD_SIZES[workload])), "os": "Windows" if windows else "Linux"}
        if workload == "gpu":
            pool["taints"] = ["sku=gpu:NoSchedule"]
        if draw(st.booleans()):
            pool["autoscale"] = {"min": draw(st.integers(0, count)), "max": draw(st.integers(count, 100))}
        if workload == "batch" and draw(st.booleans()):
            pool["spot"] = {"evictionPolicy": "Delete", "maxPrice": -1}
        if draw(st.booleans()):
            pool["maxPods"] = draw(st.integers(30, 110))
        user_pools.append(pool)
    return {
        "name": "c1", "resourceGroup": "rg", "location": "westeurope", "profile": "production",
        "userPools": user_pools,
        "network": {
            "plugin": plugin,
            "vnetAddressSpace": f"10.{draw(st.integers(64, 127))}.0.0/{draw(st.integers(14, 20))}",
            "podCidr": None if plugin == "azure" else "100.64.0.0/10",
            "privateEndpoints": [{"name": f"pe{i}", "targetResourceId": STORAGE, "groupId": g}
                                 for i, g in enumerate(draw(st.lists(st.sampled_from(["blob", "file", "dfs"]),
                                                                     max_size=12)))],
        },
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mostly_valid_requests())
def test_every_valid_request_plans_with_subnets_that_fit_and_never_overlap(raw):
    request, _ = check(raw, default_subscription_id=SUB)
    assume(request is not None)
    p = plan(request)
    vnet = parse_cidr(request.network.vnet_address_space)
    node, pe = p.subnets.node_subnet, p.subnets.pe_subnet
    assert node.subnet_of(vnet) and pe.subnet_of(vnet)
    assert not node.overlaps(pe)
    assert node.num_addresses - 5 >= node_subnet_ips(request)
    assert pe.num_addresses - 5 >= len(request.network.private_endpoints)
    assert json.dumps(p.to_dict()) == json.dumps(plan(request).to_dict())


@settings(max_examples=200, deadline=None)
@given(requests())
def test_validation_never_raises_and_is_deterministic_on_hostile_requests(raw):
    first = check(raw, default_subscription_id=SUB)[1]
    assert first == check(raw, default_subscription_id=SUB)[1]
