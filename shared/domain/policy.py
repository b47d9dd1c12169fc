"""Who may ask for what: principals, groups, app roles and aksvend's own services mapped to the subscriptions and
resource groups they may use.

The policy document (JSON; see docs/policy.md):
    {"rules": [
        {"principals": ["<tenant id>/<object id>"], "groups": ["<group object id>"], "roles": ["Clusters.Admin"],
         "subscriptions": ["*"], "resourceGroups": ["*"], "actions": ["create", "change", "delete", "read"]},
        {"services": ["queue:cluster-requests", "webhook:jira"], "subscriptions": ["0000...-0000"],
         "resourceGroups": ["rg-batch-*"], "actions": ["create"]}]}
A request is allowed when any rule matches the caller, the subscription, the resource group (exact,
case-insensitive, or a trailing-* prefix) and the action. No rule: refused. A principal (docs: "Who is calling")
matches by its `<tenant>/<object id>` in `principals`, one of its group object ids in `groups` or one of its app
role values in `roles`; a service only by its exact id in `services`. `"*"` in `principals` is any principal, in
`services` any service. Display names match nothing: anyone may rename themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.domain.armid import GUID, fold_case
from shared.domain.caller import SERVICE_ID, Caller

# admin: adopt a cluster aksvend did not make (never in a rule's default actions)
Action = Literal["create", "change", "delete", "read", "admin"]
OLD_FIELD = ("'callers' is gone (display names and ids matched alike): name principals as <tenant id>/<object id> "
             "in 'principals' and aksvend's own callers in 'services' (docs/policy.md)")


def _principal(value: str) -> str:
    tenant, slash, oid = value.partition("/")
    if value != "*" and not (slash and GUID.match(tenant) and GUID.match(oid)):
        raise ValueError("a principal is '<tenant id>/<object id>' (two GUIDs) or '*'")
    return value.lower()


def _group(value: str) -> str:
    if not GUID.match(value):
        raise ValueError("a group is its object id (a GUID), as in the token's groups claim; names are not unique")
    return value.lower()


def _service(value: str) -> str:
    if value != "*" and not SERVICE_ID.match(value):
        raise ValueError("a service is queue:cluster-requests, aksvend:events, webhook:<system> or '*'")
    return value


def _role(value: str) -> str:
    if not value or len(value) > 120 or not value.isprintable() or " " in value:
        raise ValueError("an app role is its value (1-120 printable characters without spaces)")
    return value


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    principals: list[Annotated[str, AfterValidator(_principal)]] = Field(default_factory=list, max_length=1000)
    groups: list[Annotated[str, AfterValidator(_group)]] = Field(default_factory=list, max_length=1000)
    roles: list[Annotated[str, AfterValidator(_role)]] = Field(default_factory=list, max_length=1000)
    services: list[Annotated[str, AfterValidator(_service)]] = Field(default_factory=list, max_length=1000)
    subscriptions: list[str] = Field(min_length=1, max_length=1000)
    resource_groups: list[str] = Field(alias="resourceGroups", min_length=1, max_length=1000)
    actions: list[Action] = Field(default_factory=lambda: list[Action](["create", "change", "read"]), min_length=1)
    # The most a cluster this rule allows may cost a month, in the price table's currency (docs/cost.md).
    monthly_budget: float | None = Field(default=None, alias="monthlyBudget", gt=0, le=100_000_000)

    @model_validator(mode="before")
    @classmethod
    def _no_old_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "callers" in data:
            raise ValueError(OLD_FIELD)
        return data

    @model_validator(mode="after")
    def _names_someone(self) -> _Rule:
        if not (self.principals or self.groups or self.roles or self.services):
            raise ValueError("a rule names no principals, groups, roles or services: it would match no one")
        return self

    def matches(self, caller: Caller) -> bool:
        if caller.is_service:
            return "*" in self.services or caller.id in self.services
        return ("*" in self.principals or caller.id in self.principals
                or not caller.groups.isdisjoint(self.groups) or not caller.roles.isdisjoint(self.roles))


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
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ValueError(f"caller policy: {where or 'document'}: {message}") from None

    def allows(self, caller: Caller, subscription_id: str, resource_group: str, action: Action) -> bool:
        return any(self._matching(caller, subscription_id, resource_group, action))

    def budget(self, caller: Caller, subscription_id: str, resource_group: str, action: Action) -> float | None:
        """The monthly budget of what this caller may do here: the largest of the matching rules' (any rule allows
        the request, so the most generous one decides); None when a matching rule sets none, or none matches."""
        budgets = [rule.monthly_budget for rule in self._matching(caller, subscription_id, resource_group, action)]
        return None if not budgets or None in budgets else max(b for b in budgets if b is not None)

    def _matching(self, caller: Caller, subscription_id: str, resource_group: str, action: Action) -> list[_Rule]:
        return [rule for rule in self.rules if rule.matches(caller) and action in rule.actions
                and _fits(rule.subscriptions, subscription_id) and _fits(rule.resource_groups, resource_group)]


_ACTION_OF: dict[str, Action] = {"create-cluster": "create", "delete-cluster": "delete"}


def action_of(kind: str) -> Action:
    """The action an operation of this kind needs (a pool change or an upgrade: `change`); retrying a failed one
    needs the same action, since it does the same again."""
    return _ACTION_OF.get(kind, "change")


def allow_all() -> Policy:
    return Policy.model_validate({"rules": [{"principals": ["*"], "services": ["*"], "subscriptions": ["*"],
                                             "resourceGroups": ["*"],
                                             "actions": ["create", "change", "delete", "read", "admin"]}]})


def _fits(patterns: Iterable[str], value: str) -> bool:
    value = fold_case(value)
    for p in patterns:
        p = fold_case(p)
        if p == "*" or p == value or (p.endswith("*") and value.startswith(p[:-1])):
            return True
    return False
