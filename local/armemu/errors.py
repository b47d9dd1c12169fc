"""ARM error responses.

Every refusal the emulator makes is an `ArmError`, rendered as ARM's body
`{"error": {"code", "message", "target", "details"}}`. Handlers raise; the router renders. Constructors for the
errors ARM itself (not a resource provider) produces live here so that their wording is in one place.
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An ARM error response: HTTP status plus the `error` object. Extra headers (e.g. Retry-After) ride along."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = headers or {}

    def to_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        error["details"] = self.details
        return error

    def body(self) -> dict[str, Any]:
        return {"error": self.to_error()}


def invalid(message: str, target: str | None = None, code: str = "InvalidParameter") -> ArmError:
    return ArmError(400, code, message, target=target)


def resource_group_not_found(resource_group: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def resource_not_found(type_name: str, name: str, resource_group: str | None) -> ArmError:
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{type_name}/{name}'{where} was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def parent_not_found(parent_name: str) -> ArmError:
    return ArmError(
        404,
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{parent_name}' not found.",
    )


def no_route(method: str, path: str) -> ArmError:
    return ArmError(
        404,
        "InvalidResourceType",
        f"The emulator has no route for {method} {path}; see docs/emulator.md for what it serves.",
    )


def method_not_allowed(method: str, type_name: str) -> ArmError:
    return ArmError(
        405, "MethodNotAllowed", f"The requested method '{method}' is not supported for resource type '{type_name}'."
    )
