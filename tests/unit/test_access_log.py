"""The local host's access log (uvicorn's, on with --verbose) never prints a secret: the events webhook's `?code=`
and other secret query parameters are replaced with *** (local/host/access_log.py). Before, uvicorn logged each
request's path with its query string as sent."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest
import uvicorn

from local.host import access_log

SECRET = "s3cr3t-events-code-value"


@pytest.mark.parametrize(("line", "expected"), [
    (f"/api/events?code={SECRET}", "/api/events?code=***"),
    (f"/api/events?x=1&code={SECRET}&y=2", "/api/events?x=1&code=***&y=2"),
    (f"/x?sig={SECRET};token={SECRET}", "/x?sig=***;token=***"),
    (f"/x?Access_Token={SECRET}&api-key={SECRET}&client_secret={SECRET}",
     "/x?Access_Token=***&api-key=***&client_secret=***"),
    (f"/x?co%64e={SECRET}", "/x?co%64e=***"),
    ("/api/clusters?confirm=shop&zipcode=1", "/api/clusters?confirm=shop&zipcode=1"),
    ("/api/health", "/api/health"),
])
def test_secret_query_parameters_are_redacted_and_others_kept(line, expected):
    logged = access_log.redact(f'127.0.0.1:5 - "POST {line} HTTP/1.1" 200')
    assert logged == f'127.0.0.1:5 - "POST {expected} HTTP/1.1" 200'


async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_uvicorns_access_log_never_prints_the_secret():
    config = uvicorn.Config(app, access_log=True, log_level="info", lifespan="off")  # as local/host/main.py builds it
    access_log.install()
    lines = Lines()
    logging.getLogger("uvicorn.access").addHandler(lines)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    config.load()
    server.lifespan = config.lifespan_class(config)  # what Server.serve sets up before its startup
    try:
        await server.startup(sockets=[sock])
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.post(f"/api/events?code={SECRET}&x=1")).status_code == 200
            assert (await client.get(f"/api/health?token={SECRET}")).status_code == 200
    finally:
        server.should_exit = True
        await server.shutdown(sockets=[sock])
        logging.getLogger("uvicorn.access").removeHandler(lines)
        sock.close()
    assert len(lines.lines) == 2, lines.lines
    assert "/api/events?code=***&x=1" in lines.lines[0] and "/api/health?token=***" in lines.lines[1]
    assert not [line for line in lines.lines if SECRET in line]
