"""Microsoft.Storage storage accounts: enough to be a private endpoint target and a service endpoint's (its firewall's
VNet rules, netacls.py). PUT is long-running the way the Storage
RP does it (202 with `Location` only); names are 3-24 lower-case letters and digits and globally unique.

`POST /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability` `{"name", "type":
"Microsoft.Storage/storageAccounts"}` (REST `StorageAccounts_CheckNameAvailability`, what `az storage account
check-name` and `az storage account create` call) answers `{nameAvailable, reason, message}`: reason
`AccountNameInvalid` or `AlreadyExists` with the messages the PUT refusals use, as the Storage RP answers."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ArmError, invalid, method_not_allowed
from ..store import Resource
from ..world import Call, Reply
from .base import ResourceType
from .netacls import STORAGE_SERVICES, check_vnet_rules

ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
ACCOUNTS = "Microsoft.Storage/storageAccounts"


def invalid_name_message(name: str) -> str:
    return (f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters "
            "in length and use numbers and lower-case letters only.")


def taken_message(name: str) -> str:
    return f"The storage account named {name} is already taken."


def account_taken(world: Any, name: str) -> bool:
    return any(other.name == name for sub in world.subscriptions.values()
               for other in world.store.in_subscription(sub, ACCOUNTS))


class StorageAccounts(ResourceType):
    type_name = ACCOUNTS
    lro_put = "location"

    def validate(self, call: Call, body: dict[str, Any], existing: Resource | None) -> None:
        name = call.path.name
        if not ACCOUNT_NAME.match(name):
            raise invalid(invalid_name_message(name), "name", "AccountNameInvalid")
        if existing is None and account_taken(self.world, name):
            raise ArmError(409, "StorageAccountAlreadyTaken", taken_message(name))
        if not (body.get("sku") or {}).get("name"):
            raise invalid("The sku name is required.", "sku.name")
        check_vnet_rules(self.world, body, STORAGE_SERVICES, "NetworkAclsValidationFailure")

    def patch(self, call: Call) -> Reply:
        """A partial update (`az storage account update`, `network-rule add`), its VNet rules checked (netacls.py)."""
        check_vnet_rules(self.world, call.body if isinstance(call.body, dict) else {}, STORAGE_SERVICES,
                         "NetworkAclsValidationFailure")
        return super().patch(call)

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
        stored["properties"].setdefault("networkAcls", {"bypass": "AzureServices", "virtualNetworkRules": [],
                                                        "ipRules": [], "defaultAction": "Allow"})  # Storage's default
        return stored


class StorageNameAvailability(ResourceType):
    """`POST .../providers/Microsoft.Storage/checkNameAvailability` (module docstring); no other verb."""

    type_name = "Microsoft.Storage/checkNameAvailability"
    scope_kind = "subscription"

    def action(self, call: Call, name: str) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        wanted = body.get("name")
        if not isinstance(wanted, str) or not wanted:
            raise invalid("The request must name the account: {\"name\": ..., \"type\": ...}.", "name")
        if str(body.get("type", ACCOUNTS)).lower() != ACCOUNTS.lower():
            raise invalid(f"type must be {ACCOUNTS}.", "type")
        if not ACCOUNT_NAME.match(wanted):
            answer = {"nameAvailable": False, "reason": "AccountNameInvalid", "message": invalid_name_message(wanted)}
        elif account_taken(self.world, wanted):
            answer = {"nameAvailable": False, "reason": "AlreadyExists", "message": taken_message(wanted)}
        else:
            answer = {"nameAvailable": True}
        return Reply(200, answer)

    def get(self, call: Call) -> Reply:
        raise method_not_allowed(call.method, self.type_name)

    list = put = patch = delete = get
