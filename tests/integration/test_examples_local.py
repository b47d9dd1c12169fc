"""docs/local.md says the requests in docs/examples/ are ready to POST to the local stack once what they name exists in
the emulator: each is provisioned here end to end (the engine over Azurite and the ARM emulator), its prerequisites
created first by `local.prerequisites`, the module docs/local.md tells a reader to run (the targets of its private
endpoints and service endpoints, its monitoring workspace and, for a request on an existing network, the landing
zone's hub, spoke and central DNS zones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local import prerequisites
from local.landing_zone import arm_client
from tests.integration.engine_harness import expected_inventory, harness

pytestmark = pytest.mark.integration

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "docs" / "examples").glob("*.json"))


def create_target(armemu, target_id: str) -> str:
    """A private endpoint's target and its group, as `python -m local.prerequisites` creates them; the group's id."""
    with arm_client(armemu.base_url, armemu.ca_cert) as arm:
        return prerequisites.create_target(arm, target_id)


def create_workspace(armemu, workspace_id: str) -> str:
    """The monitoring add-on's workspace and its group, as `python -m local.prerequisites` creates them."""
    with arm_client(armemu.base_url, armemu.ca_cert) as arm:
        return prerequisites.create_workspace(arm, workspace_id)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
async def test_every_example_provisions_on_the_local_stack(path, armemu, azurite_connection_string, capsys):
    raw = json.loads(path.read_text())
    assert prerequisites.main(["--arm", armemu.base_url, "--ca", armemu.ca_cert, str(path)]) == 0
    made_first = json.loads(capsys.readouterr().out)
    groups, existing = set(made_first["groups"]), set(made_first["landingZone"])
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(raw))
    assert op["state"] == "succeeded", op.get("error")
    made = {r["id"].lower() for r in armemu.inventory()
            if not r["id"].lower().startswith(tuple(groups)) and "/resourcegroups/mc_" not in r["id"].lower()
            and r["id"].lower() not in existing}
    assert made == expected_inventory(raw, armemu.subscription_id)


async def test_the_byo_example_without_its_landing_zone_fails_where_docs_local_md_says(armemu,
                                                                                       azurite_connection_string):
    """docs/local.md, "A landing zone network": with no spoke in the emulator the create fails at
    put:privateEndpoint with InvalidResourceReference (the new-user review saw this, not SubnetNotFound)."""
    path = next(p for p in EXAMPLES if p.name == "byo-hub-spoke-udr.json")
    raw = json.loads(path.read_text())
    with arm_client(armemu.base_url, armemu.ca_cert) as arm:
        for target in raw["network"]["privateEndpoints"]:
            prerequisites.create_target(arm, target["targetResourceId"])
        prerequisites.create_workspace(arm, raw["addons"]["logAnalyticsWorkspaceId"])
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit({**raw, "name": "payments-spoke-nolz"}))
    assert op["state"] == "failed"
    error = op["error"] if isinstance(op["error"], dict) else json.loads(op["error"])
    assert (error["code"], error["step"]) == ("InvalidResourceReference", "put:privateEndpoint:payments-data")
    assert "snet-private-endpoints" in error["message"]
