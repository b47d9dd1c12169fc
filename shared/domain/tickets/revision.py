"""Which deliveries of a ticket aksvend acts on: once per (system, ticket, revision of the requested fields), and
only when the delivery is newer than the one acted on last.

A ticketing system sends the whole ticket on every change (a status transition, a comment, an assignee), and
anyone holding a captured delivery can send it again: the signatures cover the body only, never a delivery id
header (GitHub's `X-GitHub-Delivery`, Jira's `X-Atlassian-Webhook-Identifier`; ServiceNow and the generic
signature have none), so a delivery id says nothing about idempotency. What a delivery asks for is its
requested cluster fields, hashed here (`fields_hash`); when it was written is the ticket's `updated` time or
sequence, the mapping's `revision` (`ticket_time`). The ledger of what was acted on (`Processed`, one row per
(system, ticket), kept after the cluster is deleted) and `judge` decide:

| the delivery, against the ledger                   | outcome                                              |
|----------------------------------------------------|------------------------------------------------------|
| no ledger row for the ticket                       | act                                                  |
| the revision acted on (a retry or a replay)        | no-op (`REPLAYED`)                                   |
| not newer than the revision acted on, or unordered | no-op (`STALE`): a late or replayed older delivery   |
| newer, the same requested fields                   | no-op (`UNCHANGED`): a status change, a comment      |
| newer, other requested fields                      | act (an edit of the ticket)                          |

and, for a cluster deleted (or being deleted) since: a delivery whose time is not after the deletion is a no-op
(`BEFORE_DELETION`, `older_than_deletion`), so only an edit made after the deletion creates the cluster again.
Pure: the service (shared/services/ticket_ledger.py) reads and writes the ledger.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BEFORE_DELETION",
    "REPLAYED",
    "STALE",
    "UNCHANGED",
    "UNORDERED_RULE",
    "Processed",
    "fields_hash",
    "is_newer",
    "judge",
    "older_than_deletion",
    "ticket_time",
]

REPLAYED = "this revision of the ticket was acted on already"
STALE = "the delivery is not newer than the revision of the ticket that was acted on"
UNCHANGED = "the ticket's requested cluster fields did not change (a status change, a comment, an assignee)"
BEFORE_DELETION = ("the cluster was deleted after this revision of the ticket; only an edit of the requested "
                   "fields made after the deletion asks for it again")
UNORDERED_RULE = ("the ticket's revision must be a whole number or an ISO 8601 time that grows with every edit "
                  "(Jira `updated`, ServiceNow `sys_updated_on`)")
_SEQUENCE = re.compile(r"^[0-9]{1,18}\Z")
_MAX_TIME_CHARS = 40


@dataclass(frozen=True, slots=True)
class Processed:
    """The ledger's row of one ticket: the last revision acted on (or seen, for a no-op that moved it on), the
    hash of the requested fields then acted on, that operation and the cluster it is about."""

    revision: str
    fields: str
    operation_id: str | None = None
    cluster: str | None = None  # the engine's cluster key


def fields_hash(raw_request: Mapping[str, Any]) -> str:
    """The revision of the requested fields: a hash of what the ticket asks for, as the mapping extracted it (the
    request before validation and defaults, so that a new default does not make an old ticket a new request)."""
    canonical = json.dumps(raw_request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ticket_time(revision: str) -> int | datetime | None:
    """The revision as something ordered: a sequence number, or a time (naive times are UTC, as Jira and
    ServiceNow send them); None when it is neither."""
    text = revision.strip()
    if _SEQUENCE.match(text):
        return int(text)
    if len(text) > _MAX_TIME_CHARS or not text[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def is_newer(revision: str, than: str) -> bool:
    """Whether `revision` comes after `than`; False when they cannot be ordered (a number against a time)."""
    candidate, recorded = ticket_time(revision), ticket_time(than)
    if isinstance(candidate, int) and isinstance(recorded, int):
        return candidate > recorded
    if isinstance(candidate, datetime) and isinstance(recorded, datetime):
        return candidate > recorded
    return False


def judge(processed: Processed | None, revision: str, fields: str) -> str | None:
    """None: act on this delivery. Otherwise the reason it is a no-op (one of the sentences above)."""
    if processed is None:
        return None
    if revision.strip() == processed.revision.strip():
        return REPLAYED
    if not is_newer(revision, processed.revision):
        return STALE
    if fields == processed.fields:
        return UNCHANGED
    return None


def older_than_deletion(revision: str, deleted_at: datetime | None) -> bool:
    """Whether a delivery was written before its cluster's deletion. A sequence number cannot be compared with a
    time: then only the ledger's order holds (docs/integrations.md, "Revisions")."""
    when = ticket_time(revision)
    if deleted_at is None or not isinstance(when, datetime):
        return False
    return when <= (deleted_at if deleted_at.tzinfo is not None else deleted_at.replace(tzinfo=UTC))
