"""The example deliveries of docs/events.md are what they say: each `json` block, parsed as the webhook parses a
body, gives the kind named in the "Read as `Kind` ..." sentence just before it, with nothing left unread."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest

from shared.domain.events import (
    AksSystemEvent,
    PoolPressure,
    PreemptNotice,
    SpotPreempted,
    SubscriptionValidation,
    interpret,
)
from shared.services.events.intake import parse_delivery

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "events.md"
KINDS = {cls.__name__: cls for cls in (AksSystemEvent, PoolPressure, PreemptNotice, SpotPreempted,
                                       SubscriptionValidation)}
AKS_KINDS = {"NewKubernetesVersionAvailable", "ClusterSupportEnding", "ClusterSupportEnded",
             "NodePoolRollingStarted", "NodePoolRollingSucceeded", "NodePoolRollingFailed"}
BLOCK = re.compile(r"^```json\n(.*?)^```", re.M | re.S)
# "Read as `Kind`", then for AKS events the event kinds in order: "`A`, `B` and `C`" (may wrap lines).
READ_AS = re.compile(r"Read\s+as\s+`(\w+)`((?:[\s,]*(?:and\s+)?`\w+`)*)\s*:\s*$")


def _examples() -> list[tuple[str, list[str], str, int]]:
    """(kind, AKS event kinds, json text, line) of every json block, with the sentence before it."""
    text, out, previous_end = DOC.read_text(), [], 0
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = READ_AS.search(text[previous_end:match.start()].rstrip())
        assert before, f"docs/events.md:{line}: say what the example is read as ('Read as `Kind`:') before it"
        out.append((before.group(1), re.findall(r"`(\w+)`", before.group(2)), match.group(1), line))
        previous_end = match.end()
    return out


EXAMPLES = _examples()


def _read(body: Any) -> list[Any]:
    batch = parse_delivery(body, {"Content-Type": "application/json"})
    assert batch.problems == ()
    return [e if isinstance(e, SubscriptionValidation) else interpret(e) for e in batch.events]


@pytest.mark.parametrize(("kind", "aks_kinds", "body", "line"), EXAMPLES, ids=[f"line{e[3]}" for e in EXAMPLES])
def test_every_example_delivery_is_read_as_the_kind_it_documents(kind, aks_kinds, body, line):
    events = _read(json.loads(body))
    assert events and all(isinstance(e, KINDS[kind]) for e in events), f"docs/events.md:{line}: {events}"
    for event in events:
        if isinstance(event, AksSystemEvent | PreemptNotice | PoolPressure):
            assert event.cluster_id is not None  # the example maps to a cluster, unlike the published samples
    if kind == "AksSystemEvent":
        assert [e.kind for e in events] == aks_kinds
    if kind == "SubscriptionValidation":
        assert events[0].response() == {"validationResponse": json.loads(body)[0]["data"]["validationCode"]}


def test_the_examples_cover_every_kind_a_caller_may_post():
    kinds = {kind for kind, *_ in EXAMPLES}
    assert kinds == set(KINDS)
    assert {k for _, aks, *_ in EXAMPLES for k in aks} == AKS_KINDS


def test_the_spot_eviction_example_names_its_pool_node_and_node_resource_group():
    body = next(json.loads(b) for kind, _, b, _ in EXAMPLES if kind == "SpotPreempted")
    (event,) = _read(body)
    assert (event.pool, event.node, event.node_resource_group) == (
        "batch", "aks-batch-12345678-vmss000003", "MC_rg-payments-prod_payments-prod_westeurope")
