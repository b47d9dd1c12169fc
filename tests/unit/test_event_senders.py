"""What each sender may deliver (shared/domain/events/senders.py), over the events service's fakes: an Azure system
event from Event Grid only from where its kind is published, an agent's event only about its own cluster; a
delivery with one refused event is refused whole (403) and writes nothing."""

from __future__ import annotations

import pytest

from functions.problems import status_of
from shared.domain.events.senders import Agent, EventGrid
from shared.refusals import NotPermitted
from shared.services.events.store import SEEN_PARTITIONS
from tests.unit.test_events_service import CLUSTER_ID, SUB, aks, custom, make_world, preempted

GRID = EventGrid()
OTHER = CLUSTER_ID.replace("payments-prod", "other")


async def test_a_forged_spot_eviction_from_a_custom_topic_is_refused_and_writes_nothing():
    world = await make_world()
    forged = preempted(0)
    forged["topic"] = f"/subscriptions/{SUB}/resourceGroups/rg-x/providers/Microsoft.EventGrid/topics/evil"
    other_sub = preempted(1)
    other_sub["topic"] = "/subscriptions/11111111-1111-1111-1111-111111111111"  # not the annotated VM's
    for bad in (forged, other_sub):
        with pytest.raises(NotPermitted) as refused:
            await world.deliver([preempted(2), bad], sender=GRID)
        assert status_of(refused.value) == 403 and [v.path for v in refused.value.violations] == ["/1"]
        assert "subscription of the annotated resource" in refused.value.violations[0].message
    assert len(await world.operations()) == 1
    assert not [r for p in SEEN_PARTITIONS for r in await world.table.query_partition(p)]  # nothing marked seen
    genuine = await world.deliver([preempted(3)], sender=GRID)  # its subscription's Health Resources topic
    assert genuine.operations, genuine


async def test_an_aks_event_is_accepted_from_its_cluster_topic_only():
    world = await make_world()
    with pytest.raises(NotPermitted):
        await world.deliver([aks("aks-cluster-support-ending.eventgrid.json", topic=f"/subscriptions/{SUB}")],
                            sender=GRID)
    ok = await world.deliver([aks("aks-cluster-support-ending.eventgrid.json")], sender=GRID)
    assert [o["cluster"] for o in ok.outcomes] and ok.unmapped == 0


async def test_an_agent_acts_for_its_own_cluster_and_sends_its_own_kinds_only():
    world = await make_world()
    agent = Agent(CLUSTER_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"))  # ARM ids compare case-blind
    ok = await world.deliver(custom("aksvend.pool.pressure", {"clusterId": CLUSTER_ID, "pool": "apps",
                                                             "pendingPods": 1}), sender=agent)
    assert ok.received == 1
    for body in (custom("aksvend.pool.pressure", {"clusterId": OTHER, "pool": "apps", "pendingPods": 1}),
                 custom("aksvend.pool.pressure", {"pool": "apps", "pendingPods": 1}),  # names no cluster
                 [aks("aks-cluster-support-ending.eventgrid.json")], [preempted(0)]):
        with pytest.raises(NotPermitted):
            await world.deliver(body, sender=agent)
    with pytest.raises(NotPermitted):  # an agent cannot validate an Event Grid subscription
        await world.deliver([{"id": "v", "topic": CLUSTER_ID, "subject": "", "eventTime": "2026-11-27T00:00:00Z",
                              "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                              "data": {"validationCode": "c"}}], sender=agent)
