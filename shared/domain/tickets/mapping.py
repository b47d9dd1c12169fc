"""Declarative mappings: how a ticketing system's webhook payload becomes a cluster request.

One YAML file per system (`mappings/<system>.yaml`, documented in docs/integrations.md) says:

* `only`: conditions on a header or a payload value that a delivery must meet to be about a ticket at all
  (GitHub's `ping`, Jira's comment events); other deliveries are `TicketIgnored`, not errors.
* `identity` (one or more paths, joined with `#`) and `revision`: which ticket, and which edit of it.
* `deliveryHeader`: a header that the sender keeps across retries of one delivery (Jira
  `X-Atlassian-Webhook-Identifier`, GitHub `X-GitHub-Delivery`). Accepted for older mapping files, never used:
  no signature covers it, so anyone replaying a captured delivery could set a new one. The idempotency key is
  system + identity + the hash of the requested fields (`revision.fields_hash`): a retry, a replay and a status
  change all map to the same key.
* `request`: where the cluster request is. `object`: a path to a JSON object that is the request. `block`:
  paths to text fields holding a fenced ```json / ```yaml block (see `blocks`). `fields`: request fields
  (dotted camelCase, `systemPool.count`) taken from named payload values (Jira custom fields, ServiceNow
  variables), converted by `type`. They apply in that order; a field that is present wins over the block.

Paths are dotted keys into the JSON payload; a numeric segment indexes a list (`issue.fields.labels.0`).
Pure: `parse_mapping` takes the file's text; the service layer reads the files.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.domain.tickets.blocks import BlockError, find_block, parse_block
from shared.domain.tickets.convert import FieldType, Invalid, convert, scalar
from shared.domain.tickets.ref import TicketRef
from shared.domain.tickets.revision import fields_hash
from shared.domain.tickets.signatures import SYSTEMS

__all__ = [
    "FieldSource",
    "MappingError",
    "TicketIgnored",
    "TicketMapping",
    "TicketProblem",
    "TicketRequest",
    "extract",
    "lookup",
    "parse_mapping",
]

_PATH = re.compile(r"^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$")
_TARGET = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*$")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")
Path = Annotated[str, Field(min_length=1, max_length=200, pattern=_PATH.pattern)]
HeaderName = Annotated[str, Field(pattern=_HEADER.pattern)]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Condition(_Model):
    header: HeaderName | None = None
    path: Path | None = None
    in_: list[str] = Field(alias="in", min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> Condition:
        if (self.header is None) == (self.path is None):
            raise ValueError("a condition names exactly one of 'header' or 'path'")
        return self


class FieldSource(_Model):
    path: Path
    type: FieldType = "auto"


class RequestSource(_Model):
    object: Path | None = None
    block: list[Path] = Field(default_factory=list)
    fields: dict[str, FieldSource] = Field(default_factory=dict)

    @field_validator("block", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `name: issue.fields.customfield_10050` is short for `name: {path: issue.fields.customfield_10050}`.
        if isinstance(value, dict):
            return {k: {"path": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("fields")
    @classmethod
    def _targets(cls, value: dict[str, FieldSource]) -> dict[str, FieldSource]:
        for target in value:
            if not _TARGET.match(target):
                raise ValueError(f"'{target}' is not a dotted request field such as systemPool.count")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> RequestSource:
        if self.object is None and not self.block and not self.fields:
            raise ValueError("say where the request is: 'object', 'block' or 'fields'")
        return self


class TicketMapping(_Model):
    version: Literal[1] = 1
    system: str
    only: list[Condition] = Field(default_factory=list)
    identity: list[Path] = Field(min_length=1, max_length=4)
    revision: Path
    delivery_header: HeaderName | None = None
    url: Path | None = None
    request: RequestSource

    @field_validator("identity", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class MappingError(ValueError):
    """A mapping file is not valid; the message lists every problem by location."""


def parse_mapping(text: str, systems: Collection[str] = SYSTEMS) -> TicketMapping:
    """Parse and validate one mapping file's YAML text, for one of the registered `systems`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"not valid YAML: {exc}") from None
    try:
        mapping = TicketMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'mapping'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise MappingError(problems) from None
    if mapping.system not in systems:
        raise MappingError(f"system: '{mapping.system}' is not a registered ticketing system ({', '.join(systems)})")
    return mapping


