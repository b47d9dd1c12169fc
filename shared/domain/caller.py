"""A caller: a principal that Entra ID vouches for (a tenant and an object id), or one of aksvend's own ways in.

* A **principal** is `Caller(tenant_id, object_id, groups, roles, name)`: the tenant and object id (GUIDs, kept
  lower-case) are who it is; `groups` (group object ids) and `roles` (app role values) come from the same token or
  Easy Auth principal; `name` is for display and logs only (anyone may rename themselves) and decides nothing.
  Its `id`, used in idempotency keys and matched by the policy's `principals`, is `<tenant>/<object id>`.
* A **service** is one of aksvend's own ways in, built in code only (`Caller.service`): the `cluster-requests`
  queue (`queue:cluster-requests`), a ticketing webhook (`webhook:<system>`), the event reactions
  (`aksvend:events`). Its `id` is that string, matched by the policy's `services` only.

The two can never meet: a caller is a service only when built by `Caller.service` (`internal`, never read from a
request), a principal's ids must be GUIDs (so no principal is `queue:cluster-requests`), a principal's id always
holds a `/` and a service's never does, and the policy matches each kind by its own field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.domain.armid import GUID

QUEUE_CALLER_ID = "queue:cluster-requests"
EVENTS_CALLER_ID = "aksvend:events"
WEBHOOK_PREFIX = "webhook:"
SERVICE_ID = re.compile(r"^(queue:cluster-requests|aksvend:events|webhook:[a-z][a-z0-9-]{0,39})\Z")
SERVICE_TENANT = "aksvend"  # the tenant_id of services: not a GUID, so no principal has it
MAX_NAME = 128


@dataclass(frozen=True, slots=True)
class Caller:
    tenant_id: str
    object_id: str
    groups: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""
    internal: bool = field(default=False, kw_only=True)  # a service: only `Caller.service` sets it

    def __post_init__(self) -> None:
        if self.internal:
            if self.tenant_id != SERVICE_TENANT or not SERVICE_ID.match(self.object_id) or self.groups or self.roles:
                raise ValueError("a service caller is queue:cluster-requests, aksvend:events or webhook:<system>, "
                                 "without groups or roles")
            return
        if not (GUID.match(self.tenant_id) and GUID.match(self.object_id)):
            raise ValueError("a principal is a tenant id and an object id, both GUIDs")
        object.__setattr__(self, "tenant_id", self.tenant_id.lower())
        object.__setattr__(self, "object_id", self.object_id.lower())
        object.__setattr__(self, "groups", frozenset(g.lower() for g in self.groups))
        object.__setattr__(self, "name", "".join(c for c in self.name if c.isprintable())[:MAX_NAME])

    @classmethod
    def service(cls, service_id: str) -> Caller:
        return cls(SERVICE_TENANT, service_id, name=service_id, internal=True)

    @classmethod
    def parse(cls, principal_id: str, name: str = "") -> Caller:
        """`<tenant>/<object id>` as a principal (ValueError when it is not two GUIDs)."""
        tenant, _, oid = principal_id.strip().partition("/")
        return cls(tenant, oid, name=name)

    @property
    def is_service(self) -> bool:
        return self.internal

    @property
    def id(self) -> str:
        return self.object_id if self.is_service else f"{self.tenant_id}/{self.object_id}"

    @property
    def display(self) -> str:
        """The id, with the display name before it when there is one: for messages and logs."""
        return f"'{self.name}' ({self.id})" if self.name and not self.is_service else self.id


def webhook_caller(system: str) -> Caller:
    return Caller.service(f"{WEBHOOK_PREFIX}{system}")


QUEUE_CALLER = Caller.service(QUEUE_CALLER_ID)
EVENTS_CALLER = Caller.service(EVENTS_CALLER_ID)
