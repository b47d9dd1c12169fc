"""Swagger UI at /api/docs works with no internet: the page names only assets the app serves itself, and a real
headless browser (Debian's chromium), unable to resolve any host but 127.0.0.1, renders every operation of the
OpenAPI document and the first example of POST /api/clusters."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from local.host.client import RunningHost

pytestmark = pytest.mark.e2e
# Any URL with a scheme or protocol-relative: the page must have none (its assets are paths on this host).
ABSOLUTE_URL = re.compile(r"[a-z][a-z0-9+.-]*://|//[a-z0-9]", re.IGNORECASE)
LOADED = re.compile(r"<(?:script|link|img|iframe|source|object|embed)\b[^>]*?\b(?:src|href|data)=\"([^\"]*)\"", re.I)
OPERATION = re.compile(r'opblock-summary-method">(\w+)</span>.{0,300}?data-path="([^"]+)".{0,600}?'
                       r'opblock-summary-description">([^<]*)<', re.S)
# The browser's budget of virtual time: it pauses while requests are pending and only runs when the page is idle,
# so what the page does within it does not depend on how busy the machine is.
VIRTUAL_TIME_MS = "30000"


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is missing on CI: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium): the browser check runs on CI")


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, in headless chromium that resolves no host but 127.0.0.1 and makes
    no background requests of its own."""
    args = [chromium(), "--headless", "--no-sandbox",  # no sandbox: CI runs as root, where chromium needs this
            "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_docs_page_names_only_assets_the_app_serves_itself(api: httpx.Client):
    page = api.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert ABSOLUTE_URL.findall(page.text) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3 and all(a.startswith("/api/docs/assets/") for a in assets), assets
    kinds = {}
    for asset in assets:
        response = api.get(asset)
        assert response.status_code == 200, asset
        assert "immutable" in response.headers["cache-control"] and "max-age=31536000" in response.headers[
            "cache-control"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(response.content) > 1000
        kinds[asset.rsplit("/", 1)[1]] = response.headers["content-type"].split(";")[0]
    assert kinds == {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                     "favicon.png": "image/png"}


def test_an_asset_of_another_version_or_outside_the_list_is_a_404_problem(api: httpx.Client):
    version = re.search(r"/api/docs/assets/([^/]+)/swagger-ui.css", api.get("/api/docs").text)
    assert version is not None
    # Another version; a file the package ships but the page does not use.
    for name in ("0.0.0/swagger-ui.css", f"{version.group(1)}/redoc.standalone.js"):
        response = api.get(f"/api/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"].startswith("application/problem+json")
    # A way out of the folder never reaches the route: an encoded slash is refused before routing (docs/api.md).
    escape = api.get(f"/api/docs/assets/{version.group(1)}/..%2Fcore.py")
    assert escape.status_code == 400 and escape.json()["code"] == "InvalidPath"
    assert escape.headers["content-type"].startswith("application/problem+json")


def test_a_headless_browser_with_no_internet_renders_every_operation_and_the_first_example(
        host: RunningHost, api: httpx.Client, tmp_path: Path):
    doc = api.get("/api/openapi.json").json()
    create = doc["paths"]["/api/clusters"]["post"]
    # Deep link: Swagger UI opens POST /api/clusters, so its request body example is rendered too.
    dom = rendered_dom(f"{host.base_url}/api/docs#/{create['tags'][0]}/{create['operationId']}", tmp_path)

    rendered = {(m.lower(), html.unescape(p), html.unescape(s)) for m, p, s in OPERATION.findall(dom)}
    documented = {(m, p, op["summary"]) for p, ops in doc["paths"].items() for m, op in ops.items()}
    assert rendered == documented
    assert {("post", "/api/clusters"), ("post", "/api/plan")} <= {(m, p) for m, p, _ in rendered}

    loaded = LOADED.findall(dom)
    assert loaded, "the rendered page loads no assets at all?"
    external = [u for u in loaded if ABSOLUTE_URL.match(u) and not u.startswith(host.base_url + "/")]
    assert external == []

    shown = re.search(r'<pre class="body-param__example[^>]*>(.*?)</pre>', dom, re.S)
    assert shown is not None, "POST /api/clusters shows no example body"
    first = next(iter(create["requestBody"]["content"]["application/json"]["examples"].values()))["value"]
    assert json.loads(html.unescape(re.sub(r"<[^>]+>", "", shown.group(1)))) == first
