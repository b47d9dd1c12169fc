"""A Key Vault secrets stand-in (data plane, `/secrets/{name}`) at the emulator's own address, so that the real
azure-keyvault-secrets client can be tested: its challenge authentication (a 401 with `WWW-Authenticate`
first, then the bearer token), set, get of the latest or one version, the list of versions, and
`SecretNotFound`. Use the client with `verify_challenge_resource=False` (the vault's host is 127.0.0.1, not
*.vault.azure.net). Values are kept in memory and never logged; `GET /_emulator/keyvault` lists names and
versions, not values."""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiohttp import web

from .world import World

CHALLENGE = 'Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"'


def routes(world: World, base_url: Any) -> list[web.RouteDef]:
    secrets: dict[str, list[dict[str, Any]]] = {}

    def unauthenticated(request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None
        return web.json_response(
            {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}},
            status=401, headers={"WWW-Authenticate": CHALLENGE.format(tenant=world.settings.tenant_id)})

    def bundle(request: web.Request, name: str, version: dict[str, Any]) -> dict[str, Any]:
        return {"value": version["value"], "id": f"{base_url(request)}/secrets/{name}/{version['version']}",
                "contentType": version.get("contentType"), "tags": version.get("tags") or {},
                "attributes": {"enabled": True, "created": version["created"], "updated": version["created"],
                               "recoveryLevel": "Recoverable+Purgeable"}}

    async def set_secret(request: web.Request) -> web.Response:
        if (refused := unauthenticated(request)) is not None:
            return refused
        name = request.match_info["name"]
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            return web.json_response({"error": {"code": "BadParameter", "message": "value is required"}}, status=400)
        version = {"version": uuid.uuid4().hex, "value": body["value"], "contentType": body.get("contentType"),
                   "tags": body.get("tags"), "created": int(time.time())}
        secrets.setdefault(name.lower(), []).append(version)
        return web.json_response(bundle(request, name, version))

    async def get_secret(request: web.Request) -> web.Response:
        if (refused := unauthenticated(request)) is not None:
            return refused
        name, wanted = request.match_info["name"], request.match_info.get("version") or ""
        versions = secrets.get(name.lower(), [])
        found = next((v for v in versions if v["version"] == wanted), None) if wanted else (
            versions[-1] if versions else None)
        if found is None:
            return web.json_response({"error": {"code": "SecretNotFound", "message": f"A secret with (name/id) "
                                                f"{name} was not found in this key vault."}}, status=404)
        return web.json_response(bundle(request, name, found))

    async def versions(request: web.Request) -> web.Response:
        """The versions of a secret (list_properties_of_secret_versions): ids and attributes, no values."""
        if (refused := unauthenticated(request)) is not None:
            return refused
        name = request.match_info["name"]
        items = [{k: v for k, v in bundle(request, name, version).items() if k != "value"}
                 for version in secrets.get(name.lower(), [])]
        return web.json_response({"value": items, "nextLink": None})

    async def listing(_: web.Request) -> web.Response:
        return web.json_response({name: [v["version"] for v in versions] for name, versions in secrets.items()})

    return [
        web.put("/secrets/{name}", set_secret),
        web.get("/secrets/{name}", get_secret),
        web.get("/secrets/{name}/", get_secret),
        web.get("/secrets/{name}/versions", versions),
        web.get("/secrets/{name}/{version}", get_secret),
        web.get("/_emulator/keyvault", listing),
    ]
