"""Swagger UI at `/api/docs`, with its assets served by the app itself so that the page works with no internet
(FastAPI's default page loads them from a CDN, and is blank offline).

The assets are swagger-ui's dist as shipped by the `fastapi-offline` package (pinned in requirements.txt, so it
is deployed with the app). Their URLs carry the package's version, so a browser may keep them for a year: an
upgrade changes the URLs. The page itself is never cached, and its Content-Security-Policy lets the browser load
nothing from anywhere but this host.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from shared.refusals import NotFound

DOCS = "/api/docs"
ASSET_ROUTE = DOCS + "/assets/{version}/{name}"
DISTRIBUTION, PACKAGE = "fastapi-offline", "fastapi_offline"
MEDIA_TYPES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
               "favicon.png": "image/png"}
IMMUTABLE = "public, max-age=31536000, immutable"
# Swagger UI's own inline script and styles need 'unsafe-inline'; nothing may come from elsewhere.
PAGE_POLICY = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

router = APIRouter(include_in_schema=False)


@functools.cache
def assets() -> tuple[str, Path]:
    """The package's version and its folder of static files, looked up on first use, not at cold start."""
    from importlib.metadata import version
    from importlib.util import find_spec

    spec = find_spec(PACKAGE)  # finds the package without importing it: its own code is not needed
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{DISTRIBUTION} is not installed (requirements.txt)")
    return version(DISTRIBUTION), Path(next(iter(spec.submodule_search_locations))) / "static"


def asset_url(name: str) -> str:
    return f"{DOCS}/assets/{assets()[0]}/{name}"


@router.get(DOCS)
async def swagger_ui(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title=f"{request.app.title} API",
        swagger_js_url=asset_url("swagger-ui-bundle.js"), swagger_css_url=asset_url("swagger-ui.css"),
        swagger_favicon_url=asset_url("favicon.png"),
        # No badge from swagger.io's online validator: it would send the document's URL to a third party.
        swagger_ui_parameters={"validatorUrl": None})
    page.headers.update({"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY,
                         "X-Content-Type-Options": "nosniff"})
    return page


@router.get(ASSET_ROUTE)
async def swagger_ui_asset(request: Request) -> FileResponse:
    version, folder = assets()
    name = request.path_params["name"]
    if request.path_params["version"] != version or name not in MEDIA_TYPES:
        raise NotFound("NotFound", "no such documentation asset")
    return FileResponse(folder / name, media_type=MEDIA_TYPES[name],
                        headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"})
