"""The base of every model of the request contract: camelCase JSON, strict types, unknown fields refused.

Its own module so that the contract can be split over several modules (request.py, request_options.py) that all
parse the same way.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ContractModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=False,
        # JSON's types as they are: "3" is not a count, true is not 1, and NaN/Infinity (or 1e400, which JSON
        # parsers read as infinity) is no price.
        strict=True,
        allow_inf_nan=False,
    )
