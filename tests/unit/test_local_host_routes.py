"""The local host matches HTTP routes as the Functions host does: its catch-all takes any decoded path, a newline
(%0A) included, so the app (not the host) answers it; a schemathesis run found `POST /api/webhooks/%0A...` answered
by the local host with an empty 404 the Functions host would not give."""

from __future__ import annotations

from types import SimpleNamespace

from local.host.http import Route


def route(template: str) -> Route:
    spec = SimpleNamespace(name="http_app_func", trigger={"route": template, "methods": None},
                           asgi_app=lambda: None)
    return Route(spec, "")  # type: ignore[arg-type]


def test_the_catch_all_takes_a_path_with_a_newline():
    catch_all = route("{*route}")
    assert catch_all.match("POST", "/api/webhooks/\n\U000aafc4x") == {"route": "api/webhooks/\n\U000aafc4x"}
    assert catch_all.match("GET", "/api/clusters\n") == {"route": "api/clusters\n"}


def test_a_named_segment_still_stops_at_a_slash():
    one = route("api/webhooks/{system}")
    assert one.match("POST", "/api/webhooks/jira") == {"system": "jira"}
    assert one.match("POST", "/api/webhooks/jira/extra") is None
