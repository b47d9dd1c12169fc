"""The engine end to end: real Azurite, the real SDK clients over HTTPS, the ARM emulator."""

from __future__ import annotations

import pytest

from shared.domain.plan import plan
from shared.domain.rules import check
from tests.integration.engine_harness import harness, make_storage_target

pytestmark = pytest.mark.integration


def production(account: str) -> dict:
    return {"name": "shop-prod", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "production",
            "network": {"privateEndpoints": [{"name": "data", "targetResourceId": account, "groupId": "blob"}]}}


async def test_the_production_request_provisions_exactly_the_planned_resources(armemu, azurite_connection_string):
    account = make_storage_target(armemu)
    raw = production(account)
    async with harness(armemu, azurite_connection_string) as h:
        op_id = await h.submit(raw)
        op = await h.wait_done(op_id)
    assert op["state"] == "succeeded", op.get("error")
    assert made_by_aksvend(armemu, account) == expected_inventory(raw, armemu.subscription_id)


def expected_inventory(raw: dict, subscription_id: str) -> set[str]:
    """The planned resources and the children their bodies declare inline (subnets, the cluster's pools)."""
    request, _ = check(raw, default_subscription_id=subscription_id)
    p = plan(request)
    ids = {r.id.lower() for r in p.resources}
    vnet, cluster = p.resource("vnet"), p.resource("cluster")
    ids |= {f"{vnet.id}/subnets/{s['name']}".lower() for s in vnet.body["properties"]["subnets"]}
    ids |= {f"{cluster.id}/agentPools/{a['name']}".lower() for a in cluster.body["properties"]["agentPoolProfiles"]}
    return ids


def made_by_aksvend(armemu, account: str) -> set[str]:
    """What the emulator holds, less the private endpoint's target and what AKS makes itself (node group)."""
    target_group = account.lower().rsplit("/providers", 1)[0]
    return {r["id"].lower() for r in armemu.inventory()
            if not r["id"].lower().startswith(target_group) and "/resourcegroups/mc_" not in r["id"].lower()}
