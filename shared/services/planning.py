"""Use case: validate and plan a raw cluster request, with no side effects (POST /api/plan, `aksvend plan`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.domain.plan import Plan, plan
from shared.domain.rules import Context, check
from shared.domain.violations import Violation, errors, warnings


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    plan: Plan | None
    violations: tuple[Violation, ...]

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
        }


def plan_request(raw: Any, *, default_subscription_id: str, today: date | None = None) -> PlanOutcome:
    context = Context(as_of=today) if today else Context()
    request, violations = check(raw, default_subscription_id=default_subscription_id, context=context)
    return PlanOutcome(plan(request) if request else None, tuple(violations))