# --- extraction ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketRequest:
    ticket_ref: TicketRef
    idempotency_key: str
    raw_request: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TicketProblem:
    """The ticket does not carry a usable request: `field` is where we looked, `rule` what was wrong.

    `ticket_ref` is set when the ticket itself was identified, so that it can be told why.
    """

    field: str
    rule: str
    ticket_ref: TicketRef | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class TicketIgnored:
    """The delivery is not about a ticket this mapping handles (a ping, a comment event): nothing to do."""

    reason: str


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted path, or None when any segment is missing."""
    node = payload
    for segment in path.split("."):
        if isinstance(node, dict):
            node = node.get(segment)
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return None
        if node is None:
            return None
    return node


def extract(system: str, headers: Mapping[str, str], payload: Any,
            mapping: TicketMapping) -> TicketRequest | TicketProblem | TicketIgnored:
    """Identify the ticket and take the raw cluster request out of it (not yet validated: see rules.check)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if system != mapping.system:
        return TicketProblem("system", f"the mapping is for {mapping.system}, not {system}")
    if not isinstance(payload, dict):
        return TicketProblem("payload", "the payload must be a JSON object")
    for condition in mapping.only:
        value = lowered.get(condition.header.lower()) if condition.header else lookup(payload, condition.path or "")
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) not in condition.in_:
            where = f"header {condition.header}" if condition.header else condition.path
            return TicketIgnored(f"{where} is not one of {', '.join(condition.in_)}")
    ref_or_problem = _ticket_ref(system, payload, mapping)
    if isinstance(ref_or_problem, TicketProblem):
        return ref_or_problem
    ref = ref_or_problem
    raw = _raw_request(payload, mapping)
    if isinstance(raw, TicketProblem):
        return TicketProblem(raw.field, raw.rule, ref, idempotency_key(ref, f"problem\x00{raw.field}\x00{raw.rule}"))
    return TicketRequest(ref, idempotency_key(ref, fields_hash(raw)), raw)


def idempotency_key(ref: TicketRef, what: str) -> str:
    """The key of what a ticket asks for: system, ticket and `what` (the hash of its requested fields, or the
    problem that keeps it from asking), never a delivery id header, which no signature covers. So a retry, a
    replay with a new delivery id and a status change are one key, one operation, one failure event.

    Hashed, so that the key is short and safe in any storage key whatever the ticket's identity looks like.
    """
    material = f"fields\x00{ref.system}\x00{ref.key}\x00{what}"
    return f"ticket-{ref.system}-{hashlib.sha256(material.encode()).hexdigest()[:40]}"


def _ticket_ref(system: str, payload: dict[str, Any], mapping: TicketMapping) -> TicketRef | TicketProblem:
    parts = []
    for path in mapping.identity:
        part = scalar(lookup(payload, path))
        if part is None:
            return TicketProblem(path, "required: the ticket's identity (a string or number)")
        parts.append(part)
    revision = scalar(lookup(payload, mapping.revision))
    if revision is None:
        return TicketProblem(mapping.revision, "required: the ticket's revision (a string or number)")
    url = lookup(payload, mapping.url) if mapping.url else None
    return TicketRef(system, "#".join(parts), revision, url if isinstance(url, str) and url else None)


def _raw_request(payload: dict[str, Any], mapping: TicketMapping) -> dict[str, Any] | TicketProblem:
    source = mapping.request
    raw: dict[str, Any] = {}
    if source.object:
        found = lookup(payload, source.object)
        if not isinstance(found, dict):
            return TicketProblem(source.object, "required: a JSON object holding the cluster request")
        raw = copy.deepcopy(found)
    for path in source.block:
        block = find_block(lookup(payload, path))
        if block is None:
            continue
        try:
            raw.update(parse_block(block))
        except BlockError as exc:
            return TicketProblem(path, str(exc))
        break
    for target, field_source in source.fields.items():
        value = lookup(payload, field_source.path)
        if value is None or value == "" or value == []:
            continue
        converted = convert(value, field_source.type)
        if isinstance(converted, Invalid):
            return TicketProblem(field_source.path, f"{target}: {converted.rule}")
        _set(raw, target.split("."), converted)
    if not raw:
        where = ", ".join([*([source.object] if source.object else []), *source.block,
                           *(f.path for f in source.fields.values())])
        return TicketProblem(where or "request", "no cluster request found: add a ```json or ```yaml block "
                                                 "to the description, or fill in the mapped fields")
    return raw


def _set(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value
