"""Inbound event envelopes: parse Event Grid and CloudEvents bodies into one shape, without raising.

Both parsers take the body as delivered (bytes or str) or already decoded JSON, and return `(events, problems)`.
A problem is a `Violation` whose `path` is a JSON pointer into the body (`/3/eventTime` is the fourth event's
`eventTime`; a single CloudEvent has no index) and whose `code` names the rule. Valid events of a batch are
returned even when others are not: the caller decides (the webhook answers 400 for any problem, so that Event
Grid dead-letters the batch instead of retrying it for 24 hours).

Limits are Event Grid's delivery limits: at most 5,000 events per batch (a larger batch is refused whole,
before any event is looked at) and 1 MB (1,048,576 bytes) per event, measured as compact UTF-8 JSON.
Unknown fields are kept out of the envelope but never refused: Event Grid may add fields at any time.
A time without an offset is read as UTC (CloudEvents asks for RFC 3339, some publishers omit the `Z`).

Handshakes: an Event Grid `Microsoft.EventGrid.SubscriptionValidationEvent` comes back as a
`SubscriptionValidation` (answer `{"validationResponse": code}`); the CloudEvents webhook handshake is an
`OPTIONS` request, recognised from its headers by `parse_webhook_handshake`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from shared.domain import jsontext
from shared.domain.violations import Violation, pointer

MAX_EVENTS_PER_BATCH = 5_000
MAX_EVENT_BYTES = 1_048_576
# The envelope's strings are keys (dedupe rows, the reaction history): bounded, so that no event can make a record
# too large to be saved (ARM ids are far shorter; Event Grid's ids are GUIDs).
MAX_FIELD_CHARS = {"id": 500, "topic": 1_000, "source": 1_000, "eventType": 300, "type": 300}
MAX_TEXT_CHARS = 2_000
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"

EVENT_GRID_SCHEMA = "learn.microsoft.com/azure/event-grid/event-schema"
CLOUDEVENTS_SCHEMA = "github.com/cloudevents/spec cloudevents/spec.md (v1.0)"
DELIVERY_LIMITS = "learn.microsoft.com/azure/event-grid/quotas-limits"
WEBHOOK_VALIDATION = "learn.microsoft.com/azure/event-grid/webhook-event-delivery"

Schema = Literal["eventgrid", "cloudevents"]
Problem = Violation


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event in either schema. `source` is the Event Grid `topic` or the CloudEvents `source`.
    `data` is the decoded JSON value, as delivered; treat it as read-only."""

    schema: Schema
    source: str
    id: str
    type: str
    subject: str | None
    time: datetime | None
    data: Any = None
    data_version: str | None = None

    @property
    def dedupe_key(self) -> tuple[str, str]:
        """(topic or source, id): Event Grid's idempotency key. Topics are ARM ids, so compared lower-cased;
        ids are kept as sent."""
        return (self.source.lower(), self.id)


@dataclass(frozen=True, slots=True)
class SubscriptionValidation:
    """Event Grid's subscription validation event: answer 200 `{"validationResponse": validation_code}`."""

    validation_code: str
    validation_url: str | None
    topic: str
    id: str

    def response(self) -> dict[str, str]:
        return {"validationResponse": self.validation_code}


@dataclass(frozen=True, slots=True)
class WebHookHandshake:
    """The CloudEvents webhook abuse-protection handshake (an `OPTIONS` request)."""

    origin: str
    callback: str | None = None
    requested_rate: str | None = None

    def response_headers(self, allowed_rate: int | None = None) -> dict[str, str]:
        """Headers of the 200 answer: the origin echoed, and the rate allowed (`*` for no limit)."""
        return {"WebHook-Allowed-Origin": self.origin,
                "WebHook-Allowed-Rate": "*" if allowed_rate is None else str(allowed_rate)}


Inbound = Envelope | SubscriptionValidation


