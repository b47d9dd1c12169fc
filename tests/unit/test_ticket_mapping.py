"""Ticket mappings: the shipped mapping files, the example payloads in docs/examples/tickets, fenced blocks,
named fields, and what happens when the ticket lacks something."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shared.domain.rules import check
from shared.domain.tickets import (
    MappingError,
    TicketIgnored,
    TicketMapping,
    TicketProblem,
    TicketRef,
    TicketRequest,
    extract,
    parse_mapping,
)
from shared.domain.tickets.blocks import Block, BlockError, find_block, parse_block
from shared.services.tickets import BUILTIN_MAPPINGS, load_mappings
from tests.requests import SUB

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tickets"
MAPPINGS = load_mappings()


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def request_of(result: object) -> dict[str, Any]:
    assert isinstance(result, TicketRequest), result
    return result.raw_request


# --- the shipped mapping files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["jira", "github", "servicenow", "generic"])
def test_every_system_has_a_valid_mapping_file(system: str) -> None:
    mapping = parse_mapping((BUILTIN_MAPPINGS / f"{system}.yaml").read_text())
    assert mapping.system == system
    assert MAPPINGS[system] == mapping


@pytest.mark.parametrize(
    ("system", "example_name", "headers", "ref"),
    [
        ("jira", "jira-issue-created.json", {"X-Atlassian-Webhook-Identifier": "a1b2c3"},
         TicketRef("jira", "OPS-42", "2026-03-01T11:58:02.113+0000",
                   "https://contoso.atlassian.net/rest/api/2/issue/10042")),
        ("jira", "jira-issue-updated-fields-only.json", {},
         TicketRef("jira", "OPS-57", "2026-03-01T13:00:00.456+0000",
                   "https://contoso.atlassian.net/rest/api/2/issue/10057")),
        ("github", "github-issues-opened.json", {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "72d3162e"},
         TicketRef("github", "contoso/platform-requests#17", "2026-03-01T11:58:02Z",
                   "https://github.com/contoso/platform-requests/issues/17")),
        ("servicenow", "servicenow-ritm.json", {},
         TicketRef("servicenow", "9d385017c611228701d22104cc95c371", "2026-03-01 11:58:02",
                   "https://contoso.service-now.com/sc_req_item.do?sys_id=9d385017c611228701d22104cc95c371")),
        ("generic", "generic-ticket.json", {},
         TicketRef("generic", "CHG-2031", "3", "https://tickets.example.com/changes/CHG-2031")),
    ],
)
def test_each_example_payload_maps_to_a_valid_request(system: str, example_name: str, headers: dict[str, str],
                                                       ref: TicketRef) -> None:
    result = extract(system, headers, example(example_name), MAPPINGS[system])
    assert isinstance(result, TicketRequest), result
    assert result.ticket_ref == ref
    request, violations = check(result.raw_request, default_subscription_id=SUB)
    assert request is not None, [v for v in violations if v.severity == "error"]


def test_jira_example_takes_the_block_and_lets_custom_fields_win() -> None:
    raw = request_of(extract("jira", {}, example("jira-issue-created.json"), MAPPINGS["jira"]))
    assert raw["name"] == "payments-prod"
    assert raw["location"] == "westeurope"  # single-select custom field: its "value"
    assert raw["profile"] == "production"
    assert raw["systemPool"] == {"vmSize": "Standard_D4s_v5", "count": 3, "zones": ["1", "2", "3"]}
    assert raw["tags"] == {"owner": "payments", "costCenter": "1234"}  # a field merges into the block's object
    assert "subscriptionId" not in raw  # a null custom field is left out


def test_jira_custom_number_field_becomes_a_string_when_typed_string() -> None:
    raw = request_of(extract("jira", {}, example("jira-issue-updated-fields-only.json"), MAPPINGS["jira"]))
    assert raw == {"name": "search-sandbox", "resourceGroup": "rg-search-sandbox", "location": "northeurope",
                   "profile": "development", "subscriptionId": SUB, "tags": {"costCenter": "4711"}}


def test_servicenow_variables_are_converted_from_strings() -> None:
    raw = request_of(extract("servicenow", {}, example("servicenow-ritm.json"), MAPPINGS["servicenow"]))
    assert raw["systemPool"] == {"count": 1}
    assert raw["addons"] == {"monitoring": False}
    assert "zones" not in raw["systemPool"]  # an empty variable is left out


def test_servicenow_zones_variable_becomes_a_list() -> None:
    payload = example("servicenow-ritm.json")
    payload["variables"]["zones"] = "1, 2,3"
    raw = request_of(extract("servicenow", {}, payload, MAPPINGS["servicenow"]))
    assert raw["systemPool"] == {"count": 1, "zones": ["1", "2", "3"]}


def test_github_yaml_block_with_crlf_line_endings_is_read() -> None:
    raw = request_of(extract("github", {"X-GitHub-Event": "issues"}, example("github-issues-opened.json"),
                             MAPPINGS["github"]))
    assert raw["kubernetesVersion"] == "1.33"
    assert raw["userPools"][1]["autoscale"] == {"min": 0, "max": 40}


# --- which deliveries are about tickets ---------------------------------------------------------------------------


def test_github_ping_is_ignored() -> None:
    result = extract("github", {"X-GitHub-Event": "ping"}, example("github-ping.json"), MAPPINGS["github"])
    assert isinstance(result, TicketIgnored)


def test_github_issue_closed_is_ignored() -> None:
    payload = example("github-issues-opened.json") | {"action": "closed"}
    assert isinstance(extract("github", {"X-GitHub-Event": "issues"}, payload, MAPPINGS["github"]), TicketIgnored)


def test_jira_comment_is_ignored() -> None:
    payload = example("jira-issue-created.json") | {"webhookEvent": "jira:issue_updated",
                                                    "issue_event_type_name": "issue_commented"}
    assert isinstance(extract("jira", {}, payload, MAPPINGS["jira"]), TicketIgnored)


# --- idempotency keys ------------------------------------------------------------------------------------------


def test_the_same_delivery_id_gives_the_same_key() -> None:
    payload = example("jira-issue-created.json")
    headers = {"X-Atlassian-Webhook-Identifier": "a1b2c3", "X-Atlassian-Webhook-Retry": "1"}
    first = extract("jira", headers, payload, MAPPINGS["jira"])
    retried = extract("jira", {**headers, "X-Atlassian-Webhook-Retry": "2"}, copy.deepcopy(payload), MAPPINGS["jira"])
    assert isinstance(first, TicketRequest) and isinstance(retried, TicketRequest)
    assert first.idempotency_key == retried.idempotency_key


def test_a_delivery_id_header_does_not_change_the_key() -> None:
    # No signature covers X-GitHub-Delivery: a replay with a new one is the same ticket asking the same thing.
    payload = example("github-issues-opened.json")
    one = extract("github", {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1"}, payload, MAPPINGS["github"])
    two = extract("github", {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-2"}, payload, MAPPINGS["github"])
    assert isinstance(one, TicketRequest) and isinstance(two, TicketRequest)
    assert one.idempotency_key == two.idempotency_key


def test_the_key_is_ticket_and_requested_fields_not_the_revision() -> None:
    payload = example("servicenow-ritm.json")
    same = [extract("servicenow", {}, copy.deepcopy(payload), MAPPINGS["servicenow"]) for _ in range(2)]
    payload["sys_updated_on"] = "2026-03-01 12:30:00"
    payload["state"] = "2"  # a status change: the requested cluster is the same
    moved = extract("servicenow", {}, copy.deepcopy(payload), MAPPINGS["servicenow"])
    payload["variables"]["cost_center"] = "9999"  # an edit of what the ticket asks for
    edited = extract("servicenow", {}, payload, MAPPINGS["servicenow"])
    keys = [r.idempotency_key for r in [*same, moved, edited] if isinstance(r, TicketRequest)]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert keys[0].startswith("ticket-servicenow-")


def test_keys_of_different_systems_never_collide() -> None:
    generic = extract("generic", {}, {"ticket": {"id": "X-1", "revision": "1"}, "request": {"name": "a"}},
                      MAPPINGS["generic"])
    other = parse_mapping("system: servicenow\nidentity: ticket.id\nrevision: ticket.revision\n"
                          "request: {object: request}\n")
    servicenow = extract("servicenow", {}, {"ticket": {"id": "X-1", "revision": "1"}, "request": {"name": "a"}}, other)
    assert isinstance(generic, TicketRequest) and isinstance(servicenow, TicketRequest)
    assert generic.idempotency_key != servicenow.idempotency_key


# --- what is missing or wrong --------------------------------------------------------------------------------------


def test_missing_identity_is_a_problem_without_a_ticket_ref() -> None:
    payload = example("jira-issue-created.json")
    del payload["issue"]["key"]
    assert extract("jira", {}, payload, MAPPINGS["jira"]) == TicketProblem(
        "issue.key", "required: the ticket's identity (a string or number)")


def test_missing_revision_is_a_problem() -> None:
    payload = example("servicenow-ritm.json")
    payload["sys_updated_on"] = ""
    result = extract("servicenow", {}, payload, MAPPINGS["servicenow"])
    assert isinstance(result, TicketProblem)
    assert result.field == "sys_updated_on"


def test_a_ticket_without_block_or_fields_is_a_problem_that_names_the_ticket() -> None:
    payload = example("github-issues-opened.json")
    payload["issue"]["body"] = "Please give us a cluster, thanks."
    result = extract("github", {"X-GitHub-Event": "issues"}, payload, MAPPINGS["github"])
    assert isinstance(result, TicketProblem)
    assert result.field == "issue.body"
    assert "```json" in result.rule
    assert result.ticket_ref is not None and result.ticket_ref.key == "contoso/platform-requests#17"
    assert result.idempotency_key is not None


def test_a_block_that_is_not_json_is_a_problem_with_its_line() -> None:
    payload = example("github-issues-opened.json")
    payload["issue"]["body"] = 'Request:\n```json\n{\n  "name": "x",\n  "location" "westeurope"\n}\n```\n'
    result = extract("github", {"X-GitHub-Event": "issues"}, payload, MAPPINGS["github"])
    assert isinstance(result, TicketProblem)
    assert "line 3" in result.rule  # lines of the block
    assert "westeurope" not in result.rule  # caller input is not echoed


def test_an_invalid_named_field_is_a_problem_naming_the_target() -> None:
    payload = example("servicenow-ritm.json")
    payload["variables"]["system_node_count"] = "three"
    result = extract("servicenow", {}, payload, MAPPINGS["servicenow"])
    assert result == TicketProblem("variables.system_node_count", "systemPool.count: expected a whole number",
                                   result.ticket_ref, result.idempotency_key)  # type: ignore[union-attr]


def test_generic_request_that_is_not_an_object_is_a_problem() -> None:
    result = extract("generic", {}, {"ticket": {"id": "C-1", "revision": "1"}, "request": "make it big"},
                     MAPPINGS["generic"])
    assert isinstance(result, TicketProblem) and result.field == "request"


def test_payload_that_is_not_an_object_is_a_problem() -> None:
    assert extract("generic", {}, [1, 2], MAPPINGS["generic"]) == TicketProblem("payload", "the payload must be a "
                                                                                           "JSON object")


def test_mapping_for_another_system_is_refused() -> None:
    assert isinstance(extract("jira", {}, example("generic-ticket.json"), MAPPINGS["generic"]), TicketProblem)


# --- fenced blocks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        'Hi\n```json\n{"name": "a1"}\n```\n',
        "Hi\n```yaml\nname: a1\n```\n",
        "Hi\n```YML title\nname: a1\n```",
        "Hi\n~~~json\n{\"name\": \"a1\"}\n~~~\n",
        "Hi\r\n```json\r\n{\"name\": \"a1\"}\r\n```\r\n",
        "  ````yaml\n  name: a1\n  ````\n",
        'h1. Request\n{code:json}\n{"name": "a1"}\n{code}\n',
        "{code:yaml|title=Cluster}\nname: a1\n{code}",
    ],
)
def test_request_blocks_are_found_in_markdown_and_jira_markup(description: str) -> None:
    block = find_block(description)
    assert block is not None
    assert parse_block(block) == {"name": "a1"}


def test_code_blocks_in_other_languages_are_skipped() -> None:
    description = "```python\nprint('x')\n```\n\n```yaml\nname: a2\n```\n"
    block = find_block(description)
    assert block is not None and parse_block(block) == {"name": "a2"}


def test_the_first_request_block_wins() -> None:
    description = '{code:json}\n{"name": "first"}\n{code}\n```json\n{"name": "second"}\n```\n'
    block = find_block(description)
    assert block is not None and parse_block(block) == {"name": "first"}


def test_a_code_block_in_atlassian_document_format_is_found() -> None:
    adf = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Please:"}]},
        {"type": "codeBlock", "attrs": {"language": "yaml"}, "content": [{"type": "text", "text": "name: a3\n"}]},
    ]}
    block = find_block(adf)
    assert block == Block("yaml", "name: a3\n")


@pytest.mark.parametrize("description", [None, 42, "no block here", "```json\nunterminated", {"type": "doc"}])
def test_no_block_is_none(description: Any) -> None:
    assert find_block(description) is None


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (Block("yaml", "base: &b {count: 1}\npool: *b\n"), "anchors or aliases"),
        (Block("yaml", "name: a\ncreated: 2026-03-01\n"), "only JSON values"),
        (Block("yaml", "- just\n- a list\n"), "must hold an object"),
        (Block("json", "[1, 2]"), "must hold an object"),
        (Block("json", '{"x": NaN}'), "only JSON values"),
        (Block("yaml", "name: [unclosed\n"), "not valid YAML (line"),
        (Block("json", "[" * 100_000), "nested too deeply"),
    ],
)
def test_unsafe_or_malformed_blocks_are_refused(block: Block, message: str) -> None:
    with pytest.raises(BlockError, match=message.replace("(", r"\(")):
        parse_block(block)


def test_yaml_version_numbers_must_be_quoted_to_stay_strings() -> None:
    # YAML reads 1.30 as the float 1.3; the contract then reports a type error on kubernetesVersion.
    raw = parse_block(Block("yaml", "name: a\nresourceGroup: rg-a\nlocation: westeurope\nkubernetesVersion: 1.30\n"))
    request, violations = check(raw, default_subscription_id=SUB)
    assert request is None
    assert any(v.path == "/kubernetesVersion" for v in violations)


# --- named field conversions -------------------------------------------------------------------------------------


def _fields_mapping(fields: dict[str, Any]) -> TicketMapping:
    return TicketMapping.model_validate({"system": "generic", "identity": "id", "revision": "rev",
                                         "request": {"fields": fields}})


@pytest.mark.parametrize(
    ("source_type", "value", "expected"),
    [
        ("integer", "3", 3),
        ("integer", 3.0, 3),
        ("integer", " 12 ", 12),
        ("number", "0.5", 0.5),
        ("boolean", "true", True),
        ("boolean", "No", False),
        ("boolean", True, True),
        ("string", 1234, "1234"),
        ("string", {"value": "westeurope", "id": "1"}, "westeurope"),
        ("list", "1,2, 3", ["1", "2", "3"]),
        ("list", [{"value": "1"}, {"value": "2"}], ["1", "2"]),
        ("json", '[{"name": "apps", "count": 2}]', [{"name": "apps", "count": 2}]),
        ("auto", {"min": 1, "max": 3}, {"min": 1, "max": 3}),
    ],
)
def test_named_fields_are_converted_by_type(source_type: str, value: Any, expected: Any) -> None:
    mapping = _fields_mapping({"systemPool.count": {"path": "v", "type": source_type}})
    raw = request_of(extract("generic", {}, {"id": "T-1", "rev": "1", "v": value}, mapping))
    assert raw == {"systemPool": {"count": expected}}


@pytest.mark.parametrize(
    ("source_type", "value", "rule"),
    [
        ("integer", "2.5", "expected a whole number"),
        ("integer", True, "expected a whole number"),
        ("number", "lots", "expected a number"),
        ("boolean", "maybe", "expected true or false"),
        ("string", ["a"], "expected a string"),
        ("json", "{not json", "expected JSON text"),
        ("list", 5, "expected a list or a comma-separated string"),
    ],
)
def test_named_fields_of_the_wrong_type_are_problems(source_type: str, value: Any, rule: str) -> None:
    mapping = _fields_mapping({"count": {"path": "v", "type": source_type}})
    result = extract("generic", {}, {"id": "T-1", "rev": "1", "v": value}, mapping)
    assert isinstance(result, TicketProblem)
    assert (result.field, result.rule) == ("v", f"count: {rule}")


def test_list_index_paths_reach_into_arrays() -> None:
    mapping = _fields_mapping({"name": "items.1.name"})
    raw = request_of(extract("generic", {}, {"id": 7, "rev": 2, "items": [{"name": "a"}, {"name": "b"}]}, mapping))
    assert raw == {"name": "b"}


# --- mapping file validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("system: jira\nidentity: issue.key\nrevision: r\nrequest: {}\n", "say where the request is"),
        ("system: jira\nidentity: issue.key\nrevision: r\nrequest: {block: d}\nsurprise: 1\n", "surprise"),
        ("system: bugzilla\nidentity: k\nrevision: r\nrequest: {block: d}\n", "system"),
        ("system: jira\nidentity: 'issue key'\nrevision: r\nrequest: {block: d}\n", "identity"),
        ("system: jira\nidentity: k\nrevision: r\nrequest: {fields: {'bad target!': x}}\n", "dotted request field"),
        ("system: jira\nidentity: k\nrevision: r\nrequest: {block: d}\nonly: [{header: X-A, path: a, in: [b]}]\n",
         "exactly one"),
        ("system: jira\nidentity: k\nrevision: r\nrequest: {fields: {name: {path: n, type: float}}}\n", "type"),
        ("- not\n- a mapping\n", "mapping"),
        ("system: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_mapping_files_are_refused_with_the_location(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping(text)


def test_load_mappings_names_the_file_that_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "jira.yaml").write_text("system: github\nidentity: k\nrevision: r\nrequest: {block: d}\n")
    with pytest.raises(MappingError, match=r"jira\.yaml: says system 'github'"):
        load_mappings(tmp_path)


def test_load_mappings_reads_only_the_files_present(tmp_path: Path) -> None:
    (tmp_path / "generic.yaml").write_text((BUILTIN_MAPPINGS / "generic.yaml").read_text())
    assert set(load_mappings(tmp_path)) == {"generic"}
