"""Where an operation came from (`OperationRecord.source`): one typed value, one encoder, one parser.

The stored form is the short string it always was, so rows written by earlier versions read the same:

    api                         the HTTP API (the default)
    queue                       the request queue
    ticket:<system>             a ticketing webhook (`ticket:jira`)
    reaction:<rule>[:<pool>]    the events service: `reaction:spot-fallback:<spot pool>`,
                                `reaction:fallback-scale-down:<spot pool>`, `reaction:pool-pressure`, `reaction:upgrade`

Written where operations are submitted (the events service writes reactions), read where lifecycle events are
derived from an ended operation (shared/engine/lifecycle.py: `aksvend.pool.scaled`'s reason and
`aksvend.spot.replaced`'s spot pool). Rules and pool names never contain `:`, so the parts split unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["api", "queue", "ticket", "reaction"]
_BARE: tuple[SourceKind, ...] = ("api", "queue")


@dataclass(frozen=True, slots=True)
class OperationSource:
    kind: SourceKind
    name: str | None = None  # the ticket system, or the reaction's rule
    pool: str | None = None  # the pool a reaction is about (for a spot fallback: the spot pool)

    @classmethod
    def ticket(cls, system: str) -> OperationSource:
        return cls("ticket", system)

    @classmethod
    def reaction(cls, rule: str, pool: str | None = None) -> OperationSource:
        return cls("reaction", rule, pool)

    def encode(self) -> str:
        return ":".join(part for part in (self.kind, self.name, self.pool) if part is not None)

    @classmethod
    def parse(cls, text: str) -> OperationSource | None:
        """The source a stored string names; None for one this version cannot read (it then counts as a request)."""
        kind, has_rest, rest = text.partition(":")
        if kind in _BARE and not has_rest:
            return cls(kind)
        if kind == "ticket" and rest:
            return cls.ticket(rest)
        if kind == "reaction" and rest:
            rule, has_pool, pool = rest.partition(":")
            return cls.reaction(rule, pool if has_pool else None)
        return None
