"""Prices and the monthly estimate of a cluster request (docs/cost.md).

`shipped()` is the price table that ships with the code (`prices.json` beside this module, with its date and
sources inside); `estimate(request, table)` is the pure estimate every plan shows.
"""

from __future__ import annotations

from shared.domain.pricing.estimate import LEFT_OUT, Estimate, PoolCost, estimate
from shared.domain.pricing.table import TABLE_PATH, PriceTable, shipped

__all__ = ["LEFT_OUT", "TABLE_PATH", "Estimate", "PoolCost", "PriceTable", "estimate", "shipped"]
