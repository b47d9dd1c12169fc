"""The quota pre-check against the ARM emulator's usages API (local/armemu/providers/compute.py): a create or a
scale whose new nodes do not fit is refused before anything is made, with the family, limit, use and need."""

from __future__ import annotations

import pytest

from shared.engine.records import cluster_key
from tests.integration.engine_harness import harness
from tests.polling import eventually

pytestmark = pytest.mark.integration

SMALL = {"name": "quota-prod", "resourceGroup": "rg-quota", "location": "westeurope", "profile": "production"}


async def test_a_create_that_does_not_fit_is_refused_with_nothing_made(armemu, azurite_connection_string):
    armemu.control("PUT", "quota", {"westeurope": {"standardDSv5Family": 16}})  # the production pools need 64
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(SMALL))
    assert op["state"] == "failed" and op["error"]["code"] == "QuotaExceeded", op["error"]
    assert op["error"]["quota"] == {"standardDSv5Family": {"limit": 16, "used": 0, "needed": 64}}
    assert armemu.inventory() == []  # not even the resource group
    assert not [r for r in armemu.requests() if r["method"] in ("PUT", "DELETE")]


async def test_a_scale_that_does_not_fit_is_refused_before_its_pool_put(armemu, azurite_connection_string):
    async with harness(armemu, azurite_connection_string) as h:
        created = await h.wait_done(await h.submit(SMALL), timeout=90)
        assert created["state"] == "succeeded", created.get("error")
        key = cluster_key(armemu.subscription_id, "rg-quota", "quota-prod")

        async def released():
            record = await h.engine.registry.get(key)
            return record is not None and not record.queue

        await eventually(released, timeout=30)
        # In use: system 3 x 4 + apps 5 x 8 = 52 DSv5 vCPUs. Scaling apps 5 -> 8 needs (8 + 1 surge - 5) x 8 = 32.
        armemu.control("PUT", "quota", {"westeurope": {"standardDSv5Family": 60}})
        before = len(armemu.requests())
        bigger = {**SMALL, "userPools": [
            {"name": "apps", "vmSize": "Standard_D8s_v5", "count": 8, "autoscale": {"min": 3, "max": 10},
             "zones": ["1", "2", "3"]},
            {"name": "gpu", "workload": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "count": 2,
             "taints": ["sku=gpu:NoSchedule"]},
            {"name": "batch", "workload": "batch", "vmSize": "Standard_D8s_v5", "count": 0,
             "spot": {"evictionPolicy": "Delete", "maxPrice": -1}, "autoscale": {"min": 0, "max": 20}}]}
        scale = await h.wait_done(await h.submit(bigger, kind="put-pool", pool="apps"))
    assert scale["state"] == "failed" and scale["error"]["code"] == "QuotaExceeded", scale["error"]
    assert scale["error"]["quota"] == {"standardDSv5Family": {"limit": 60, "used": 52, "needed": 32}}
    assert not [r for r in armemu.requests()[before:] if r["method"] in ("PUT", "DELETE")]
