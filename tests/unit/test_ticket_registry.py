"""The registry of ticketing systems: a new one is its module (a `TicketSystem`: name, signature check, mapping
file, settings), its mapping YAML and one registration line (docs/architecture.md, "Adding a ticketing system").

The system below stands for such a module: a GitLab-style webhook that sends its secret token in a header. Given
the registry with it added, the use case verifies, maps, validates and submits its tickets with nothing else
changed."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.config import SETTINGS
from shared.domain.lifecycle import LifecycleEvent
from shared.domain.request import ClusterRequest
from shared.domain.tickets import (
    REGISTRY,
    SYSTEMS,
    MappingError,
    Rejected,
    TicketRef,
    TicketSystem,
    Verified,
    WebhookAuth,
    parse_mapping,
)
from shared.domain.tickets.auth import BAD_SIGNATURE, MISSING_SIGNATURE, secret_setting
from shared.services.ticket_ledger import TicketLedger
from shared.services.tickets import BUILTIN_MAPPINGS, TicketAccepted, TicketUnknownSystem, handle_ticket, load_mappings
from tests.fakes import FakeClock, FakeStateStore
from tests.requests import SUB

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tickets"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "fake-gitlab-token"  # obviously fake, defined here only


def token_check(headers: Mapping[str, str], body: bytes, auth: WebhookAuth, now: datetime) -> Verified | Rejected:
    sent = headers.get("x-gitlab-token")
    if not sent:
        return Rejected(MISSING_SIGNATURE)
    matched = False
    for secret in auth.hmac_secrets:  # every secret, no early exit, as the built-in checks do
        matched |= hmac.compare_digest(secret.encode(), sent.encode())
    return Verified("gitlab") if matched else Rejected(BAD_SIGNATURE)


GITLAB = TicketSystem("gitlab", token_check, "gitlab.yaml",
                      {secret_setting("gitlab"): "gitlab webhook token(s), separated by commas or line breaks"})
MAPPING = """\
version: 1
system: gitlab
identity: ticket.id
revision: ticket.revision
request:
  object: request
"""


class FakeEngine:
    """The engine's submit, recording what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[ClusterRequest, str, TicketRef]] = []

    async def __call__(self, request: ClusterRequest, idempotency_key: str, ticket_ref: TicketRef) -> str:
        self.calls.append((request, idempotency_key, ticket_ref))
        return f"op-{len(self.calls)}"


def ledger() -> TicketLedger:
    """The ticket ledger over a fake table, with no clusters registered."""

    async def no_cluster(key: str) -> None:
        return None

    return TicketLedger(FakeStateStore(), no_cluster, FakeClock(NOW))


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[LifecycleEvent] = []

    async def publish(self, events: Sequence[LifecycleEvent]) -> None:
        self.events.extend(events)


@pytest.fixture
def mappings_dir(tmp_path: Path) -> Path:
    (tmp_path / "gitlab.yaml").write_text(MAPPING)
    return tmp_path


def test_every_registered_system_has_its_built_in_mapping_file_and_names_itself_in_it():
    mappings = load_mappings()
    assert set(mappings) == set(SYSTEMS) == set(REGISTRY)
    assert all((BUILTIN_MAPPINGS / system.mapping_file).is_file() for system in REGISTRY.values())


def test_every_setting_a_system_declares_is_an_app_setting_that_infra_sets():
    declared = {name for system in REGISTRY.values() for name in system.settings}
    assert declared and declared <= set(SETTINGS)


async def test_a_registered_system_is_verified_mapped_and_submitted(mappings_dir: Path):
    systems = {**REGISTRY, GITLAB.name: GITLAB}
    mappings = load_mappings(mappings_dir, systems=systems)
    engine, publisher = FakeEngine(), RecordingPublisher()
    body = (EXAMPLES / "generic-ticket.json").read_bytes()

    outcome = await handle_ticket("gitlab", {"X-Gitlab-Token": TOKEN}, body, NOW,
                                  secrets={"gitlab": WebhookAuth(hmac_secrets=(TOKEN,))}, mappings=mappings,
                                  submit=engine, publish=publisher, ledger=ledger(), default_subscription_id=SUB,
                                  systems=systems)

    assert isinstance(outcome, TicketAccepted), outcome
    request, _key, ref = engine.calls[0]
    assert (ref.system, ref.key, request.name) == ("gitlab", "CHG-2031", json.loads(body)["request"]["name"])


async def test_a_wrong_token_is_refused_by_the_systems_own_check(mappings_dir: Path):
    systems = {**REGISTRY, GITLAB.name: GITLAB}
    outcome = await handle_ticket("gitlab", {"X-Gitlab-Token": "wrong"}, b"{}", NOW,
                                  secrets={"gitlab": WebhookAuth(hmac_secrets=(TOKEN,))},
                                  mappings=load_mappings(mappings_dir, systems=systems), submit=FakeEngine(),
                                  publish=RecordingPublisher(), ledger=ledger(), default_subscription_id=SUB,
                                  systems=systems)
    assert getattr(outcome, "reason", None) == BAD_SIGNATURE


async def test_without_the_registration_the_system_is_unknown_and_its_mapping_is_refused(mappings_dir: Path):
    assert "gitlab" not in load_mappings(mappings_dir)
    with pytest.raises(MappingError, match="'gitlab' is not a registered ticketing system"):
        parse_mapping(MAPPING)
    outcome = await handle_ticket("gitlab", {"X-Gitlab-Token": TOKEN}, b"{}", NOW, secrets={}, mappings={},
                                  submit=FakeEngine(), publish=RecordingPublisher(), ledger=ledger(),
                                  default_subscription_id=SUB)
    assert isinstance(outcome, TicketUnknownSystem)
