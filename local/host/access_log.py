"""Secrets never reach the local host's logs: the values of secret query parameters are replaced with `***` in every
line uvicorn logs (its access log prints each request's path with its query string).

The events webhook accepts its secret as `?code=` (as Event Grid webhook URLs often carry it; the header
`X-Aksvend-Secret` is preferred), and a signed URL carries `sig`; so a parameter named `code`, `sig`, `key`, `token`,
`secret` or `password`, or ending in one of the last five (`access_token`, `api-key`, `client_secret`), is a secret.
`install()` puts the filter on uvicorn's loggers; tests/unit/test_access_log.py runs uvicorn with it.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

SECRET_NAMES = ("code", "sig", "key", "token", "secret", "password")
_SECRET_ENDINGS = ("_sig", "_key", "_token", "_secret", "_password", "apikey", "signature")
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s\"'?]+)=(?P<value>[^&;#\s\"']*)")
LOGGERS = ("uvicorn.access", "uvicorn.error")


def is_secret(name: str) -> bool:
    name = unquote(name).strip().lower().replace("-", "_")
    return name in SECRET_NAMES or name.endswith(_SECRET_ENDINGS)


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter replaced with ***."""
    return _PARAMETER.sub(lambda m: f"{m['lead']}{m['name']}=***" if is_secret(m["name"]) else m[0], text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments before any handler formats it; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install(loggers: tuple[str, ...] = LOGGERS) -> None:
    """Put the filter on these loggers (once each): records created on them are redacted before any handler."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
