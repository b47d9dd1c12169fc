"""Validation: every rule a request breaks, all at once.

`validate(request)` runs every rule over an expanded request (see `profiles.expand`) and returns the
violations in a stable order. Each rule is a small function `(request, context) -> iterable of Violation`;
a rule looks only at what it is about and never assumes another rule passed, so that one mistake does not
hide the next. Rules come from docs/aks-facts.md; each has its own code and its own test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shared.domain.pool_subnets import place
from shared.domain.profiles import expand
from shared.domain.request import ClusterRequest
from shared.domain.rules import (
    access,
    budget,
    byo,
    cluster,
    endpoints,
    networking,
    pool_options,
    pools,
    production,
    subnets,
    workloads,
)
from shared.domain.rules.context import Context
from shared.domain.violations import Violation

Rule = Callable[[ClusterRequest, Context], Iterable[Violation]]

RULES: tuple[Rule, ...] = (*cluster.RULES, *pools.RULES, *workloads.RULES, *networking.RULES, *endpoints.RULES,
                         *access.RULES, *subnets.RULES, *byo.RULES, *budget.RULES, *production.RULES,
                         *pool_options.RULES)


def validate(request: ClusterRequest, context: Context | None = None) -> list[Violation]:
    ctx = context or Context()
    return [v for rule in RULES for v in rule(request, ctx)]


def check(raw: Any, *, default_subscription_id: str, context: Context | None = None,
          ) -> tuple[ClusterRequest | None, list[Violation]]:
    """Expand and validate a raw request. The request is returned only when no violation is an error."""
    request, violations = expand(raw, default_subscription_id=default_subscription_id)
    if request is None:
        return None, violations  # shape errors only: the rules need a request of the right shape
    request = place(request)  # a pool's `subnet: "auto"` becomes a free prefix of the VNet
    violations = [*violations, *validate(request, context)]  # the expansion's warnings, then every rule's
    has_errors = any(v.severity == "error" for v in violations)
    return (None if has_errors else request), violations


__all__ = ["Context", "check", "validate"]
