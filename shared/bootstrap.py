"""Wires adapters to services from Settings. Entry points (function_app, CLI, local host) call this; tests pass
their own parameters instead of reading the environment."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings


@dataclass(frozen=True, slots=True)
class App:
    settings: Settings


def build(settings: Settings | None = None) -> App:
    return App(settings=settings or Settings.from_env())
