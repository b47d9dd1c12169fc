"""A step of an operation, as pure data (shared/domain/operations.py derives them; the engine runs them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Action = Literal["put", "delete"]


@dataclass(frozen=True, slots=True)
class StepSpec:
    id: str
    action: Action
    resource_key: str
    resource_type: str
    resource_id: str
    api_version: str
    body: Mapping[str, Any] | None
    depends_on: tuple[str, ...]
    mutates_cluster: bool
    estimated_seconds: int
    must_exist: bool = False  # the PUT only changes the resource: it fails when ARM no longer has it (never creates)
    # The body's pool counts and power states are ARM's when the step begins (shared/engine/adopt.py `current_body`):
    # an operation that rebuilds a pool body (an upgrade, a patch) resizes nothing as a side effect.
    current: bool = False
    # Not a PUT or DELETE of the resource: an edit of a service endpoint target's VNet rules, adding ("add") or
    # removing ("remove") the cluster's subnets in the rules the target has (shared/engine/target_rules.py). A
    # delete-cluster's "remove" step never deletes the target, which is not aksvend's.
    edit: Literal["add", "remove"] | None = None
