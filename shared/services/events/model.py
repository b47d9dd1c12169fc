"""The events service's settings and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REPORTED = 100


GRID_ROLE = "AzureEventGridSecureWebhookSubscriber"  # Microsoft's name for the role Event Grid's identity is given


@dataclass(frozen=True, slots=True)
class EventSettings:
    local: bool = False  # local mode: the shared secret (or no check) is accepted; never outside it
    webhook_secret: str | None = None  # AKSVEND_EVENTS_WEBHOOK_SECRET, local mode only; None: refused, unless unchecked
    unchecked: bool = False  # no secret and no check: local mode only (shared.bootstrap.event_settings)
    grid_role: str = GRID_ROLE  # the app role an Event Grid delivery's bearer token must carry
    signature_skew_seconds: float = 300.0  # an agent's X-Aksvend-Timestamp may be this far from now
    agent_key_grace_seconds: float = 24 * 3600.0  # a rotated-out agent key stays valid this long
    agent_key_cache_seconds: float = 60.0  # how long verification keeps a cluster's keys before reading them again
    dedupe_seconds: float = 48 * 3600.0
    lease_seconds: float = 30.0  # a crashed decider's lease is taken over after this
    lease_wait_seconds: float = 10.0  # then 503, and Event Grid delivers again
    purge_every_seconds: float = 3600.0
    index_ttl_seconds: float = 30.0  # how long another instance's new cluster may go unseen by this one's intake
    allowed_rate: int | None = None  # WebHook-Allowed-Rate; None: "*"

    def __repr__(self) -> str:  # never print the secret
        secret = "set" if self.webhook_secret else None
        return f"EventSettings(local={self.local}, webhook_secret={secret}, unchecked={self.unchecked}, ...)"


@dataclass(frozen=True, slots=True)
class Validation:
    """Answer 200 with `body` (Event Grid's subscription validation)."""

    body: dict[str, str]


@dataclass(frozen=True, slots=True)
class Acknowledged:
    received: int
    duplicates: int = 0
    unmapped: int = 0
    operations: tuple[str, ...] = ()
    outcomes: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"received": self.received, "duplicates": self.duplicates, "unmapped": self.unmapped,
                "operations": list(self.operations), "outcomes": list(self.outcomes[:MAX_REPORTED])}


@dataclass(frozen=True, slots=True)
class SweepReport:
    scaled_down: tuple[str, ...] = ()
    purged: int = 0


@dataclass
class Tally:
    """What one delivery did so far; becomes its `Acknowledged`."""

    received: int
    duplicates: int = 0
    unmapped: int = 0
    operations: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def acknowledged(self) -> Acknowledged:
        return Acknowledged(self.received, self.duplicates, self.unmapped, tuple(self.operations),
                            tuple(self.outcomes))
