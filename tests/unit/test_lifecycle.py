"""Outbound lifecycle events (shared.domain.lifecycle): types, sources, deterministic ids, ticket references."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.domain import lifecycle
from shared.domain.lifecycle import ClusterRef, LifecycleEvent, PoolSummary
from shared.domain.rules import check
from shared.domain.tickets import TicketRef
from shared.domain.violations import Violation
from tests.requests import PAYMENTS, SUB

CLUSTER = ClusterRef(SUB, "rg-payments-prod", "payments-prod")
TICKET = TicketRef("jira", "OPS-42", "2026-03-01T11:58:02.113+0000", "https://contoso.atlassian.net/browse/OPS-42")
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def all_builders(ticket: TicketRef | None, time: datetime = T0) -> list[LifecycleEvent]:
    return [
        lifecycle.operation_accepted(CLUSTER, "op-1", "create", time=time, ticket=ticket),
        lifecycle.operation_succeeded(CLUSTER, "op-1", "create", time=time, ticket=ticket),
        lifecycle.operation_failed(CLUSTER, "op-1", "create", code="QuotaExceeded", message="quota", time=time,
                                   ticket=ticket),
        lifecycle.cluster_provisioned(CLUSTER, "op-1", location="westeurope", kubernetes_version="1.33",
                                      pools=[PoolSummary("system", "Standard_D4s_v5", 3, "System")], time=time,
                                      ticket=ticket),
        lifecycle.pool_scaled(CLUSTER, "op-2", pool="apps", from_count=5, to_count=8, reason="pressure", time=time,
                              ticket=ticket),
        lifecycle.spot_replaced(CLUSTER, "op-3", spot_pool="batch", fallback_pool="batchod", fallback_count=4,
                                time=time, ticket=ticket),
        lifecycle.upgrade_available(CLUSTER, current_version="1.33.1", available_version="1.33.4", time=time,
                                    ticket=ticket),
        lifecycle.cluster_drifted(CLUSTER, drift=[{"pool": "apps", "field": "count", "desired": 3, "observed": 5,
                                                   "repairable": True}], policy="report", operations=[],
                                  checked_at=T0, time=time, ticket=ticket),
    ]


def test_every_documented_event_type_has_a_builder() -> None:
    assert [e.type for e in all_builders(None)] == list(lifecycle.EVENT_TYPES)
    assert set(lifecycle.EVENT_TYPES) == {
        "aksvend.operation.accepted", "aksvend.operation.succeeded", "aksvend.operation.failed",
        "aksvend.cluster.provisioned", "aksvend.pool.scaled", "aksvend.spot.replaced",
        "aksvend.cluster.upgradeAvailable", "aksvend.cluster.drifted",
    }


def test_events_are_about_the_cluster_by_source_and_subject() -> None:
    for event in all_builders(None):
        assert event.source == f"/aksvend/clusters/{SUB}/rg-payments-prod/payments-prod"
        assert event.subject == (f"/subscriptions/{SUB}/resourceGroups/rg-payments-prod/providers/"
                                 "Microsoft.ContainerService/managedClusters/payments-prod")
        assert event.data["cluster"]["name"] == "payments-prod"


def test_ids_are_deterministic_so_retried_transitions_do_not_duplicate() -> None:
    first = [e.id for e in all_builders(TICKET)]
    again = [e.id for e in all_builders(TICKET, time=T0 + timedelta(minutes=5))]
    assert first == again
    assert len(set(first)) == len(first)


def test_ids_differ_by_what_the_event_is_about() -> None:
    scaled_apps = lifecycle.pool_scaled(CLUSTER, "op-5", pool="apps", from_count=1, to_count=2, reason="r", time=T0)
    scaled_gpu = lifecycle.pool_scaled(CLUSTER, "op-5", pool="gpu", from_count=1, to_count=2, reason="r", time=T0)
    other_op = lifecycle.operation_accepted(CLUSTER, "op-9", "create", time=T0)
    newer = lifecycle.upgrade_available(CLUSTER, current_version="1.33.1", available_version="1.34.0", time=T0)
    ids = {scaled_apps.id, scaled_gpu.id, other_op.id, newer.id, *(e.id for e in all_builders(None))}
    assert len(ids) == 4 + len(lifecycle.EVENT_TYPES)


def test_ids_are_uuids() -> None:
    for event in all_builders(None):
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", event.id)


def test_the_ticket_reference_is_carried_in_data_and_as_filterable_extensions() -> None:
    for event in all_builders(TICKET):
        assert event.data["ticket"] == TICKET.to_dict()
        assert event.extensions == {"ticketsystem": "jira", "ticketkey": "OPS-42"}
        assert event.ticket == TICKET


def test_without_a_ticket_there_is_no_ticket_reference() -> None:
    for event in all_builders(None):
        assert "ticket" not in event.data
        assert event.extensions == {}
        assert event.ticket is None


def test_failed_carries_the_arm_code_message_and_target() -> None:
    event = lifecycle.operation_failed(CLUSTER, "op-1", "create", code="SkuNotAvailable",
                                       message="The requested VM size is not available in westeurope.",
                                       target="/subscriptions/x/agentPools/gpu", time=T0, ticket=TICKET)
    assert event.data["error"] == {"code": "SkuNotAvailable",
                                   "message": "The requested VM size is not available in westeurope.",
                                   "target": "/subscriptions/x/agentPools/gpu"}
    assert event.data["status"] == "Failed"


def test_very_long_arm_messages_are_cut_to_fit_the_outbox() -> None:
    event = lifecycle.operation_failed(CLUSTER, "op-1", "create", code="X", message="m" * 100_000, time=T0)
    assert len(event.data["error"]["message"]) == 4000


def test_provisioned_lists_the_pools_of_the_request() -> None:
    request, _ = check(PAYMENTS, default_subscription_id=SUB)
    assert request is not None
    event = lifecycle.cluster_provisioned(ClusterRef.of(request), "op-1", location=request.location,
                                          kubernetes_version=request.kubernetes_version,
                                          pools=lifecycle.pools_of(request), time=T0)
    pools = {p["name"]: p for p in event.data["pools"]}
    assert pools["system"] == {"name": "system", "vmSize": "Standard_D4s_v5", "count": 3, "mode": "System",
                               "spot": False}
    assert pools["batch"]["spot"] is True
    assert event.source == ClusterRef(SUB, "rg-payments-prod", "payments-prod").source


def test_to_dict_is_a_cloudevent_with_rfc3339_utc_time() -> None:
    cet = timezone(timedelta(hours=1))
    event = lifecycle.operation_accepted(CLUSTER, "op-1", "create", time=datetime(2026, 3, 1, 13, 0, tzinfo=cet),
                                         ticket=TICKET)
    as_dict = event.to_dict()
    assert as_dict["specversion"] == "1.0"
    assert as_dict["time"] == "2026-03-01T12:00:00.000Z"
    assert as_dict["datacontenttype"] == "application/json"
    assert as_dict["ticketsystem"] == "jira"
    json.dumps(as_dict)  # serialisable as is


def test_from_dict_round_trips() -> None:
    for event in all_builders(TICKET):
        assert LifecycleEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event


def test_naive_times_are_refused() -> None:
    event = lifecycle.operation_accepted(CLUSTER, "op-1", "create", time=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        event.to_dict()


def test_a_rejected_ticket_is_an_operation_failed_event_with_the_violations() -> None:
    violations = [Violation("SCHEMA_RANGE", "/userPools/0/count", "'count': must be >= 0"),
                  Violation("SYSTEM_POOL_SINGLE_NODE", "/systemPool/count", "one node", severity="warning")]
    event = lifecycle.ticket_rejected(TICKET, idempotency_key="ticket-jira-abc", violations=violations, time=T0)
    assert event.type == lifecycle.OPERATION_FAILED
    assert event.source == "/aksvend/tickets/jira"
    assert event.subject == "OPS-42"
    assert event.data["operationId"] is None
    assert event.data["error"]["code"] == "InvalidRequest"
    assert "/userPools/0/count" in event.data["error"]["message"]
    assert "one node" not in event.data["error"]["message"]  # the summary names errors, not warnings
    assert [v["code"] for v in event.data["violations"]] == ["SCHEMA_RANGE", "SYSTEM_POOL_SINGLE_NODE"]
    again = lifecycle.ticket_rejected(TICKET, idempotency_key="ticket-jira-abc", violations=violations,
                                      time=T0 + timedelta(hours=1))
    assert again.id == event.id


def test_a_rejected_ticket_lists_at_most_fifty_violations() -> None:
    violations = [Violation("X", f"/tags/t{i}", "bad") for i in range(80)]
    event = lifecycle.ticket_rejected(TICKET, idempotency_key="k", violations=violations, time=T0)
    assert len(event.data["violations"]) == 50
