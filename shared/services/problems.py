"""`Problem`: a refusal with an HTTP status, a stable code and, for invalid input, the violations. Kept apart
(and light) so that the trigger layer can import it at cold start without the services behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.violations import Violation


@dataclass
class Problem(Exception):
    status: int
    code: str
    detail: str
    violations: list[Violation] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail}"
