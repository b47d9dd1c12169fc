"""Inbound events: both schemas, handshakes, limits, problems with JSON pointers, typed interpretations."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.events import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_BATCH,
    AksSystemEvent,
    Envelope,
    PoolPressure,
    PreemptNotice,
    SpotPreempted,
    SubscriptionValidation,
    Unknown,
    interpret,
    node_name,
    parse_cloudevents,
    parse_eventgrid_batch,
    parse_webhook_handshake,
    pool_of_vmss,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eventgrid"
FILES = sorted(FIXTURES.glob("*.json"))
SUB = "00000000-0000-0000-0000-000000000000"
CLUSTER = (f"/subscriptions/{SUB}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerService/"
           "managedClusters/payments-prod")
NODE_RG = "MC_rg-payments-prod_payments-prod_westeurope"
VMSS_INSTANCE = (f"/subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachineScaleSets/"
                 "aks-batch-12345678-vmss/virtualMachines/3")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def parse_fixture(path: Path):
    body = path.read_bytes()
    if path.name.endswith(".eventgrid.json"):
        return parse_eventgrid_batch(b"[" + body + b"]")
    return parse_cloudevents(body)


def synthetic_preempted(target: str = VMSS_INSTANCE, annotation: str = "VirtualMachinePreempted") -> dict[str, Any]:
    """SYNTHETIC: no official sample of a spot eviction exists. This is the docs' ResourceAnnotated sample with
    annotationName VirtualMachinePreempted, context "Platform Initiated", category "Unplanned" and a VMSS instance
    as target, as fixtures/eventgrid/README.md describes."""
    event = fixture("health-resource-annotated.eventgrid.json")
    event["topic"] = f"/subscriptions/{SUB}"
    event["subject"] = target
    props = event["data"]["resourceInfo"]["properties"]
    props.update(targetResourceId=target, annotationName=annotation, context="Platform Initiated",
                 category="Unplanned", targetResourceType="Microsoft.Compute/virtualMachineScaleSets/virtualMachines")
    return event


def custom(kind: str, data: Any, event_id: str = "e1") -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "aksvend-agent/payments-prod", "type": kind,
            "time": "2026-01-01T12:00:00Z", "datacontenttype": "application/json", "data": data}


def validation_event(data: Any) -> dict[str, Any]:
    """As Event Grid sends it: the subject is an empty string."""
    return {"id": "v1", "topic": CLUSTER, "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": "2026-01-01T00:00:00Z", "data": data}


def only(batch) -> Envelope:
    assert batch.problems == ()
    assert len(batch.notifications) == 1
    return batch.notifications[0]


def test_the_shared_fixtures_are_found():
    assert len(FILES) >= 11


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_fixture_parses_without_problems_and_interprets_without_raising(path):
    envelope = only(parse_fixture(path))
    assert isinstance(interpret(envelope), AksSystemEvent | Unknown)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_azure_sdk_accepts_every_fixture_too(path):
    raw = json.loads(path.read_text())
    parsed = EventGridEvent.from_dict(raw) if path.name.endswith(".eventgrid.json") else CloudEvent.from_dict(raw)
    assert parsed.id == only(parse_fixture(path)).id


def test_fixtures_with_placeholder_topics_map_to_no_cluster():
    for name in ("aks-cluster-support-ended.eventgrid.json", "aks-new-kubernetes-version-available.eventgrid.json",
                 "aks-new-kubernetes-version-available.cloudevents.json"):
        event = interpret(only(parse_fixture(FIXTURES / name)))
        assert isinstance(event, AksSystemEvent)
        assert event.cluster_id is None


def test_new_version_event_carries_all_four_versions():
    event = interpret(only(parse_fixture(FIXTURES / "aks-new-kubernetes-version-available.eventgrid.json")))
    assert isinstance(event, AksSystemEvent) and event.versions is not None
    assert (event.versions.latest_supported, event.versions.latest_stable, event.versions.lowest_minor,
            event.versions.latest_preview) == ("1.20.7", "1.19.11", "1.18.19", "1.21.1")


def test_rolling_and_support_events_carry_pool_or_version():
    rolling = interpret(only(parse_fixture(FIXTURES / "aks-node-pool-rolling-failed.eventgrid.json")))
    ending = interpret(only(parse_fixture(FIXTURES / "aks-cluster-support-ending.eventgrid.json")))
    assert isinstance(rolling, AksSystemEvent) and rolling.kind == "NodePoolRollingFailed"
    assert rolling.node_pool == "nodepool1"
    assert isinstance(ending, AksSystemEvent) and ending.kubernetes_version == "1.23.15"


def test_aks_event_with_a_real_cluster_topic_names_the_cluster():
    raw = fixture("aks-node-pool-rolling-succeeded.eventgrid.json") | {"topic": CLUSTER}
    event = interpret(only(parse_eventgrid_batch([raw])))
    assert isinstance(event, AksSystemEvent) and event.cluster_id == CLUSTER


def test_known_aks_type_without_its_data_is_unknown_with_the_reason():
    raw = fixture("aks-node-pool-rolling-failed.eventgrid.json") | {"data": {}}
    event = interpret(only(parse_eventgrid_batch([raw])))
    assert isinstance(event, Unknown) and "nodePoolName" in event.reason


def test_synthetic_spot_eviction_names_node_resource_group_scale_set_instance_and_pool():
    event = interpret(only(parse_eventgrid_batch([synthetic_preempted()])))
    assert isinstance(event, SpotPreempted)
    assert (event.subscription_id, event.node_resource_group, event.vmss_name, event.instance_id, event.pool) == (
        SUB, NODE_RG, "aks-batch-12345678-vmss", "3", "batch")
    assert event.node == "aks-batch-12345678-vmss000003"


def test_deallocation_annotation_is_not_a_spot_eviction():
    raw = synthetic_preempted(annotation="VirtualMachineDeallocationInitiated")
    event = interpret(only(parse_eventgrid_batch([raw])))
    assert isinstance(event, Unknown) and "not a spot eviction" in event.reason


def test_eviction_of_a_plain_vm_or_placeholder_target_is_unknown():
    plain = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    placeholder = fixture("health-resource-annotated.eventgrid.json")["subject"]
    for target in (plain, placeholder):
        event = interpret(only(parse_eventgrid_batch([synthetic_preempted(target)])))
        assert isinstance(event, Unknown) and "not a VMSS instance" in event.reason


def test_eviction_in_a_scale_set_not_named_like_an_aks_pool_is_unknown():
    target = VMSS_INSTANCE.replace("aks-batch-12345678-vmss", "my-own-vmss")
    event = interpret(only(parse_eventgrid_batch([synthetic_preempted(target)])))
    assert isinstance(event, Unknown) and "aks-<pool>-<digits>-vmss" in event.reason


def test_vmss_names_map_back_to_pool_names():
    assert pool_of_vmss("aks-batch-12345678-vmss") == "batch"
    assert pool_of_vmss("AKS-NodePool1-31234567-VMSS") == "nodepool1"
    assert pool_of_vmss("aks-batch-abc-vmss") is None
    assert pool_of_vmss("aks-toolongpoolname1-123-vmss") is None


def test_node_names_use_base36_instance_ids_padded_to_six():
    assert node_name("aks-batch-1-vmss", "0") == "aks-batch-1-vmss000000"
    assert node_name("aks-batch-1-vmss", "35") == "aks-batch-1-vmss00000z"
    assert node_name("aks-batch-1-vmss", "36") == "aks-batch-1-vmss000010"


def test_preempt_notice_is_read_from_a_single_cloudevent():
    body = json.dumps(custom("aksvend.node.preemptNotice",
                             {"clusterId": CLUSTER, "pool": "batch", "node": "aks-batch-12345678-vmss000003"}))
    event = interpret(only(parse_cloudevents(body)))
    assert isinstance(event, PreemptNotice)
    assert (event.cluster_id, event.pool, event.node) == (CLUSTER, "batch", "aks-batch-12345678-vmss000003")


def test_pool_pressure_is_read_from_a_cloudevents_batch():
    batch = parse_cloudevents([custom("aksvend.pool.pressure", {"clusterId": CLUSTER, "pool": "apps",
                                                                "pendingPods": 12})])
    event = interpret(only(batch))
    assert isinstance(event, PoolPressure) and event.pending_pods == 12


@pytest.mark.parametrize(("data", "field"), [
    ({"clusterId": "payments-prod", "pool": "apps", "pendingPods": 1}, "clusterId"),
    ({"clusterId": CLUSTER, "pool": "Apps!", "pendingPods": 1}, "pool"),
    ({"clusterId": CLUSTER, "pool": "apps", "pendingPods": -1}, "pendingPods"),
    ({"clusterId": CLUSTER, "pool": "apps", "pendingPods": True}, "pendingPods"),
    ("not an object", "clusterId"),
])
def test_custom_events_with_bad_data_are_unknown_naming_the_field(data, field):
    event = interpret(only(parse_cloudevents(custom("aksvend.pool.pressure", data))))
    assert isinstance(event, Unknown) and f"data.{field}" in event.reason


def test_subscription_validation_is_recognised_as_a_handshake():
    data = {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            "validationUrl": "https://rp-westeurope.eventgrid.azure.net/x"}
    body = [validation_event(data) | {"dataVersion": "2", "metadataVersion": "1"}]
    batch = parse_eventgrid_batch(json.dumps(body))
    assert batch.problems == () and batch.notifications == ()
    assert isinstance(batch.handshake, SubscriptionValidation)
    assert batch.handshake.response() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}


def test_subscription_validation_without_a_code_is_a_problem_at_its_pointer():
    body = [validation_event({})]
    _, problems = parse_eventgrid_batch(body)
    assert [p.path for p in problems] == ["/0/data/validationCode"]


def test_cloudevents_webhook_handshake_echoes_the_origin():
    origin = "eventgrid.azure.net"
    handshake = parse_webhook_handshake({"webhook-request-origin": origin, "WebHook-Request-Rate": "120"})
    assert handshake is not None and handshake.requested_rate == "120"
    assert handshake.response_headers() == {"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"}
    assert handshake.response_headers(100)["WebHook-Allowed-Rate"] == "100"
    assert parse_webhook_handshake({"Content-Type": "application/json"}) is None


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "BODY_NOT_JSON"),
    (b"\xff\xfe", "BODY_NOT_JSON"),
    ({"id": "1"}, "BODY_NOT_ARRAY"),
    ("[1]", "EVENT_NOT_OBJECT"),
])
def test_malformed_eventgrid_bodies_are_problems_not_exceptions(body, code):
    events, problems = parse_eventgrid_batch(body)
    assert events == () and [p.code for p in problems] == [code]


def test_missing_and_mistyped_fields_are_named_with_their_index_and_pointer():
    good = fixture("aks-cluster-support-ending.eventgrid.json")
    bad = copy.deepcopy(good)
    del bad["eventType"]
    bad["id"] = 42
    bad["eventTime"] = "yesterday"
    events, problems = parse_eventgrid_batch([good, bad])
    assert len(events) == 1
    assert {(p.path, p.code) for p in problems} == {("/1/eventType", "FIELD_MISSING"), ("/1/id", "FIELD_TYPE"),
                                                    ("/1/eventTime", "FIELD_FORMAT")}
    assert all(p.message for p in problems)
    assert "'id' must be a string, not a number" in {p.message for p in problems}


def test_cloudevents_problems_have_no_index_for_a_single_event_and_one_for_a_batch():
    event = {"specversion": "0.3", "id": "1", "type": "t"}
    _, single = parse_cloudevents(event)
    _, batch = parse_cloudevents([custom("t", {}), event])
    assert {p.path for p in single} == {"/specversion", "/source"}
    assert {p.path for p in batch} == {"/1/specversion", "/1/source"}


def test_cloudevents_body_that_is_neither_object_nor_array_is_refused():
    _, problems = parse_cloudevents('"hello"')
    assert [p.code for p in problems] == ["BODY_NOT_EVENT"]


def test_a_batch_of_5001_events_is_refused_whole():
    event = fixture("aks-cluster-support-ending.eventgrid.json")
    events, problems = parse_eventgrid_batch([event] * (MAX_EVENTS_PER_BATCH + 1))
    assert events == ()
    assert [(p.code, p.path) for p in problems] == [("BATCH_TOO_LARGE", "")]
    assert "5001" in problems[0].message


def test_a_batch_of_5000_events_is_accepted():
    events, problems = parse_cloudevents([custom("t", {}, str(i)) for i in range(MAX_EVENTS_PER_BATCH)])
    assert problems == () and len(events) == MAX_EVENTS_PER_BATCH


def test_an_event_over_1_mb_is_refused_but_its_neighbours_are_kept():
    big = custom("t", {"blob": "x" * MAX_EVENT_BYTES}, "big")
    events, problems = parse_cloudevents([custom("t", {}, "small"), big])
    assert [e.id for e in events] == ["small"]
    assert [(p.code, p.path) for p in problems] == [("EVENT_TOO_LARGE", "/1")]


def test_dedupe_key_is_lowercased_topic_and_id_as_sent():
    raw = fixture("aks-cluster-support-ending.eventgrid.json") | {"topic": CLUSTER, "id": "AbC"}
    assert only(parse_eventgrid_batch([raw])).dedupe_key == (CLUSTER.lower(), "AbC")


def test_the_same_event_in_both_schemas_has_the_same_dedupe_key():
    grid = only(parse_fixture(FIXTURES / "aks-new-kubernetes-version-available.eventgrid.json"))
    cloud = only(parse_fixture(FIXTURES / "aks-new-kubernetes-version-available.cloudevents.json"))
    assert grid.schema == "eventgrid" and cloud.schema == "cloudevents"
    assert grid.dedupe_key == cloud.dedupe_key


def test_times_with_seven_or_nine_fraction_digits_or_no_offset_are_read_as_utc():
    grid = only(parse_fixture(FIXTURES / "aks-cluster-support-ending.eventgrid.json"))
    assert grid.time is not None and grid.time.utcoffset() is not None
    naive = only(parse_cloudevents(custom("t", {}) | {"time": "2024-04-16T22:17:12.103268606"}))
    assert naive.time is not None and naive.time.tzinfo is not None


def test_unknown_event_types_are_unknown_with_the_type_in_the_reason():
    event = interpret(only(parse_cloudevents(custom("com.example.other", {}))))
    assert isinstance(event, Unknown) and "com.example.other" in event.reason


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
TYPES = st.sampled_from(["aksvend.node.preemptNotice", "aksvend.pool.pressure",
                         "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated",
                         "Microsoft.ContainerService.NewKubernetesVersionAvailable",
                         "Microsoft.ContainerService.NodePoolRollingFailed", "other"])


@settings(max_examples=200, deadline=None)
@given(body=JSON)
def test_parsers_never_raise_on_any_json(body):
    for parse in (parse_eventgrid_batch, parse_cloudevents):
        events, problems = parse(body)
        assert events or problems or body == []
        for event in events:
            if isinstance(event, Envelope):
                interpret(event)


@settings(max_examples=200, deadline=None)
@given(kind=TYPES, data=JSON, props=st.dictionaries(
    st.sampled_from(["annotationName", "targetResourceId", "occurredTime"]),
    st.sampled_from(["VirtualMachinePreempted", VMSS_INSTANCE, VMSS_INSTANCE.replace("/3", "/٣"), "x", ""]) | JSON))
def test_interpret_never_raises_on_any_data(kind, data, props):
    for payload in (data, {"resourceInfo": {"properties": props}}):
        interpret(Envelope("cloudevents", "s", "i", kind, None, None, payload))