class Batch(NamedTuple):
    """What a parser returns; unpacks as `events, problems`."""

    events: tuple[Inbound, ...]
    problems: tuple[Problem, ...]

    @property
    def handshake(self) -> SubscriptionValidation | None:
        return next((e for e in self.events if isinstance(e, SubscriptionValidation)), None)

    @property
    def notifications(self) -> tuple[Envelope, ...]:
        return tuple(e for e in self.events if isinstance(e, Envelope))


def parse_webhook_handshake(headers: Mapping[str, str]) -> WebHookHandshake | None:
    """The CloudEvents handshake from an OPTIONS request's headers (names case-insensitive); None without
    `WebHook-Request-Origin`."""
    lower = {k.lower(): v for k, v in headers.items()}
    origin = lower.get("webhook-request-origin", "").strip()
    if not origin:
        return None
    return WebHookHandshake(origin, lower.get("webhook-request-callback") or None,
                            lower.get("webhook-request-rate") or None)


def parse_eventgrid_batch(payload: bytes | str | Any) -> Batch:
    """An Event Grid schema delivery: always a JSON array, even for one event."""
    body, problem = _decode(payload)
    if problem:
        return Batch((), (problem,))
    if not isinstance(body, list):
        return Batch((), (Problem("BODY_NOT_ARRAY", "", "an Event Grid schema body must be a JSON array of events",
                                  source=EVENT_GRID_SCHEMA),))
    return _parse_all(body, _eventgrid_event, indexed=True)


def parse_cloudevents(payload: bytes | str | Any) -> Batch:
    """A CloudEvents delivery: one event (structured mode) or a JSON array (batch mode)."""
    body, problem = _decode(payload)
    if problem:
        return Batch((), (problem,))
    if isinstance(body, dict):
        return _parse_all([body], _cloud_event, indexed=False)
    if isinstance(body, list):
        return _parse_all(body, _cloud_event, indexed=True)
    return Batch((), (Problem("BODY_NOT_EVENT", "", "a CloudEvents body must be a JSON object or an array of them",
                              source=CLOUDEVENTS_SCHEMA),))


def _decode(payload: bytes | str | Any) -> tuple[Any, Problem | None]:
    """Text read strictly (shared/domain/jsontext.py: UTF-8, no duplicate keys, finite numbers, bounded depth)."""
    if not isinstance(payload, bytes | bytearray | str):
        return payload, None
    try:
        return jsontext.loads(payload), None
    except jsontext.JsonRefused as exc:
        return None, Problem("BODY_NOT_JSON", exc.pointer or "", f"the body is not JSON aksvend reads ({exc.code}): "
                                                                 f"{exc.message}")


def _parse_all(items: list[Any], parse_one: Any, *, indexed: bool) -> Batch:
    if len(items) > MAX_EVENTS_PER_BATCH:
        return Batch((), (Problem("BATCH_TOO_LARGE", "", f"the batch has {len(items)} events; at most "
                                  f"{MAX_EVENTS_PER_BATCH} are accepted", source=DELIVERY_LIMITS),))
    events: list[Inbound] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        at = pointer(i) if indexed else ""
        found = list(_shape(item, at))
        if not found:
            event, found = parse_one(item, at)
            if event is not None:
                events.append(event)
        problems.extend(found)
    return Batch(tuple(events), tuple(problems))


def _shape(item: Any, at: str) -> Iterable[Problem]:
    where = f"event {at.lstrip('/')}" if at else "the event"
    if not isinstance(item, dict):
        yield Problem("EVENT_NOT_OBJECT", at, f"{where} must be a JSON object, not {_json_type(item)}")
        return
    try:
        size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        yield Problem("EVENT_NOT_JSON", at, f"{where} is not plain JSON: {exc}")
        return
    if size > MAX_EVENT_BYTES:
        yield Problem("EVENT_TOO_LARGE", at, f"{where} is {size} bytes; at most {MAX_EVENT_BYTES} bytes (1 MB) "
                      "per event", source=DELIVERY_LIMITS)


