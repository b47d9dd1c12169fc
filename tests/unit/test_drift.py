"""Drift, pure (shared/domain/drift.py): what differs between a request and the cluster ARM reports, field by field,
what AKS sets itself and the autoscaler's counts ignored; which operations repair it; when each cluster is due."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain import arm
from shared.domain.drift import Drift, compare, digest, due, offset, repairs, slot, version_drift
from shared.domain.request import ClusterRequest
from shared.domain.rules import check
from tests.requests import PAYMENTS, SUB

SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"


def request_of(raw: dict[str, Any] = PAYMENTS, **changes: Any) -> ClusterRequest:
    request, violations = check({**copy.deepcopy(raw), **changes}, default_subscription_id=SUB)
    assert request is not None, violations
    return request


def as_aks_returns(request: ClusterRequest) -> dict[str, Any]:
    """The managed cluster as AKS answers a GET once it applied `request`: the body aksvend sent, plus what AKS fills
    in itself (versions, spot label and taint, its own labels, more network settings, defaults of every pool)."""
    body = copy.deepcopy(arm.managed_cluster_body(request))
    props = body["properties"]
    props.update(provisioningState="Succeeded", currentKubernetesVersion="1.33.5", fqdn="x.hcp.westeurope.azmk8s.io",
                 nodeResourceGroup="MC_x")
    props["networkProfile"].update(podCidrs=["192.168.0.0/16"], loadBalancerProfile={"managedOutboundIPs": {}})
    for pool in props["agentPoolProfiles"]:
        pool.update(currentOrchestratorVersion="1.33.5", nodeImageVersion="AKSUbuntu-2204", osDiskSizeGB=128,
                    powerState={"code": "Running"})
        pool["nodeLabels"] = {**pool["nodeLabels"], "kubernetes.azure.com/mode": pool["mode"].lower()}
        if pool.get("scaleSetPriority") == "Spot":
            pool["nodeTaints"] = [*pool.get("nodeTaints", []), SPOT_TAINT]
    return body


def pool_of(observed: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in observed["properties"]["agentPoolProfiles"] if p["name"] == name)


def test_a_cluster_as_aks_reports_it_after_applying_the_request_has_no_drift():
    request = request_of()
    assert compare(request, as_aks_returns(request)) == ()


def test_a_fixed_pools_count_changed_behind_aksvends_back_is_drift_that_a_put_pool_repairs():
    request = request_of()
    observed = as_aks_returns(request)
    pool_of(observed, "gpu")["count"] = 7
    assert compare(request, observed) == (Drift("count", 2, 7, "gpu", "put-pool"),)


def test_the_autoscalers_counts_are_not_drift_but_its_bounds_are():
    request = request_of()
    observed = as_aks_returns(request)
    pool_of(observed, "apps")["count"] = 9  # the autoscaler moved it: within {3, 10}
    assert compare(request, observed) == ()
    pool_of(observed, "apps")["maxCount"] = 30
    assert compare(request, observed) == (Drift("autoscale", {"min": 3, "max": 10}, {"min": 3, "max": 30}, "apps",
                                                "put-pool"),)
    pool_of(observed, "apps")["enableAutoScaling"] = False
    assert [d.observed for d in compare(request, observed)] == [None]


def test_a_vm_size_differs_is_reported_but_not_repaired_aks_cannot_change_it_in_place():
    request = request_of()
    observed = as_aks_returns(request)
    pool_of(observed, "gpu")["vmSize"] = "Standard_NC6s_v3"
    (drift,) = compare(request, observed)
    assert (drift.pool, drift.field, drift.desired, drift.observed) == ("gpu", "vmSize", "Standard_NC24ads_A100_v4",
                                                                        "Standard_NC6s_v3")
    assert drift.repair is None and drift.to_dict()["repairable"] is False
    pool_of(observed, "gpu")["vmSize"] = "standard_nc24ads_a100_v4"  # ARM's case is not a difference
    assert compare(request, observed) == ()


def test_taints_and_labels_compare_the_requests_own_and_ignore_what_aks_adds():
    request = request_of()
    observed = as_aks_returns(request)
    gpu = pool_of(observed, "gpu")
    gpu["nodeTaints"] = ["kubernetes.azure.com/anything=x:NoSchedule"]  # the user's taint removed, an AKS one added
    gpu["nodeLabels"]["team"] = "ml"
    drifts = compare(request, observed)
    assert [(d.field, d.desired, d.observed, d.repair) for d in drifts] == [
        ("nodeTaints", ["sku=gpu:NoSchedule"], [], "put-pool"),
        ("nodeLabels", {"aksvend.io/workload": "gpu"}, {"aksvend.io/workload": "gpu", "team": "ml"}, "put-pool"),
    ]


def test_a_requested_pool_missing_is_repaired_and_a_pool_nobody_asked_for_only_reported():
    request = request_of()
    observed = as_aks_returns(request)
    profiles = observed["properties"]["agentPoolProfiles"]
    profiles[:] = [p for p in profiles if p["name"] != "win1"] + [{**pool_of(observed, "gpu"), "name": "extra"}]
    assert compare(request, observed) == (Drift("pool", "present", "absent", "win1", "put-pool"),
                                          Drift("pool", "absent", "present", "extra"))


def test_a_cluster_deleted_outside_aksvend_is_drift_that_nothing_repairs():
    drifts = compare(request_of(), None)
    assert drifts == (Drift("cluster", "present", "absent"),)
    assert repairs(drifts) == []


def test_the_network_profile_is_compared_on_what_aksvend_sends_and_never_repaired():
    request = request_of()
    observed = as_aks_returns(request)
    observed["properties"]["networkProfile"]["serviceCidr"] = "10.1.0.0/16"
    observed["properties"]["networkProfile"]["networkPolicy"] = "cilium"  # not sent by aksvend: AKS's or someone's
    assert compare(request, observed) == (Drift("networkProfile.serviceCidr", "10.0.0.0/16", "10.1.0.0/16"),)


def test_a_control_plane_behind_is_repaired_by_an_upgrade_and_a_pool_behind_by_its_put_pool():
    request = request_of(kubernetesVersion="1.34")
    observed = as_aks_returns(request)
    observed["properties"]["currentKubernetesVersion"] = "1.33.5"
    pool_of(observed, "gpu")["currentOrchestratorVersion"] = "1.33.5"
    pool_of(observed, "system")["currentOrchestratorVersion"] = "1.34.1"  # the rest are 1.33.5 too
    drifts = compare(request, observed)
    assert drifts[0] == Drift("kubernetesVersion", "1.34", "1.33.5", repair="upgrade")
    assert {d.pool for d in drifts if d.field == "orchestratorVersion"} == {"apps", "gpu", "batch", "win1"}
    assert repairs(drifts) == [("upgrade", None), ("put-pool", "apps"), ("put-pool", "batch"), ("put-pool", "gpu"),
                               ("put-pool", "win1")]


@pytest.mark.parametrize(("desired", "observed", "channel", "expected"), [
    ("1.33", "1.33.5", "none", None),  # met at the precision the request gives
    ("1.33", "1.32.9", "patch", "behind"),
    ("1.33.2", "1.33.1", "stable", "behind"),
    ("1.33.2", "1.33.5", "patch", None),  # AKS's patch channel moved it
    ("1.33.2", "1.33.5", "none", "ahead"),  # nobody was to move it
    ("1.33", "1.34.1", "patch", "ahead"),
    ("1.33", "1.34.1", "stable", None),
    ("1.33", "1.34.1", "node-image", "ahead"),
    ("1.33", None, "patch", "behind"),  # ARM says nothing: not what was asked
])
def test_version_drift(desired, observed, channel, expected):
    assert version_drift(desired, observed, channel) == expected


def test_a_version_ahead_is_reported_and_never_downgraded():
    request = request_of(reactions={"autoUpgrade": "none"})
    observed = as_aks_returns(request)
    observed["properties"]["currentKubernetesVersion"] = "1.34.0"
    assert compare(request, observed) == (Drift("kubernetesVersion", "1.33", "1.34.0"),)


def test_repairs_are_one_put_pool_per_pool_and_the_digest_tells_drift_sets_apart():
    drifts = [Drift("count", 2, 7, "gpu", "put-pool"), Drift("nodeLabels", {}, {"a": "b"}, "gpu", "put-pool"),
              Drift("vmSize", "a", "b", "apps")]
    assert repairs(drifts) == [("put-pool", "gpu")]
    assert digest(drifts) == digest(list(drifts)) != digest(drifts[:1])


# ---- the schedule ----------------------------------------------------------------------------------------------
INTERVAL = timedelta(minutes=30)
NOW = datetime(2026, 3, 1, 12, 7, 13, tzinfo=UTC)


def test_each_cluster_has_a_stable_slot_within_the_interval_and_the_slots_spread_over_it():
    keys = [f"{SUB}:rg:c{i}" for i in range(600)]
    assert all(timedelta(0) <= offset(k, INTERVAL) < INTERVAL for k in keys)
    assert offset(keys[0], INTERVAL) == offset(keys[0], INTERVAL)
    for key in keys[:20]:
        at = slot(key, NOW, INTERVAL)
        assert NOW - INTERVAL < at <= NOW
        assert slot(key, at + INTERVAL - timedelta(seconds=1), INTERVAL) == at  # the same until the next one
        assert slot(key, at + INTERVAL, INTERVAL) == at + INTERVAL
    buckets = {int(offset(k, INTERVAL) / timedelta(minutes=3)) for k in keys}
    assert buckets == set(range(10))  # every tenth of the interval has clusters: no thundering herd


def test_due_are_the_clusters_not_checked_since_their_slot_longest_waiting_first_and_at_most_the_limit():
    keys = [f"{SUB}:rg:c{i}" for i in range(50)]
    never = datetime(2000, 1, 1, tzinfo=UTC)
    last = {k: never for k in keys}
    chosen = due(last, NOW, INTERVAL, limit=10)
    assert len(chosen) == 10
    slots = [slot(k, NOW, INTERVAL) for k in chosen]
    assert slots == sorted(slots) and max(slots) <= min(slot(k, NOW, INTERVAL) for k in keys if k not in chosen)
    checked = {k: slot(k, NOW, INTERVAL) + timedelta(seconds=1) for k in keys}  # all checked after their slot
    assert due(checked, NOW, INTERVAL, limit=100) == []
    assert sorted(due(checked, NOW + INTERVAL, INTERVAL, limit=100)) == sorted(keys)  # all due again one later


def test_the_drift_kept_in_a_row_and_an_event_is_bounded():
    """The attack: 100 pools added outside aksvend made the drift row too large to save, and the failing check
    stopped every later cluster's check; now a row keeps the first drifts that fit (and `driftCount`)."""
    from shared.services.drift import MAX_SHOWN_CHARS, bounded

    many = [{"pool": f"p{i:03d}", "field": "pool", "desired": "absent", "observed": {"labels": {"k": "v" * 500}},
             "repairable": False} for i in range(100)]
    kept = bounded(many)
    assert 0 < len(kept) < len(many) and kept == many[:len(kept)]
    assert len(json.dumps(kept)) <= MAX_SHOWN_CHARS
