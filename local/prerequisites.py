"""What a request of docs/examples/ needs in the ARM emulator before it is POSTed, as Azure needs it first: the
storage accounts, Key Vaults and registries its private endpoints and service endpoint targets name (each with its
resource group), the Log Analytics workspace its monitoring add-on names, and, for a request on an existing network,
the landing zone (local/landing_zone.py). Plain ARM PUTs, the same docs/local.md shows with curl; the test that
provisions every example (tests/integration/test_examples_local.py) creates them with this module too.

    python -m local.prerequisites --arm <armUrl> --ca <armCaCert> docs/examples/private-endpoints.json

(`armUrl` and `armCaCert` are in the local host's ready line.) It prints one JSON line: the ids it made. Running it
again is harmless: every PUT is idempotent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.landing_zone import arm_client, create_landing_zone, group_of

GROUP_VERSION = "2025-04-01"
WORKSPACE_VERSION = "2025-02-01"
# The body of each kind of target: a Key Vault names its tenant (any id will do in the emulator) and SKU; a registry
# is Premium, the only SKU that takes private endpoints.
TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "microsoft.storage/storageaccounts": ("2025-01-01", {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}),
    "microsoft.keyvault/vaults": ("2024-11-01", {"properties": {
        "tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"}}}),
    "microsoft.containerregistry/registries": ("2025-04-01", {"sku": {"name": "Premium"}}),
}


@dataclass
class Prerequisites:
    """What was made: the groups of the targets and the workspace (everything in them is the example's
    prerequisite), and the ids of the landing zone (its groups hold what aksvend makes too, so listed one by one)."""

    groups: set[str] = field(default_factory=set)
    landing_zone: set[str] = field(default_factory=set)


def _kind(resource_id: str) -> str:
    return "/".join(resource_id.split("/providers/", 1)[1].split("/")[:2]).lower()


def create_target(arm: httpx.Client, target_id: str, location: str = "westeurope") -> str:
    """The storage account, Key Vault or registry a private endpoint or service endpoint targets, and its resource
    group. Returns the group's id (lower case)."""
    group = group_of(target_id)
    api_version, body = TARGETS[_kind(target_id)]
    arm.put(group, params={"api-version": GROUP_VERSION}, json={"location": location}).raise_for_status()
    arm.put(target_id, params={"api-version": api_version}, json={"location": location, **body}).raise_for_status()
    return group.lower()


def create_workspace(arm: httpx.Client, workspace_id: str, location: str = "westeurope") -> str:
    """The Log Analytics workspace the monitoring add-on names, which AKS (and the emulator) requires to exist, and
    its resource group. Returns the group's id (lower case)."""
    group = group_of(workspace_id)
    arm.put(group, params={"api-version": GROUP_VERSION}, json={"location": location}).raise_for_status()
    arm.put(workspace_id, params={"api-version": WORKSPACE_VERSION},
            json={"location": location, "properties": {}}).raise_for_status()
    return group.lower()


def create_prerequisites(arm: httpx.Client, raw: dict[str, Any]) -> Prerequisites:
    """Everything request `raw` names that must exist before its create (see the module's docstring)."""
    network = raw.get("network") or {}
    location = str(raw.get("location") or "westeurope")
    made = Prerequisites()
    targets = {e["targetResourceId"] for e in [*network.get("privateEndpoints", []),
                                               *network.get("serviceEndpointTargets", [])]}
    made.groups |= {create_target(arm, target, location) for target in sorted(targets)}
    if workspace := (raw.get("addons") or {}).get("logAnalyticsWorkspaceId"):
        made.groups.add(create_workspace(arm, workspace, location))
    if network.get("existing"):
        made.landing_zone = create_landing_zone(arm, raw, location)
    return made


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.prerequisites", description=__doc__.split("\n\n")[0])
    parser.add_argument("--arm", required=True, help="the emulator's address (armUrl of the host's ready line)")
    parser.add_argument("--ca", required=True, help="the emulator's CA certificate (armCaCert of the ready line)")
    parser.add_argument("request", help="a request file, e.g. docs/examples/private-endpoints.json")
    args = parser.parse_args(argv)
    with open(args.request, encoding="utf-8") as f:
        raw = json.load(f)
    try:
        with arm_client(args.arm, args.ca) as arm:
            made = create_prerequisites(arm, raw)
    except (httpx.HTTPError, TimeoutError) as exc:
        print(f"could not create the prerequisites of {args.request}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"request": args.request, "groups": sorted(made.groups),
                      "landingZone": sorted(made.landing_zone)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
