"""The budget rule: a request may not cost more at every pool's maximum than its own or the policy's budget."""

from __future__ import annotations

from collections.abc import Iterator

from shared.domain.pricing import shipped
from shared.domain.pricing.budget import over_budget
from shared.domain.request import ClusterRequest
from shared.domain.rules.context import Context
from shared.domain.violations import Violation


def within_budget(r: ClusterRequest, ctx: Context) -> Iterator[Violation]:
    if r.budget is None and ctx.policy_budget is None:
        return
    yield from over_budget(r, shipped(), ctx.policy_budget, ctx.changed_pool)


RULES = (within_budget,)
