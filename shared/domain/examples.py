"""The example request: the production profile with one private endpoint to a storage account, so that it shows the
whole architecture. The OpenAPI document's example, what the demo builds (local/demo/) and what the benchmarks
provision."""

from __future__ import annotations

from typing import Any

DATA_ACCOUNT = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shop-data"
                "/providers/Microsoft.Storage/storageAccounts/stshopdata")
PRODUCTION_REQUEST: dict[str, Any] = {
    "name": "shop-prod", "resourceGroup": "rg-shop", "location": "westeurope", "profile": "production",
    "network": {"privateEndpoints": [{"name": "data", "targetResourceId": DATA_ACCOUNT, "groupId": "blob"}]},
}
