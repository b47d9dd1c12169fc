"""`make demo`'s live part on its own local host (its own Azurite and emulator, the sweeper timer every second):
the demo's request is built, two spot nodes are evicted, and what the demo reports is checked against what stays
on record: aksvend's answer to the delivery, its operations, and the fallback pool in ARM."""

from __future__ import annotations

import io

import httpx
import pytest

from local.demo.live import Phases, build_and_react
from local.demo.plan import demo_request
from local.host.client import SUBSCRIPTION, local_host
from shared.domain.arm import AGENT_POOL
from tests.e2e.conftest import TIME_FACTOR, _env

pytestmark = pytest.mark.e2e
SECRET = "fake-demo-events-secret"

# the bound that holds the fallback: extraNodesPerPool (10 by default), below maxNodesPerPool and the pool's max
BOUND = "(bound 10: maxNodesPerPool 50, pool 'batch' at most 20, extraNodesPerPool 10 above 0)"


def test_the_demo_builds_the_cluster_then_replaces_evicted_spot_nodes_on_demand_and_scales_them_back_to_0():
    request = demo_request(float(TIME_FACTOR))
    assert request["reactions"]["cooldownSeconds"] == 3  # 600 s at the test's time factor
    with local_host("--time-factor", TIME_FACTOR, "--timer-every", "1",
                    env=_env(AKSVEND_EVENTS_WEBHOOK_SECRET=SECRET)) as host, host.arm() as arm, \
            httpx.Client(base_url=host.base_url, timeout=30) as api:
        out = io.StringIO()
        seen = build_and_react(host, out, request, SECRET, Phases())
        text = out.getvalue()
        assert seen is not None and seen.ok, text + host.log_tail()

        assert seen.evicted == 2 and seen.status == 200
        assert [d.split(": ", 1)[1] for d in seen.decisions] == [
            f"create on-demand fallback 'batchod' to 1 node {BOUND} -> submitted",
            f"scale on-demand fallback 'batchod' to 2 nodes {BOUND} -> submitted"]
        ops = [api.get(f"/api/operations/{i}").json() for i in seen.fallback_operations]
        assert [(o["kind"], o["pool"], o["source"], o["state"]) for o in ops] == [
            ("put-pool", "batchod", "reaction:spot-fallback:batch", "succeeded")] * 2
        down = api.get(f"/api/operations/{seen.scale_down_operation}").json()
        assert (down["pool"], down["source"], down["state"]) == (
            "batchod", "reaction:fallback-scale-down:batch", "succeeded")

        cluster = api.get(f"/api/clusters/{SUBSCRIPTION}/{request['resourceGroup']}/{request['name']}").json()
        assert {p["name"]: p["count"] for p in cluster["pools"]}["batchod"] == 0
        pool = arm.get(f"{cluster['id']}/agentPools/batchod", AGENT_POOL.api_version)["properties"]
        assert (pool["count"], pool["provisioningState"], pool.get("scaleSetPriority", "Regular")) == (
            0, "Succeeded", "Regular")
        assert pool["nodeLabels"]["aksvend.io/spot-fallback-for"] == "batch"
        puts = [r for r in arm.requests() if r["method"] == "PUT" and r["path"].split("?")[0].endswith("/batchod")]
        assert len(puts) >= 3  # created with 1 node, scaled to 2, scaled back to 0

    for shown in ("evicted ", "-> POST /api/events: 200", "fallback  ✓ ", "sweeper   no eviction for 3 s",
                  "batchod   Succeeded · 0 on-demand nodes"):
        assert shown in text, text
