"""The price table and the monthly estimate (docs/cost.md): the table covers the catalog, and the seed's
production setup costs what a hand computation from the table says."""

from __future__ import annotations

import json

import pytest

from shared.domain.examples import PRODUCTION_REQUEST
from shared.domain.pricing import LEFT_OUT, TABLE_PATH, estimate, shipped
from shared.domain.profiles import expand
from shared.domain.regions import REGIONS
from shared.domain.vmsizes import CATALOG
from shared.services.planning import plan_request

SUB = "00000000-0000-0000-0000-000000000000"


def _request(raw):
    request, _ = expand(raw, default_subscription_id=SUB)
    assert request is not None
    return request


def test_the_shipped_table_prices_every_catalog_size_in_every_catalog_region():
    table = shipped()
    missing = [(region, size) for region in REGIONS for size in CATALOG if table.vm_price(region, size) is None]
    assert missing == []
    for region in REGIONS:
        for name in CATALOG:
            price = table.vm_price(region, name)
            assert price is not None and 0 < price.spot < price.linux <= price.windows, (region, name)
        assert table.disk_monthly(region, "Premium_LRS", 128) and table.disk_monthly(region, "StandardSSD_LRS", 128)


def test_the_table_names_its_date_source_and_every_family_source():
    data = json.loads(TABLE_PATH.read_text())
    assert data["asOf"] and data["currency"] == "USD" and data["hoursPerMonth"] == 730
    assert "Retail Prices API" in data["source"]
    families = {size.family for size in CATALOG.values()}
    assert families <= set(data["sources"]), families - set(data["sources"])
    assert {"aksTier", "disks", "privateEndpoint", "loadBalancer"} <= set(data["sources"])
    assert data["derivations"]["regionLevels"]["westeurope"] == 1.2


def test_the_production_setup_in_westeurope_is_within_five_percent_of_the_hand_computation():
    """The seed's production request (examples.PRODUCTION_REQUEST) in westeurope, by hand from prices.json
    (westeurope: level 1.2 over eastus), 730 hours a month:

    system  3 x D4s_v5         0.2304 /h x 730 = 168.19 per node, x 3 =   504.58
    apps    5 x D8s_v5         0.4608 /h x 730 = 336.38 per node, x 5 = 1,681.92
    gpu     2 x NC24ads_A100   4.4076 /h x 730 = 3,217.55 per node, x 2 = 6,435.10
    batch   0 x D8s_v5 spot    0 nodes at the initial count               =     0
    OS disks: 10 nodes with a 128 GiB managed Premium SSD (P10: Dsv5 has no local disk, the A100's 64 GiB
              temp disk cannot hold 128 GiB), 19.71 x 1.2 = 23.65 each    =   236.50
    Standard tier 0.10 x 730                                              =    73.00
    1 private endpoint 0.01 x 730                                         =     7.30
    load balancer base 0.025 x 730                                        =    18.25
    total                                                                 = 8,956.65 USD a month
    """
    cost = estimate(_request(PRODUCTION_REQUEST), shipped())
    assert cost.currency == "USD" and cost.region == "westeurope" and cost.tier == "Standard"
    assert abs(cost.monthly - 8956.65) / 8956.65 < 0.05
    assert cost.pool("system").disk_monthly == pytest.approx(23.65, abs=0.01)
    assert cost.pool("batch").monthly(cost.pool("batch").count, 730) == 0
    # the autoscale range: apps 3..10, batch 0..20 at the spot price
    assert cost.pool("apps").min_count == 3 and cost.pool("apps").max_count == 10
    batch = cost.pool("batch")
    assert batch.spot and batch.node_hourly == pytest.approx(0.4608 * 0.2, abs=1e-4)
    assert cost.monthly_max == pytest.approx(cost.monthly + 5 * (336.38 + 23.65) + 20 * (batch.node_hourly * 730
                                                                                        + 23.65), rel=1e-3)


def test_windows_ephemeral_and_development_are_priced_as_asked():
    raw = {"name": "w", "resourceGroup": "rg", "location": "eastus",
           "userPools": [{"name": "win1", "os": "Windows", "vmSize": "Standard_D4s_v5", "count": 2},
                         {"name": "eph", "vmSize": "Standard_D8ds_v5", "count": 1}]}
    cost = estimate(_request(raw), shipped())
    assert cost.tier == "Free" and cost.tier_monthly == 0
    assert cost.pool("win1").node_hourly == pytest.approx(0.192 + 4 * 0.046)
    assert cost.pool("eph").disk_monthly == 0  # D8ds_v5's 300 GiB temp disk holds the default 128 GiB OS disk
    assert cost.private_endpoints == 0


