"""docs/local.md says the requests in docs/examples/ are ready to POST to the local stack once the targets of their
private endpoints exist in the emulator: each is provisioned here end to end (the engine over Azurite and the ARM
emulator), its targets created first with the same plain ARM PUTs docs/local.md shows, and, for a request on an
existing network, the landing zone's hub, spoke and central DNS zones (tests/integration/byo_setup.py)."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import pytest

from tests.integration.byo_setup import create_landing_zone
from tests.integration.engine_harness import expected_inventory, harness

pytestmark = pytest.mark.integration

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "docs" / "examples").glob("*.json"))


def create_target(armemu, account_id: str) -> str:
    """The resource group and storage account a private endpoint targets, as docs/local.md creates them: two PUTs
    with any bearer token (the emulator checks only that there is one). Returns the resource group's id."""
    group = account_id.split("/providers/", 1)[0]
    with httpx.Client(base_url=armemu.base_url, verify=ssl.create_default_context(cafile=armemu.ca_cert),
                      headers={"Authorization": "Bearer local"}, timeout=30) as arm:
        arm.put(group, params={"api-version": "2025-04-01"}, json={"location": "westeurope"}).raise_for_status()
        arm.put(account_id, params={"api-version": "2025-01-01"},
                json={"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"},
                ).raise_for_status()
    return group.lower()


def create_workspace(armemu, workspace_id: str) -> str:
    """The Log Analytics workspace the monitoring add-on names, which AKS (and the emulator) requires to exist, as
    docs/local.md creates it. Returns the resource group's id."""
    group = workspace_id.split("/providers/", 1)[0]
    with httpx.Client(base_url=armemu.base_url, verify=ssl.create_default_context(cafile=armemu.ca_cert),
                      headers={"Authorization": "Bearer local"}, timeout=30) as arm:
        arm.put(group, params={"api-version": "2025-04-01"}, json={"location": "westeurope"}).raise_for_status()
        arm.put(workspace_id, params={"api-version": "2025-02-01"},
                json={"location": "westeurope", "properties": {}}).raise_for_status()
    return group.lower()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
async def test_every_example_provisions_on_the_local_stack(path, armemu, azurite_connection_string):
    raw = json.loads(path.read_text())
    targets = {e["targetResourceId"] for e in (raw.get("network") or {}).get("privateEndpoints", [])}
    groups = {create_target(armemu, target) for target in targets}
    if workspace := (raw.get("addons") or {}).get("logAnalyticsWorkspaceId"):
        groups.add(create_workspace(armemu, workspace))
    existing = create_landing_zone(armemu, raw) if (raw.get("network") or {}).get("existing") else set()
    async with harness(armemu, azurite_connection_string) as h:
        op = await h.wait_done(await h.submit(raw))
    assert op["state"] == "succeeded", op.get("error")
    made = {r["id"].lower() for r in armemu.inventory()
            if not r["id"].lower().startswith(tuple(groups)) and "/resourcegroups/mc_" not in r["id"].lower()
            and r["id"].lower() not in existing}
    assert made == expected_inventory(raw, armemu.subscription_id)
