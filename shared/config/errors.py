"""`ConfigError`: the one error of reading settings. At the bottom of the package, so that every module of it can
raise it without importing another."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting and the rule, never its value."""
