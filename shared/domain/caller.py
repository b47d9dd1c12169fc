"""A caller: who asks (from Easy Auth's principal, a queue, a webhook), and the groups it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Caller:
    id: str
    name: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
