"""Once per revision: which deliveries of a ticket are acted on (the pure rule), the ledger that remembers them
(over a fake table), and handle_ticket with both (over a fake engine)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.tickets import TicketRef
from shared.domain.tickets.revision import (
    BEFORE_DELETION,
    REPLAYED,
    STALE,
    UNCHANGED,
    Processed,
    fields_hash,
    is_newer,
    judge,
    older_than_deletion,
    ticket_time,
)
from shared.engine.records import ClusterRecord
from shared.services.ticket_ledger import TicketLedger, ledger_address
from shared.services.tickets import TicketAccepted, TicketInvalid, TicketUnchanged
from tests.fakes import FakeClock, FakeStateStore
from tests.unit.test_handle_ticket import NOW, FakeEngine, RecordingPublisher, deliver, signed

# --- the rule ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("3", 3),
    (" 12 ", 12),
    ("2026-03-01T11:58:02.113+0000", datetime(2026, 3, 1, 11, 58, 2, 113000, tzinfo=UTC)),
    ("2026-03-01T11:58:02Z", datetime(2026, 3, 1, 11, 58, 2, tzinfo=UTC)),
    ("2026-03-01 11:58:02", datetime(2026, 3, 1, 11, 58, 2, tzinfo=UTC)),  # ServiceNow: naive is UTC
    ("2026-03-01T13:58:02+02:00", datetime(2026, 3, 1, 11, 58, 2, tzinfo=UTC)),
    ("abc", None), ("v2", None), ("-1", None), ("1.5", None), ("2026-13-01", None), ("9" * 19, None),
])
def test_a_revision_is_a_sequence_number_or_a_time(text: str, expected: object) -> None:
    assert ticket_time(text) == expected


def test_revisions_of_different_kinds_are_never_newer_than_one_another() -> None:
    assert is_newer("2", "1") and not is_newer("1", "2") and not is_newer("1", "1")
    assert is_newer("2026-03-01 12:00:00", "2026-03-01T11:59:59Z")
    assert not is_newer("2026-03-01 12:00:00", "3") and not is_newer("3", "2026-03-01 12:00:00")
    assert not is_newer("later", "earlier")


ACTED = Processed("2026-03-01T12:00:00Z", "f1", "op-1", "sub:rg:c")


@pytest.mark.parametrize(("processed", "revision", "fields", "outcome"), [
    (None, "2026-03-01T11:00:00Z", "f1", None),  # the first delivery of a ticket: act
    (ACTED, "2026-03-01T12:00:00Z", "f1", REPLAYED),  # a retry or a replay
    (ACTED, "2026-03-01T12:00:00Z", "f2", REPLAYED),  # the same revision cannot ask for two things
    (ACTED, "2026-03-01T11:00:00Z", "f2", STALE),  # an older edit, delivered late or replayed
    (ACTED, "7", "f2", STALE),  # cannot be ordered against the revision acted on
    (ACTED, "2026-03-01T13:00:00Z", "f1", UNCHANGED),  # a status change, a comment
    (ACTED, "2026-03-01T13:00:00Z", "f2", None),  # an edit: act
])
def test_a_ticket_is_acted_on_once_per_revision_of_its_requested_fields(processed: Processed | None, revision: str,
                                                                        fields: str, outcome: str | None) -> None:
    assert judge(processed, revision, fields) == outcome


def test_the_fields_hash_is_the_request_not_its_spelling() -> None:
    assert fields_hash({"a": 1, "b": {"c": [1, 2]}}) == fields_hash(json.loads('{"b": {"c": [1, 2]}, "a": 1}'))
    assert fields_hash({"a": 1}) != fields_hash({"a": 2})


def test_only_a_time_can_be_older_than_a_deletion() -> None:
    deleted = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert older_than_deletion("2026-03-01T11:59:59Z", deleted) and older_than_deletion("2026-03-01 12:00:00", deleted)
    assert not older_than_deletion("2026-03-01T12:00:01Z", deleted)
    assert not older_than_deletion("41", deleted) and not older_than_deletion("2026-03-01T11:00:00Z", None)


# --- the ledger ----------------------------------------------------------------------------------------------------

REF = TicketRef("jira", "OPS-42", "2026-03-01T12:00:00Z")


def ledger(clusters: dict[str, ClusterRecord] | None = None) -> TicketLedger:
    async def lookup(key: str) -> ClusterRecord | None:
        return (clusters or {}).get(key)

    return TicketLedger(FakeStateStore(), lookup, FakeClock(NOW))


def at(revision: str) -> TicketRef:
    return TicketRef(REF.system, REF.key, revision)


async def test_a_status_change_moves_the_revision_on_so_an_older_edit_stays_older() -> None:
    book = ledger()
    await book.acted(REF, "f1", "op-1", "k")
    moved = await book.judge(at("2026-03-01T14:00:00Z"), "f1")
    assert moved is not None and (moved.reason, moved.operation_id) == (UNCHANGED, "op-1")
    # An edit written between the two, arriving after the status change: older than what was seen.
    late = await book.judge(at("2026-03-01T13:00:00Z"), "f2")
    assert late is not None and late.reason == STALE


async def test_a_slower_older_delivery_does_not_overwrite_a_newer_revision() -> None:
    book = ledger()
    await book.acted(at("2026-03-01T14:00:00Z"), "f2", "op-2", "k")
    await book.acted(REF, "f1", "op-1", "k")  # submitted before, recorded after
    row = await book.store.get(*ledger_address(REF))
    assert row is not None and (row.entity["revision"], row.entity["operationId"]) == ("2026-03-01T14:00:00Z", "op-2")


async def test_the_row_is_keyed_by_a_hash_of_the_ticket_so_any_ticket_key_is_a_table_key() -> None:
    book = ledger()
    odd = TicketRef("github", "octo/repo#17?x\\y", "1")
    await book.acted(odd, "f", "op", "k")
    partition, row = ledger_address(odd)
    assert partition == "ticket-github" and all(c in "0123456789abcdef" for c in row)
    assert (await book.judge(odd, "f")) is not None


async def test_a_delivery_written_before_the_clusters_deletion_is_known_as_such() -> None:
    gone = ClusterRecord("sub:rg:c", "sub", "rg", "c", "westeurope", "deleted", {}, "h",
                         updated_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    book = ledger({"sub:rg:c": gone})
    known = await book.deleted_since(at("2026-03-01T12:10:00Z"), "sub:rg:c")
    assert known is not None and known.reason == BEFORE_DELETION and known.cluster == {
        "subscriptionId": "sub", "resourceGroup": "rg", "name": "c", "state": "deleted"}
    assert await book.deleted_since(at("2026-03-01T12:31:00Z"), "sub:rg:c") is None
    assert await book.deleted_since(at("2026-03-01T12:10:00Z"), "sub:rg:other") is None


# --- through handle_ticket ---------------------------------------------------------------------------------------


def generic(revision: str, **request: object) -> bytes:
    return json.dumps({"ticket": {"id": "CHG-1", "revision": revision},
                       "request": {"name": "tix", "resourceGroup": "rg-tix", "location": "westeurope",
                                   "profile": "development", **request}}).encode()


async def test_a_revision_that_cannot_be_ordered_is_refused_and_the_ticket_is_told() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = generic("draft-b")
    outcome = await deliver("generic", body, signed("generic", body), engine, publisher)
    assert isinstance(outcome, TicketInvalid) and engine.calls == []
    [violation] = outcome.violations
    assert (violation.code, violation.path) == ("TICKET_REVISION", "/ticket/revision")
    assert [e.data["error"]["code"] for e in publisher.events] == ["InvalidRequest"]


async def test_an_edit_is_acted_on_and_a_later_status_change_is_not() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    outcomes = []
    for body in (generic("1"), generic("2", tags={"owner": "a"}), generic("3", tags={"owner": "a"}),
                 generic("2", tags={"owner": "b"})):
        outcomes.append(await deliver("generic", body, signed("generic", body), engine, publisher))
    assert [type(o) for o in outcomes] == [TicketAccepted, TicketAccepted, TicketUnchanged, TicketUnchanged]
    assert len(engine.calls) == 2 and publisher.events == []
    assert [o.reason for o in outcomes[2:] if isinstance(o, TicketUnchanged)] == [UNCHANGED, STALE]


async def test_a_first_delivery_older_than_the_clusters_deletion_creates_nothing() -> None:
    engine, publisher = FakeEngine(), RecordingPublisher()
    engine.clusters["00000000-0000-0000-0000-000000000000:rg-tix:tix"] = ClusterRecord(
        "00000000-0000-0000-0000-000000000000:rg-tix:tix", "s", "rg-tix", "tix", "westeurope", "deleted", {}, "h",
        updated_at=NOW - timedelta(minutes=5))
    old = json.dumps({"ticket": {"id": "CHG-1", "revision": (NOW - timedelta(hours=1)).isoformat()},
                      "request": json.loads(generic("1"))["request"]}).encode()
    outcome = await deliver("generic", old, signed("generic", old), engine, publisher)
    assert isinstance(outcome, TicketUnchanged) and outcome.reason == BEFORE_DELETION
    assert engine.calls == [] and publisher.events == []