def test_every_plan_shows_the_estimate_with_its_inputs_and_what_is_left_out():
    outcome = plan_request(PRODUCTION_REQUEST, default_subscription_id=SUB)
    assert outcome.plan is not None
    shown = outcome.to_dict()["plan"]["estimate"]
    assert shown["pricesAsOf"] == shipped().as_of and shown["currency"] == "USD"
    assert shown["leftOut"] == list(LEFT_OUT) and any("egress" in item for item in shown["leftOut"])
    assert [p["pool"] for p in shown["pools"]] == ["system", "apps", "gpu", "batch"]
    assert "varies" in shown["pools"][3]["note"]
    tree = outcome.plan.tree
    assert "autoscale 3-10 · ~1,800 USD/month (3-10 nodes: 1,080-3,600)" in tree  # 5 x (336.38 + 23.65)
    assert "Cost         ~8,957 USD/month" in tree


def test_the_cost_line_names_only_what_is_there_and_udr_pays_for_no_outbound_load_balancer():
    """New-user review: development.json's Cost line read "private endpoints, load balancer" with no endpoint, and a
    userDefinedRouting cluster was charged AKS's outbound load balancer, which AKS does not make then (aks/egress-udr:
    a load balancer only for the first LoadBalancer Service, with no outbound rules)."""
    table = shipped()
    dev = _request({"name": "shop", "resourceGroup": "rg-shop", "location": "westeurope"})
    assert estimate(dev, table).load_balancer_monthly == pytest.approx(table.load_balancer_hourly * 730)
    udr = dev.model_copy(update={"network": dev.network.model_copy(update={"outbound_type": "userDefinedRouting"})})
    assert estimate(udr, table).load_balancer_monthly == 0
    lb_monthly = table.load_balancer_hourly * 730
    assert estimate(udr, table).monthly == pytest.approx(estimate(dev, table).monthly - lb_monthly)
    outcome = plan_request({"name": "shop", "resourceGroup": "rg-shop", "location": "westeurope"},
                           default_subscription_id=SUB)
    assert outcome.plan is not None
    cost_line = next(line for line in outcome.plan.tree.splitlines() if "Cost " in line)
    assert "· Free tier, disks, load balancer ·" in cost_line and "private endpoints" not in cost_line


def test_a_request_over_its_budget_is_refused_naming_the_pool_that_breaks_it():
    outcome = plan_request({**PRODUCTION_REQUEST, "budget": {"monthlyMax": 10_000}}, default_subscription_id=SUB)
    assert not outcome.valid
    [error] = outcome.errors
    assert error.code == "BUDGET_EXCEEDED" and error.path == "/userPools/1"  # gpu: 4,274 -> 10,757
    assert "pool 'gpu'" in error.message and "12,575.93" in error.message
    assert plan_request({**PRODUCTION_REQUEST, "budget": {"monthlyMax": 12_600}}, default_subscription_id=SUB).valid


@pytest.mark.parametrize("bad", [0, -1, "100", True, 1e12, None])
def test_a_budget_that_is_no_positive_number_is_a_shape_error(bad):
    outcome = plan_request({**PRODUCTION_REQUEST, "budget": {"monthlyMax": bad}}, default_subscription_id=SUB)
    assert [(e.code, e.path) for e in outcome.errors] in ([("SCHEMA_RANGE", "/budget/monthlyMax")],
                                                           [("SCHEMA_TYPE", "/budget/monthlyMax")])


def test_the_policy_budget_is_the_most_generous_matching_rules_and_none_when_one_sets_none():
    from shared.domain.caller import Caller
    from shared.domain.policy import Policy
    from shared.domain.rules import Context, check
    caller = Caller.service("queue:cluster-requests")
    rule = {"services": ["*"], "subscriptions": ["*"], "actions": ["create"]}
    policy = Policy.model_validate({"rules": [{**rule, "resourceGroups": ["rg-shop*"], "monthlyBudget": 5000},
                                              {**rule, "resourceGroups": ["rg-shop"], "monthlyBudget": 9000}]})
    assert policy.budget(caller, SUB, "rg-shop", "create") == 9000
    assert policy.budget(caller, SUB, "rg-shopping", "create") == 5000
    assert policy.budget(caller, SUB, "rg-other", "create") is None
    request, found = check(PRODUCTION_REQUEST, default_subscription_id=SUB, context=Context(policy_budget=9000))
    assert request is None and [v.code for v in found if v.severity == "error"] == ["BUDGET_EXCEEDED"]
    exceeded = next(v for v in found if v.code == "BUDGET_EXCEEDED")
    assert "the caller policy's monthlyBudget 9,000.00" in exceeded.message
    assert exceeded.source.startswith("aksvend docs/cost.md")  # where budgets are documented
