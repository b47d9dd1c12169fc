"""Settings from the environment (Functions app settings), read once into a frozen object and passed in.

Nothing else in aksvend reads os.environ. Every setting the code reads is listed in SETTINGS, so that
infra/ can be checked against it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.armid import GUID

ZERO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

# name -> what it is for. infra/ sets each of these (checked by a test once infra/ exists).
SETTINGS: Mapping[str, str] = {
    "AKSVEND_DEFAULT_SUBSCRIPTION_ID": "subscription used when a request names none",
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting and the rule, never its value."""


@dataclass(frozen=True, slots=True)
class Settings:
    default_subscription_id: str = ZERO_SUBSCRIPTION

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        subscription = env.get("AKSVEND_DEFAULT_SUBSCRIPTION_ID", ZERO_SUBSCRIPTION)
        if not GUID.match(subscription):
            raise ConfigError("AKSVEND_DEFAULT_SUBSCRIPTION_ID must be a subscription GUID")
        return cls(default_subscription_id=subscription)
