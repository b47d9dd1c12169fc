"""`GET /api/clusters` reads the registry a page at a time (shared/services/listing.py `read_page`): a page costs
about `$top` records read (the `state` filter is the table's), never the whole registry; the other filters and the
policy still hold, tokens chain through every match once, and a caller who may read few of many clusters gets
bounded pages (`MAX_SCAN`) whose tokens go on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.engine import ClusterRegistry
from shared.engine.records import ClusterRecord, cluster_key
from shared.refusals import MalformedInput
from shared.services import listing
from tests.fakes import FakeStateStore

SUB = "00000000-0000-0000-0000-000000000001"
OWNER = "6f1c2b4e-0000-4000-8000-00000000abcd"


async def _registry(n: int) -> tuple[ClusterRegistry, FakeStateStore]:
    table = FakeStateStore()
    registry = ClusterRegistry(table)
    for i in range(n):
        rg, name = f"rg-{i % 3}", f"c{i:04}"
        request = {"name": name, "resourceGroup": rg, "tags": {"team": "shop" if i % 5 == 0 else "web"},
                   **({"access": {"ownerGroup": OWNER}} if i % 7 == 0 else {})}
        await registry.create_or_get(ClusterRecord(cluster_key(SUB, rg, name), SUB, rg, name, "westeurope",
                                                   "failed" if i % 4 == 0 else "ready", request, "h",
                                                   updated_at=datetime(2026, 11, 29, tzinfo=UTC)))
    table.range_reads = 0
    return registry, table


async def _all_pages(registry: ClusterRegistry, params: list[tuple[str, str]], readable=lambda c: True):  # type: ignore[no-untyped-def]
    seen, token, pages = [], None, 0
    while True:
        query = listing.parse_query(params + ([("continuationToken", token)] if token else []))
        shown, token = await listing.read_page(registry, query, readable)
        seen += [c.name for c in shown]
        pages += 1
        if token is None:
            return seen, pages


async def test_a_page_reads_about_a_page_not_the_registry():
    registry, table = await _registry(600)
    shown, token = await listing.read_page(registry, listing.parse_query([("$top", "10")]), lambda c: True)
    assert [c.name for c in shown] == [c.name for c in sorted(await registry.all(), key=lambda c: c.key)][:10]
    assert token is not None and table.range_reads <= 11 + 11  # the page and the one match that says more follow
    table.range_reads = 0
    failed, _ = await listing.read_page(registry, listing.parse_query([("state", "failed"), ("$top", "5")]),
                                        lambda c: True)
    assert all(c.state == "failed" for c in failed) and len(failed) == 5
    assert table.range_reads <= 6  # the table filters on state: no ready record is read


async def test_the_pages_chain_through_every_match_once_in_key_order_with_all_filters():
    registry, _ = await _registry(120)
    records = sorted(await registry.all(), key=lambda c: c.key)
    params = [("tag", "team:shop"), ("resourceGroup", "RG-1"), ("$top", "3")]
    expected = [c.name for c in records if c.request["tags"]["team"] == "shop" and c.resource_group == "rg-1"]
    seen, pages = await _all_pages(registry, params)
    assert seen == expected and pages == -(-len(expected) // 3)
    owned, _ = await _all_pages(registry, [("owner", OWNER), ("state", "ready"), ("$top", "4")])
    assert owned == [c.name for c in records if c.request.get("access") and c.state == "ready"]
    assert owned == [c.name for c in listing.page(records, listing.parse_query(
        [("owner", OWNER), ("state", "ready"), ("$top", "200")]))[0]]  # the same as the whole-list filter


async def test_a_caller_who_may_read_few_of_many_gets_bounded_pages_whose_tokens_go_on(monkeypatch):
    monkeypatch.setattr(listing, "MAX_SCAN", 50)
    registry, table = await _registry(400)
    readable = [c for c in sorted(await registry.all(), key=lambda c: c.key) if c.name in ("c0007", "c0391")]
    query = listing.parse_query([("$top", "10")])
    shown, token = await listing.read_page(registry, query, lambda c: c.name in ("c0007", "c0391"))
    assert [c.name for c in shown] == [] and token is not None and table.range_reads <= 50  # c0007 is rg-1
    seen, pages = await _all_pages(registry, [("$top", "10")], lambda c: c.name in ("c0007", "c0391"))
    assert seen == [c.name for c in readable] and pages == 9  # 400 records, 50 a page, then one finding the end


async def test_a_token_for_other_filters_or_edited_is_still_refused():
    registry, _ = await _registry(30)
    _, token = await listing.read_page(registry, listing.parse_query([("state", "ready"), ("$top", "2")]),
                                       lambda c: True)
    assert token is not None
    with pytest.raises(MalformedInput) as refused:
        listing.parse_query([("state", "failed"), ("continuationToken", token)])
    assert refused.value.code == "InvalidContinuationToken"
