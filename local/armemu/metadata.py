"""Endpoints outside ARM's resource paths that clients and the Azure CLI call: cloud metadata (so
`az cloud register --endpoint-resource-manager https://127.0.0.1:PORT` works), an IMDS-style managed identity token
endpoint, and the subscription and tenant lists."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..credential import mint_token
from .world import World


def cloud_metadata(base_url: str, api_version: str) -> Any:
    cloud = {
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com/",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "AzureCloud",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": base_url + "/",
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "gallery": "https://gallery.azure.com/",
    }
    # api-version 2022-09-01 answers a list of clouds; older versions a single object.
    return [cloud] if api_version >= "2022-09-01" else cloud


def routes(world: World, base_url) -> list[web.RouteDef]:
    async def metadata_endpoints(request: web.Request) -> web.Response:
        return web.json_response(cloud_metadata(base_url(request), request.query.get("api-version", "2022-09-01")))

    async def imds_token(request: web.Request) -> web.Response:
        if request.headers.get("Metadata", "").lower() != "true":
            return web.json_response(
                {"error": "invalid_request", "error_description": "Required metadata header not specified"}, status=400
            )
        resource = request.query.get("resource", "https://management.azure.com/")
        token = mint_token((resource,), world.settings.tenant_id, request.query.get("client_id") or "imds-identity")
        return web.json_response(
            {
                "access_token": token.token,
                "client_id": request.query.get("client_id", ""),
                "expires_in": "3600",
                "expires_on": str(token.expires_on),
                "ext_expires_in": "3600",
                "not_before": str(token.expires_on - 3600),
                "resource": resource,
                "token_type": "Bearer",
            }
        )

    async def subscriptions(request: web.Request) -> web.Response:
        return web.json_response({"value": [_subscription(world, s) for s in world.subscriptions.values()]})

    async def subscription(request: web.Request) -> web.Response:
        return web.json_response(_subscription(world, request.match_info["sub"]))

    async def tenants(request: web.Request) -> web.Response:
        tid = world.settings.tenant_id
        return web.json_response(
            {
                "value": [
                    {
                        "id": f"/tenants/{tid}",
                        "tenantId": tid,
                        "tenantCategory": "Home",
                        "displayName": "aksvend emulator tenant",
                        "defaultDomain": "emulator.local",
                    }
                ]
            }
        )

    return [
        web.get("/metadata/endpoints", metadata_endpoints),
        web.get("/metadata/identity/oauth2/token", imds_token),
        web.get("/subscriptions", subscriptions),
        web.get("/subscriptions/{sub}", subscription),
        web.get("/tenants", tenants),
    ]


def _subscription(world: World, subscription_id: str) -> dict[str, Any]:
    world.note_subscription(subscription_id)
    return {
        "id": f"/subscriptions/{subscription_id}",
        "subscriptionId": subscription_id,
        "tenantId": world.settings.tenant_id,
        "displayName": f"Emulated subscription {subscription_id[:8]}",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
    }
