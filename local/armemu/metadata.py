"""Endpoints outside ARM's resource paths that clients and the Azure CLI call: cloud metadata (so
`az cloud register --endpoint-resource-manager https://127.0.0.1:PORT` works), an IMDS-style managed identity token
endpoint, and the subscription and tenant lists.

The metadata's shape follows its api-version, as ARM's does and as its readers expect: azure-cli-core's
`cloud register` (command_modules/cloud/custom.py `_populate_from_metadata_endpoint`) asks for 2022-09-01 and hands
the answer to `_arm_to_cli_mapper`, which indexes it as ONE cloud (`arm_dict['name']`, `['authentication']
['loginEndpoint']`, `['suffixes']`): a list there is the TypeError az 2.91 hit. `ARM_CLOUD_METADATA_URL` readers
(`_convert_arm_to_cli`) iterate a list of clouds, the 2019-05-01 shape. msrestazure's `get_cloud_from_metadata_endpoint`
asks for 1.0 and reads `galleryEndpoint`, `graphEndpoint` and `authentication`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..credential import mint_token
from .world import World


def cloud_metadata(base_url: str, api_version: str) -> Any:
    """The emulator as a cloud: ARM and the login endpoint (Entra ID's v2.0 routes, entra.py) are the emulator."""
    cloud = {
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": base_url + "/",
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
    if api_version >= "2022-09-01":
        return cloud  # the cloud that answers, one object
    if api_version >= "2019-05-01":
        return [cloud]  # every cloud ARM knows, a list
    return {  # the first shape (api-version 1.0, 2015-01-01 ...)
        "galleryEndpoint": cloud["gallery"],
        "graphEndpoint": cloud["graph"],
        "portalEndpoint": cloud["portal"],
        "authentication": cloud["authentication"],
    }


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
