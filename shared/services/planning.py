"""Use case: validate and plan a raw cluster request, with no side effects (POST /api/plan, `aksvend plan`).

`plan_request` is the pure part (the CLI's, and the benchmark's). `plan_for_caller` is the API's: it also holds
the request to the caller policy's budget and, when the caller may read the subscription, reads the region's
compute usages to show `quota: {family: {limit, used, needed}}` (read only; docs/cost.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.domain.caller import Caller
from shared.domain.plan import Plan, plan
from shared.domain.policy import Policy
from shared.domain.pricing import shipped
from shared.domain.pricing.budget import over_budget
from shared.domain.quota import needs, parse_usages, report
from shared.domain.rules import Context, check
from shared.domain.violations import Violation, errors, warnings
from shared.engine.ports import ArmPort
from shared.errors import FatalError, RetryableError
from shared.services.targets import authorize_create


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    plan: Plan | None
    violations: tuple[Violation, ...]
    quota: dict[str, Any] | None = None  # {family: {limit, used, needed}}; None: not read

    @property
    def valid(self) -> bool:
        return self.plan is not None

    @property
    def errors(self) -> list[Violation]:
        return errors(list(self.violations))

    @property
    def warnings(self) -> list[Violation]:
        return warnings(list(self.violations))

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": [v.to_dict() for v in self.errors],
            "warnings": [v.to_dict() for v in self.warnings],
            "plan": self.plan.to_dict() if self.plan else None,
            **({"quota": self.quota} if self.quota is not None else {}),
        }


def plan_request(raw: Any, *, default_subscription_id: str, today: date | None = None) -> PlanOutcome:
    context = Context(as_of=today) if today else Context()
    request, violations = check(raw, default_subscription_id=default_subscription_id, context=context)
    return PlanOutcome(plan(request) if request else None, tuple(violations))


async def plan_for_caller(raw: Any, caller: Caller, policy: Policy, arm: ArmPort | None, *,
                          default_subscription_id: str, today: date | None = None) -> PlanOutcome:
    """`plan_request`, then whether the caller may create there (NotPermitted, as the create would be), then the
    caller policy's budget (BUDGET_EXCEEDED), then the quota the request needs against the region's usages when the
    caller may read the subscription and resource group (nothing when ARM cannot answer: the plan stands without
    it)."""
    outcome = plan_request(raw, default_subscription_id=default_subscription_id, today=today)
    if outcome.plan is None:
        return outcome
    r = outcome.plan.request
    authorize_create(policy, caller, r)  # 403 as the create would: the plan does not answer valid where it may not
    budget = policy.budget(caller, r.subscription_id, r.resource_group, "create")
    if budget is not None and (found := list(over_budget(r, shipped(), budget))):
        return PlanOutcome(None, (*outcome.violations, *found))
    if arm is None or not policy.allows(caller, r.subscription_id, r.resource_group, "read"):
        return outcome
    try:
        usages = parse_usages(await arm.usages(r.subscription_id, r.location))
    except (RetryableError, FatalError):
        return outcome
    return dataclasses.replace(outcome, quota=report(needs((p, 0) for p in r.pools), usages))
