"""Microsoft.Storage storage accounts: enough to be a private endpoint target. PUT is long-running the way the Storage
RP does it (202 with `Location` only); names are 3-24 lower-case letters and digits and globally unique."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ArmError, invalid
from ..store import Resource
from ..world import Call
from .base import ResourceType

ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")


class StorageAccounts(ResourceType):
    type_name = "Microsoft.Storage/storageAccounts"
    lro_put = "location"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        name = call.path.name
        if not ACCOUNT_NAME.match(name):
            raise invalid(
                f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters "
                "in length and use numbers and lower-case letters only.",
                "name",
                "AccountNameInvalid",
            )
        if existing is None:
            for subscription in self.world.subscriptions.values():
                for other in self.world.store.in_subscription(subscription, self.type_name):
                    if other.name == name:
                        raise ArmError(
                            409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken."
                        )
        if not (body.get("sku") or {}).get("name"):
            raise invalid("The sku name is required.", "sku.name")

    def shape(self, call: Call, body: dict[str, Any], existing: Resource | None) -> dict[str, Any]:
        stored = super().shape(call, body, existing)
        name = call.path.name
        stored.setdefault("kind", "StorageV2")
        stored["properties"]["primaryEndpoints"] = {
            kind: f"https://{name}.{kind}.core.windows.net/"
            for kind in ("blob", "queue", "table", "file", "dfs", "web")
        }
        stored["properties"]["primaryLocation"] = stored["location"]
        stored["properties"]["statusOfPrimary"] = "available"
        return stored
