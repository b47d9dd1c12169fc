"""A reference to the ticket a request came from: carried by the operation and by every event about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TicketRef"]


@dataclass(frozen=True, slots=True)
class TicketRef:
    system: str  # jira | github | servicenow | generic
    key: str  # the ticket's identity in that system: OPS-42, octo-org/platform#17, a sys_id ...
    revision: str  # what changes when the ticket is edited: Jira `updated`, ServiceNow `sys_updated_on` ...
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system, "key": self.key, "revision": self.revision}
        if self.url:
            out["url"] = self.url
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketRef:
        return cls(str(data["system"]), str(data["key"]), str(data["revision"]), data.get("url"))