class _Fields:
    """Reads typed fields of one event, collecting a problem per broken rule."""

    def __init__(self, item: dict[str, Any], at: str, source: str) -> None:
        self.item, self.at, self.source = item, at, source
        self.problems: list[Problem] = []

    def text(self, name: str, *, required: bool = True, may_be_empty: bool = False) -> str | None:
        value = self.item.get(name)
        path = f"{self.at}/{name}"
        if value is None:
            if required:
                self.problems.append(Problem("FIELD_MISSING", path, f"'{name}' is required", source=self.source))
            return None
        if not isinstance(value, str):
            self.problems.append(Problem("FIELD_TYPE", path, f"'{name}' must be a string, not {_json_type(value)}",
                                         source=self.source))
            return None
        if not value.strip() and required and not may_be_empty:
            self.problems.append(Problem("FIELD_EMPTY", path, f"'{name}' must not be empty", source=self.source))
            return None
        limit = MAX_FIELD_CHARS.get(name, MAX_TEXT_CHARS)
        if len(value) > limit:
            self.problems.append(Problem("FIELD_TOO_LONG", path, f"'{name}' has {len(value)} characters; at most "
                                         f"{limit}", source=self.source))
            return None
        return value

    def time(self, name: str, *, required: bool) -> datetime | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.problems.append(Problem("FIELD_FORMAT", f"{self.at}/{name}",
                                         f"'{name}' must be an RFC 3339 timestamp, got {value[:40]!r}",
                                         source=self.source))
        return parsed


def _eventgrid_event(item: dict[str, Any], at: str) -> tuple[Inbound | None, list[Problem]]:
    f = _Fields(item, at, EVENT_GRID_SCHEMA)
    topic, event_id, event_type = f.text("topic"), f.text("id"), f.text("eventType")
    subject = f.text("subject", may_be_empty=True)  # the validation event's subject is ""
    time = f.time("eventTime", required=True)
    data_version = f.text("dataVersion", required=False)
    f.text("metadataVersion", required=False)
    if f.problems or topic is None or event_id is None or event_type is None:
        return None, f.problems
    data = item.get("data")
    if event_type == VALIDATION_EVENT:
        fields = data if isinstance(data, dict) else {}
        code = fields.get("validationCode")
        if not isinstance(code, str) or not code:
            return None, [Problem("FIELD_MISSING", f"{at}/data/validationCode", "a subscription validation event "
                                  "needs 'data.validationCode' (a string)", source=WEBHOOK_VALIDATION)]
        url = fields.get("validationUrl")
        return SubscriptionValidation(code, url if isinstance(url, str) else None, topic, event_id), []
    return Envelope("eventgrid", topic, event_id, event_type, subject, time, data, data_version), []


def _cloud_event(item: dict[str, Any], at: str) -> tuple[Inbound | None, list[Problem]]:
    f = _Fields(item, at, CLOUDEVENTS_SCHEMA)
    spec = f.text("specversion")
    if spec is not None and spec != "1.0":
        f.problems.append(Problem("FIELD_FORMAT", f"{at}/specversion", f"'specversion' must be \"1.0\", got {spec!r}",
                                  source=CLOUDEVENTS_SCHEMA))
    source, event_id, event_type = f.text("source"), f.text("id"), f.text("type")
    subject = f.text("subject", required=False)
    time = f.time("time", required=False)
    f.text("datacontenttype", required=False)
    data_base64 = f.text("data_base64", required=False)
    if "data" in item and data_base64 is not None:
        f.problems.append(Problem("FIELD_CONFLICT", f"{at}/data_base64", "an event has 'data' or 'data_base64', "
                                  "not both", source=CLOUDEVENTS_SCHEMA))
    if f.problems or source is None or event_id is None or event_type is None:
        return None, f.problems
    data = item.get("data", data_base64)
    return Envelope("cloudevents", source, event_id, event_type, subject, time, data), []


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 time (Azure writes 7 fractional digits, some publishers 9); naive times are read as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)
