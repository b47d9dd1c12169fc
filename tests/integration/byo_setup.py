"""A landing zone's network as it exists before a bring-your-own-network request, for the tests that take the
emulator's fixture: thin wrappers of local/landing_zone.py, which `python -m local.prerequisites` (docs/local.md,
"A landing zone network") runs for a reader. Used by tests/integration/test_examples_local.py and test_byo_local.py."""

from __future__ import annotations

from typing import Any

from local.landing_zone import arm_client, group_of
from local.landing_zone import create_landing_zone as _create_landing_zone
from local.landing_zone import put as _put

__all__ = ["create_landing_zone", "group_of", "put"]


def put(armemu: Any, resource_id: str, body: dict[str, Any], deadline_s: float = 20) -> dict[str, Any]:
    """PUT a resource in the emulator and wait (against a deadline) until its provisioningState is Succeeded."""
    with arm_client(armemu.base_url, armemu.ca_cert) as arm:
        return _put(arm, resource_id, body, deadline_s)


def create_landing_zone(armemu: Any, raw: dict[str, Any], location: str = "westeurope") -> set[str]:
    """The hub, the spoke with the subnets `raw` names, the peerings and the central zones; returns their ids."""
    with arm_client(armemu.base_url, armemu.ca_cert) as arm:
        return _create_landing_zone(arm, raw, location)
