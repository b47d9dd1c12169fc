"""Log Analytics workspaces (`Microsoft.OperationalInsights/workspaces`), and the AKS monitoring add-on's check that
its workspace exists.

- A workspace PUT is synchronous; AKS-style defaults filled as the REST reference shows them: `customerId` (the
  workspace id, a GUID derived from the ARM id so runs are reproducible), `sku.name` `PerGB2018`, `retentionInDays`
  30 (30-730 for PerGB2018, else 400), `workspaceCapping.dailyQuotaGb` -1, public ingestion and query enabled.
  Names: 4-63 letters, digits and hyphens, starting and ending with a letter or digit (400 otherwise).
- The monitoring add-on (`addonProfiles.omsagent`, also spelled `omsAgent`) names its workspace in
  `config.logAnalyticsWorkspaceResourceID`. A cluster PUT with the add-on enabled, and any pool PUT of such a
  cluster, is refused with 400 when that workspace does not exist, in AKS's words ("Unable to get log analytics
  workspace info. Resource ID: ... Detail: ... Status=404 Code=\"ResourceNotFound\" ...": the AKS troubleshooting
  article "Failed to upgrade or scale AKS cluster due to missing Log Analytics workspace", Azure/AKS#787). The code,
  `InvalidParameter` with the config key as target, is an assumption (no source shows it).
"""

from __future__ import annotations

import re
from typing import Any

from ..armid import derived_uuid, parse
from ..errors import invalid
from ..lro import utc_now_iso
from ..store import Resource
from ..world import Call, World
from .base import ResourceType

WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")
SKUS = ("Free", "Standalone", "PerNode", "PerGB2018", "Standard", "Premium", "CapacityReservation", "LACluster")
WORKSPACE_KEY = "logAnalyticsWorkspaceResourceID"


class Workspaces(ResourceType):
    type_name = "Microsoft.OperationalInsights/workspaces"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        name = call.path.name
        if not WORKSPACE_NAME.match(name):
            raise invalid(f"The workspace name '{name}' is invalid: 4-63 letters, digits or hyphens, starting and "
                          "ending with a letter or digit.", "name")
        props = body.get("properties") or {}
        sku = (props.get("sku") or {}).get("name", "PerGB2018")
        if sku not in SKUS:
            raise invalid(f"properties.sku.name must be one of {', '.join(SKUS)}.", "properties.sku.name")
        retention = props.get("retentionInDays", 30)
        if sku == "PerGB2018" and (not isinstance(retention, int) or not 30 <= retention <= 730):
            raise invalid("retentionInDays must be between 30 and 730 for the PerGB2018 sku.",
                          "properties.retentionInDays")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        props = stored["properties"]
        rid = call.path.resource_id
        props["customerId"] = derived_uuid(rid, "customer")
        props["sku"] = {"name": "PerGB2018", **(props.get("sku") or {})}
        props.setdefault("retentionInDays", 30)
        props.setdefault("workspaceCapping", {"dailyQuotaGb": -1.0})
        props.setdefault("publicNetworkAccessForIngestion", "Enabled")
        props.setdefault("publicNetworkAccessForQuery", "Enabled")
        props["createdDate"] = existing.properties.get("createdDate") if existing else utc_now_iso()
        props["modifiedDate"] = utc_now_iso()
        return stored


def check_monitoring(world: World, addons: Any) -> None:
    """400 when the monitoring add-on is enabled with a workspace that does not exist (module docstring)."""
    for key, addon in (addons or {}).items() if isinstance(addons, dict) else ():
        if key.lower() != "omsagent" or not isinstance(addon, dict) or not addon.get("enabled"):
            continue
        config = {k.lower(): v for k, v in (addon.get("config") or {}).items()}
        workspace_id = config.get(WORKSPACE_KEY.lower())
        if not workspace_id or world.store.get(str(workspace_id)) is not None:
            continue
        path = parse(str(workspace_id))
        group = path.resource_group if path else None
        if path is not None and group and world.store.get(path.resource_group_id or "") is None:
            missing = f'Code="ResourceGroupNotFound" Message="Resource group \'{group}\' could not be found."'
        else:
            missing = (f'Code="ResourceNotFound" Message="The Resource \'Microsoft.OperationalInsights/workspaces/'
                       f'{str(workspace_id).rsplit("/", 1)[-1]}\' under resource group \'{group}\' was not found."')
        raise invalid(
            f"Unable to get log analytics workspace info. Resource ID: {workspace_id}. Detail: operationalinsights."
            "WorkspacesClient#GetSharedKeys: Failure responding to request: StatusCode=404 -- Original Error: "
            f"autorest/azure: Service returned an error. Status=404 {missing}",
            f"addonProfiles.{key}.config.{WORKSPACE_KEY}")
