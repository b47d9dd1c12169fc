"""`.../managedClusters/{name}/maintenanceConfigurations/{config}`: a cluster's planned maintenance windows.

As AKS serves them (aks/planned-maintenance; the REST reference's MaintenanceConfiguration, api-version 2026-08-01):
a synchronous PUT (200/201, no long-running operation, no provisioningState) of `default` (`timeInWeek`) or of the
AKS-managed schedules `aksManagedAutoUpgradeSchedule` and `aksManagedNodeOSUpgradeSchedule` (`maintenanceWindow`);
GET, list and DELETE (200, 204 when gone). Refused with 400 InvalidParameter: another name; a `maintenanceWindow` on
`default` or none on the managed ones; a schedule that is not exactly one of daily, weekly, absoluteMonthly,
relativeMonthly; `intervalDays` outside 1-7, `intervalWeeks` outside 1-4; `durationHours` outside 4-24; `startTime`
not HH:mm; `utcOffset` not +/-HH:mm.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import invalid
from ..store import Resource
from ..world import Call
from .base import ResourceType

MAINTENANCE = "Microsoft.ContainerService/managedClusters/maintenanceConfigurations"
MANAGED = ("aksmanagedautoupgradeschedule", "aksmanagednodeosupgradeschedule")
SCHEDULES = ("daily", "weekly", "absoluteMonthly", "relativeMonthly")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


class MaintenanceConfigurations(ResourceType):
    type_name = MAINTENANCE
    scope_kind = "child"
    requires_location = False
    has_provisioning_state = False
    patch_mode = None

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        name = call.path.name.lower()
        props = body.get("properties") or {}
        window = props.get("maintenanceWindow")
        if name != "default" and name not in MANAGED:
            raise invalid(f"Maintenance configuration name '{call.path.name}' is invalid: use 'default', "
                          "'aksManagedAutoUpgradeSchedule' or 'aksManagedNodeOSUpgradeSchedule'.", "name")
        if name == "default":
            if window is not None:
                raise invalid("maintenanceWindow is only supported on the aksManaged* configurations.",
                              "properties.maintenanceWindow")
            return
        if not isinstance(window, dict):
            raise invalid(f"Maintenance configuration '{call.path.name}' requires maintenanceWindow.",
                          "properties.maintenanceWindow")
        check_window(window)


def check_window(window: dict[str, Any]) -> None:
    target = "properties.maintenanceWindow"
    schedule = window.get("schedule") or {}
    kinds = [k for k in SCHEDULES if schedule.get(k) is not None]
    if len(kinds) != 1:
        raise invalid("The schedule must set exactly one of daily, weekly, absoluteMonthly, relativeMonthly.",
                      f"{target}.schedule")
    detail = schedule[kinds[0]]
    bounds = {"daily": ("intervalDays", 1, 7), "weekly": ("intervalWeeks", 1, 4)}.get(kinds[0])
    if bounds is not None:
        field, low, high = bounds
        value = detail.get(field)
        if not isinstance(value, int) or not low <= value <= high:
            raise invalid(f"{field} must be between {low} and {high}.", f"{target}.schedule.{kinds[0]}.{field}")
    duration = window.get("durationHours")
    if not isinstance(duration, int) or not 4 <= duration <= 24:
        raise invalid("durationHours must be between 4 and 24.", f"{target}.durationHours")
    if not CLOCK.match(str(window.get("startTime") or "")):
        raise invalid("startTime must be HH:mm.", f"{target}.startTime")
    if window.get("utcOffset") is not None and not OFFSET.match(str(window["utcOffset"])):
        raise invalid("utcOffset must be +HH:mm or -HH:mm.", f"{target}.utcOffset")
