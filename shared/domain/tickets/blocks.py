"""Find and parse the cluster request written inside a ticket's description.

Recognised, the first one in the text wins:

* Markdown fences (GitHub, ServiceNow, plain text): a line of ``` or ~~~ followed by `json`, `yaml` or `yml`, up
  to the same fence on a line of its own.
* Jira wiki markup (what Jira's webhooks send for a description): `{code:json} ... {code}` (also `yaml`, `yml`).
* Atlassian Document Format (a description given as ADF, e.g. by Jira Automation): the first `codeBlock` node
  whose language is json or yaml.

Parsing is safe: JSON by `json.loads`; YAML by `yaml.safe_load` after refusing anchors and aliases (an alias
bomb expands to gigabytes once copied), and the result must hold only JSON values (YAML turns an unquoted
`2025-01-01` into a date). Error messages give a line and column, never the text: it is caller input.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["Block", "BlockError", "find_block", "parse_block"]

_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>json|yaml|yml)\b[^\n]*\n(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)
_JIRA_CODE = re.compile(r"\{code:(?P<lang>json|yaml|yml)(?:\|[^}]*)?\}(?P<body>.*?)\{code\}", re.DOTALL | re.IGNORECASE)
_MAX_ADF_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Block:
    language: str  # "json" or "yaml"
    text: str


class BlockError(ValueError):
    """The block is not valid JSON/YAML, or holds something other than a JSON object."""


def find_block(description: Any) -> Block | None:
    """The first json/yaml code block in a description (markdown, Jira wiki markup or ADF), or None."""
    if isinstance(description, dict):
        return _adf_block(description, 0)
    if not isinstance(description, str):
        return None
    text = description.replace("\r\n", "\n")
    found = [m for m in (_FENCE.search(text), _JIRA_CODE.search(text)) if m]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    return Block(_language(first.group("lang")), first.group("body"))


def parse_block(block: Block) -> dict[str, Any]:
    """The block's content as a JSON object; BlockError says what is wrong and where."""
    value = _parse_json(block.text) if block.language == "json" else _parse_yaml(block.text)
    if not isinstance(value, dict):
        raise BlockError(f"the {block.language} block must hold an object (the cluster request)")
    if not _json_compatible(value, 0):
        raise BlockError(f"the {block.language} block may hold only JSON values (quote dates, versions and the like)")
    return value


def _language(tag: str) -> str:
    return "json" if tag.lower() == "json" else "yaml"


def _adf_block(node: dict[str, Any], depth: int) -> Block | None:
    if depth > _MAX_ADF_DEPTH:
        return None
    if node.get("type") == "codeBlock":
        attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
        lang = attrs.get("language") if isinstance(attrs, dict) else None
        if isinstance(lang, str) and lang.lower() in ("json", "yaml", "yml"):
            content = node.get("content")
            parts = content if isinstance(content, list) else []
            text = "".join(p.get("text", "") for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
            return Block(_language(lang), text)
    children = node.get("content")
    for child in children if isinstance(children, list) else []:
        if isinstance(child, dict) and (found := _adf_block(child, depth + 1)):
            return found
    return None


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise BlockError(f"the json block is not valid JSON ({where}): {exc.msg}") from None
    except RecursionError:
        raise BlockError("the json block is nested too deeply") from None


def _parse_yaml(text: str) -> Any:
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise BlockError("the yaml block may not use anchors or aliases (&name, *name)")
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise BlockError(f"the yaml block is not valid YAML{where}: {exc.problem or 'syntax error'}") from None
    except (yaml.YAMLError, RecursionError):
        raise BlockError("the yaml block is not valid YAML") from None


def _json_compatible(value: Any, depth: int) -> bool:
    if depth > 64:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_compatible(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_compatible(v, depth + 1) for k, v in value.items())
    return False
