"""The outermost layer of the HTTP API: every request gets an answer, and no exception leaves the app.

`Guard` is an ASGI middleware of the FastAPI app, inside Starlette's ServerErrorMiddleware (which answers 500 and
then re-raises, so that under `func.AsgiMiddleware` the exception reached the Functions host: a 500 with a stack
trace). It does two things:

* **Paths.** A path with a dot segment (`.`, `..`), an empty segment (`//`, a trailing `/`), an encoded slash or
  backslash (`%2F`, `%5C`), a backslash or a control character is refused with 400 `InvalidPath` before routing.
  Clients resolve `/pools/..` to the cluster's URL themselves; one that does not must not reach a route that
  reads `..` as a pool name. There is no redirect of any kind (`redirect_slashes=False` in http_api.py).
* **The last resort.** An exception that no handler turned into a refusal (storage or ARM unreachable, a bug) is
  logged by its type, method and path, never its message or the body (either may carry a secret), and answered 503
  problem+json with `Retry-After`; if the response had already started, it is cut short instead.

`WorkerMiddleware` is `func.AsgiMiddleware`, what the Python worker runs the app through in Azure, with what the
app cannot do itself: that middleware percent-decodes the path before the app sees it (so `%2F` arrives as `/`) and
raises `UnicodeDecodeError` on escapes that are not UTF-8, so it checks the URL it is handed first. function_app.py
builds the function app with `AsgiFunctionApp` here, which is `func.AsgiFunctionApp` over `WorkerMiddleware`.
tests/unit/test_http_edge.py drives function_app's own HTTP function through it.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlparse

import azure.functions as func

from functions.problems import PROBLEM_JSON, problem

log = logging.getLogger("aksvend.http")
RETRY_SECONDS = "10"
_ENCODED_SEPARATORS = ("%2f", "%5c")


class Guard:
    """ASGI middleware: refuse malformed paths, and answer 503 for any exception (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        detail = path_problem(path, scope.get("raw_path") or b"")
        if detail is not None:
            return await problem(400, "InvalidPath", detail, _shown(path))(scope, receive, send)
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # the last resort: every known bad input is a refusal (4xx) before this
            log.error("unexpected %s on %s %s", type(exc).__name__, scope.get("method"), _shown(path))
            if not started:
                await unavailable(_shown(path))(scope, receive, send)


def unavailable(instance: str) -> Any:
    return problem(503, "ServiceUnavailable", "aksvend could not complete the request; try again shortly", instance,
                   headers={"Retry-After": RETRY_SECONDS})


def path_problem(path: str, raw_path: bytes = b"") -> str | None:
    """Why this path is refused (a sentence naming the segment by its position), or None. `path` is decoded,
    `raw_path` as sent when the server keeps it (uvicorn does; func.AsgiMiddleware passes the decoded path)."""
    if any(sep in raw_path.lower() for sep in (s.encode() for s in _ENCODED_SEPARATORS)):
        return "the path holds an encoded '/' or '\\' (%2F, %5C); a name never contains one"
    for i, segment in enumerate(path.split("/")[1:], start=1):
        if segment in ("", ".", ".."):
            kind = "empty" if not segment else "a dot segment"
            return f"path segment {i} is {kind}; send the path of a resource, without '.', '..', '//' or a final '/'"
        if "\\" in segment or any(unicodedata.category(c) == "Cc" for c in segment):
            return f"path segment {i} holds a backslash or a control character"
    return None


def _shown(path: str) -> str:
    """The path as a problem's `instance` or in a log line: bounded, control characters escaped."""
    cut = path[:300]
    return "".join(c if unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in cut)


class WorkerMiddleware(func.AsgiMiddleware):
    """func.AsgiMiddleware that refuses a URL it would mangle or fail on, and never lets an exception out."""

    async def handle_async(self, req: func.HttpRequest, context: Any = None) -> func.HttpResponse:
        raw = urlparse(req.url).path
        try:
            decoded = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return _response(400, "InvalidPath", "the path's percent-escapes are not UTF-8", _shown(unquote(raw)))
        detail = path_problem(decoded, raw.encode("utf-8", "surrogateescape"))
        if detail is not None:
            return _response(400, "InvalidPath", detail, _shown(decoded))
        try:
            return await super().handle_async(req, context)
        except Exception as exc:  # the app answers every request itself (Guard); this is the middleware failing
            log.error("unexpected %s in the ASGI middleware on %s %s", type(exc).__name__, req.method, _shown(decoded))
            return _worker_response(unavailable(_shown(decoded)))


def _response(status: int, code: str, detail: str, instance: str) -> func.HttpResponse:
    return _worker_response(problem(status, code, detail, instance))


def _worker_response(response: Any) -> func.HttpResponse:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
    return func.HttpResponse(bytes(response.body), status_code=response.status_code, mimetype=PROBLEM_JSON,
                             headers={**headers, "Content-Type": PROBLEM_JSON})


class AsgiFunctionApp(func.AsgiFunctionApp):
    """func.AsgiFunctionApp whose catch-all HTTP function runs the app through `WorkerMiddleware`."""

    def __init__(self, app: Any, http_auth_level: func.AuthLevel) -> None:
        self._worker_middleware = WorkerMiddleware(app)
        super().__init__(app=app, http_auth_level=http_auth_level)
        self.middleware = self._worker_middleware  # what the base class shuts down

    def _add_http_app(self, http_middleware: Any, function_name: str = "http_app_func") -> None:
        super()._add_http_app(self._worker_middleware, function_name)
