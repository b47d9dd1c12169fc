"""Private DNS zones that clusters share, in the engine over fakes: a zone two clusters of one resource group use stays
while another VNet link is in it, a central zone's links are named by the VNet they link (two teams' clusters of one
name keep one link each), and a link that names another VNet is never deleted (shared/engine/target_rules.py)."""

from __future__ import annotations

import pytest

from shared.domain import arm
from shared.engine import submit
from tests.fakes import FakeArm, drain, engine_over_fakes, state
from tests.requests import MINIMAL_PRODUCTION, STORAGE, SUB, valid_request

ZONE = (f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/"
        "privatelink.blob.core.windows.net")


def request(name: str, group: str = "rg-shop", central: bool = False):
    network = {"privateEndpoints": [{"name": "data", "groupId": "blob", "targetResourceId": STORAGE}]}
    if central:
        network |= {"privateDnsZones": {"blob": ZONE}, "linkPrivateDnsZones": True}
    return valid_request({**MINIMAL_PRODUCTION, "name": name, "resourceGroup": group, "network": network})


@pytest.fixture
def world():
    engine, queue, fake, _clock = engine_over_fakes()
    return engine, queue, fake


async def run(engine, queue, kind, r) -> str:
    op = (await submit(engine, kind, r)).operation_id
    await drain(engine, queue)
    assert await state(engine, op) == "succeeded"
    return op


def links(fake: FakeArm) -> dict[str, str]:
    return {k.rsplit("/", 1)[1]: v["properties"]["virtualNetwork"]["id"] for k, v in fake.resources.items()
            if "/virtualnetworklinks/" in k}


async def skipped(engine, op: str) -> list[str]:
    return [t.message for t in await engine.history.read(op, 100) if t.kind == "skipped"]


async def test_a_zone_two_clusters_of_one_group_use_stays_until_the_last_link_goes(world):
    engine, queue, fake = world
    one, two = request("shop-a"), request("shop-b")
    for r in (one, two):
        await run(engine, queue, "create-cluster", r)
    zone = next(k for k in fake.resources if k.endswith("/privatednszones/privatelink.blob.core.windows.net"))
    op = await run(engine, queue, "delete-cluster", one)
    assert zone in fake.resources and list(links(fake).values()) == [arm.ids(two)["vnet"]]
    left = await skipped(engine, op)
    assert len(left) == 1 and left[0].startswith("delete:dnsZone:blob") and "1 VNet link" in left[0]
    op = await run(engine, queue, "delete-cluster", two)
    assert zone not in fake.resources and links(fake) == {} and await skipped(engine, op) == []


async def test_same_named_clusters_of_two_teams_keep_one_link_each_in_a_central_zone(world):
    engine, queue, fake = world
    fake.resources[ZONE.lower()] = {"id": ZONE, "properties": {}}
    a, b = request("aks", "rg-team-a", central=True), request("aks", "rg-team-b", central=True)
    for r in (a, b):
        await run(engine, queue, "create-cluster", r)
    assert sorted(links(fake).values()) == sorted([arm.ids(a)["vnet"], arm.ids(b)["vnet"]])
    assert all(name.startswith("link-vnet-aks-") and len(name) == len("link-vnet-aks-") + 8 for name in links(fake))
    await run(engine, queue, "delete-cluster", b)
    assert list(links(fake).values()) == [arm.ids(a)["vnet"]] and ZONE.lower() in fake.resources


async def test_a_link_that_names_another_vnet_is_left(world):
    engine, queue, fake = world
    fake.resources[ZONE.lower()] = {"id": ZONE, "properties": {}}
    r = request("aks", "rg-team-a", central=True)
    await run(engine, queue, "create-cluster", r)
    (key,) = [k for k in fake.resources if "/virtualnetworklinks/" in k]
    theirs = arm.ids(r)["vnet"].replace("rg-team-a", "rg-team-z")
    fake.resources[key]["properties"]["virtualNetwork"] = {"id": theirs}  # repointed outside aksvend
    op = await run(engine, queue, "delete-cluster", r)
    assert key in fake.resources
    assert any(m.startswith("delete:dnsLink:blob") and theirs in m for m in await skipped(engine, op))


async def test_a_link_made_under_the_old_name_is_deleted_when_it_names_the_vnet(world):
    """Links were named link-<vnet name> before they were named by a hash: a cluster made then is deleted cleanly."""
    engine, queue, fake = world
    r = request("shop-a")
    await run(engine, queue, "create-cluster", r)
    (key,) = [k for k in fake.resources if "/virtualnetworklinks/" in k]
    fake.resources[key.rsplit("-", 1)[0]] = fake.resources.pop(key)  # as an older aksvend named it
    op = await run(engine, queue, "delete-cluster", r)
    assert links(fake) == {} and await skipped(engine, op) == []
    assert not any("/privatednszones/" in k for k in fake.resources)


async def test_the_link_of_an_existing_vnet_two_clusters_share_stays_when_one_is_deleted(world):
    """Second attack review: two clusters on one existing spoke VNet share its link to the zone (a VNet links to a
    zone once, and the link is named by the VNet); deleting one deleted the link, then the zone, and the other
    cluster's private endpoint no longer resolved. A link of an existing VNet now lives as long as the network."""
    engine, queue, fake = world
    spoke = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-spoke"

    def on_spoke(name: str, subnet: str):
        return valid_request({**MINIMAL_PRODUCTION, "name": name, "resourceGroup": "rg-shop", "network": {
            "existing": {"nodeSubnetId": f"{spoke}/subnets/{subnet}", "privateEndpointSubnetId": f"{spoke}/subnets/pe"},
            "serviceEndpoints": [], "privateEndpoints": [{"name": f"d{name[-1]}", "groupId": "blob",
                                                          "targetResourceId": STORAGE}]}})

    one, two = on_spoke("shop-a", "snet-a"), on_spoke("shop-b", "snet-b")
    for r in (one, two):
        await run(engine, queue, "create-cluster", r)
    before = links(fake)
    assert list(before.values()) == [spoke]  # one link, shared
    op = await run(engine, queue, "delete-cluster", one)
    assert links(fake) == before
    assert any(k.endswith("/privatednszones/privatelink.blob.core.windows.net") for k in fake.resources)
    assert any("existing VNet" in m for m in await skipped(engine, op))
