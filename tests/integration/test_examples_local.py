"""docs/local.md says the requests in docs/examples/ are ready to POST to the local stack once the targets of their
private endpoints and service endpoints exist in the emulator: each is provisioned here end to end (the engine over
Azurite and the ARM emulator), its targets created first with the same plain ARM PUTs docs/local.md shows, and, for a
request on an existing network, the landing zone's hub, spoke and central DNS zones (tests/integration/byo_setup.py)."""

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


# The body of each kind of target, as docs/local.md PUTs it: a Key Vault names its tenant (any id will do in the
# emulator) and SKU; a registry is Premium, the only SKU that takes private endpoints.
TARGETS = {
    "microsoft.storage/storageaccounts": ("2025-01-01", {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}),
    "microsoft.keyvault/vaults": ("2024-11-01", {"properties": {
        "tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"}}}),
    "microsoft.containerregistry/registries": ("2025-04-01", {"sku": {"name": "Premium"}}),
}


def create_target(armemu, target_id: str) -> str:
    """The resource group and the storage account, Key Vault or registry a private endpoint targets, as docs/local.md
    creates them: plain PUTs with any bearer token (the emulator checks only that there is one). Returns the resource
    group's id."""
    group = target_id.split("/providers/", 1)[0]
    kind = "/".join(target_id.split("/providers/", 1)[1].split("/")[:2]).lower()
    api_version, body = TARGETS[kind]
    with httpx.Client(base_url=armemu.base_url, verify=ssl.create_default_context(cafile=armemu.ca_cert),
                      headers={"Authorization": "Bearer local"}, timeout=30) as arm:
        arm.put(group, params={"api-version": "2025-04-01"}, json={"location": "westeurope"}).raise_for_status()
        arm.put(target_id, params={"api-version": api_version}, json={"location": "westeurope", **body},
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
    network = raw.get("network") or {}
    targets = {e["targetResourceId"] for e in [*network.get("privateEndpoints", []),
                                               *network.get("serviceEndpointTargets", [])]}
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
