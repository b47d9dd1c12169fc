"""What rules need to know besides the request. The domain has no clock: the caller says what day it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.domain.vmsizes import CATALOG_AS_OF


@dataclass(frozen=True, slots=True)
class Context:
    # Day against which announced retirements are judged; defaults to the day the catalog was checked.
    as_of: date = field(default=CATALOG_AS_OF)
    # The caller policy's monthly budget for this caller and resource group (docs/policy.md); None: none.
    policy_budget: float | None = None
    # The pool a change of a running cluster touches: a budget refusal names it (pricing/budget.py); None: a create.
    changed_pool: str | None = None
