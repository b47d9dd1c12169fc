"""Who may ask for what: callers (or their groups) mapped to the subscriptions and resource groups they may use.

The policy document (JSON; see docs/policy.md):
    {"rules": [
        {"callers": ["alice@contoso.com"], "groups": ["platform-admins"],
         "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["create", "change", "delete"]},
        {"groups": ["team-payments"], "subscriptions": ["0000...-0000"], "resourceGroups": ["rg-payments-*"],
         "actions": ["create", "change"]}]}
A request is allowed when any rule matches the caller (by id/name or one of its groups), the subscription,
the resource group (exact, case-insensitive, or a trailing-* prefix) and the action. No rule: refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.domain.caller import Caller

Action = Literal["create", "change", "delete", "read"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    callers: list[str] = Field(default_factory=list, max_length=1000)
    groups: list[str] = Field(default_factory=list, max_length=1000)
    subscriptions: list[str] = Field(min_length=1, max_length=1000)
    resource_groups: list[str] = Field(alias="resourceGroups", min_length=1, max_length=1000)
    actions: list[Action] = Field(default_factory=lambda: list[Action](["create", "change", "read"]), min_length=1)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: list[_Rule] = Field(default_factory=list, max_length=10_000)

    @classmethod
    def parse(cls, text: str) -> Policy:
        """Raises ValueError naming the field and the rule when the document is malformed."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(p) for p in first["loc"])
            raise ValueError(f"caller policy: {where or 'document'}: {first['msg']}") from None

    def allows(self, caller: Caller, subscription_id: str, resource_group: str, action: Action) -> bool:
        return any(_matches(rule, caller, subscription_id, resource_group, action) for rule in self.rules)


def allow_all() -> Policy:
    return Policy.model_validate({"rules": [{"callers": ["*"], "subscriptions": ["*"], "resourceGroups": ["*"],
                                             "actions": ["create", "change", "delete", "read"]}]})


def _matches(rule: _Rule, caller: Caller, sub: str, rg: str, action: Action) -> bool:
    who = "*" in rule.callers or _any_equal(rule.callers, (caller.id, caller.name)) or _any_equal(
        rule.groups, caller.groups)
    return (who and action in rule.actions and _fits(rule.subscriptions, sub)
            and _fits(rule.resource_groups, rg))


def _any_equal(patterns: Iterable[str], values: Iterable[str]) -> bool:
    wanted = {p.lower() for p in patterns}
    return any(v and v.lower() in wanted for v in values)


def _fits(patterns: Iterable[str], value: str) -> bool:
    value = value.lower()
    for p in patterns:
        p = p.lower()
        if p == "*" or p == value or (p.endswith("*") and value.startswith(p[:-1])):
            return True
    return False
