"""Who is calling: the Easy Auth principal header in Azure, a configured caller locally.

App Service Authentication (Easy Auth) puts `X-MS-CLIENT-PRINCIPAL` (base64 JSON: auth_typ, name_typ,
role_typ, claims [{typ, val}]) and `X-MS-CLIENT-PRINCIPAL-ID`/`-NAME` on authenticated requests and strips
them from client requests; the header is trusted only because Easy Auth is on in front of the app (infra/).
"""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from shared.domain import jsontext
from shared.domain.caller import Caller

GROUP_CLAIMS = ("groups", "roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
MAX_PRINCIPAL_BYTES = 16 * 1024


class CallerMissing(Exception):
    """No caller could be established (401)."""


def caller_of(request: Request, local_caller: str | None) -> Caller:
    header = request.headers.get("x-ms-client-principal")
    if header:
        return _from_principal(header, request.headers.get("x-ms-client-principal-id", ""))
    if local_caller:
        return Caller(id=local_caller, name=local_caller)
    raise CallerMissing("no caller: the request carries no X-MS-CLIENT-PRINCIPAL (sign in through the app's "
                        "authentication)")


def _from_principal(header: str, principal_id: str) -> Caller:
    if len(header) > MAX_PRINCIPAL_BYTES:
        raise CallerMissing("X-MS-CLIENT-PRINCIPAL is too large")
    try:
        doc = jsontext.loads(base64.b64decode(header, validate=True))  # strict, bounded: a JsonRefused is a ValueError
        claims = doc.get("claims") or []
        name_type = doc.get("name_typ") or "name"
        values = [(str(c["typ"]), str(c["val"])) for c in claims if isinstance(c, dict) and "typ" in c and "val" in c]
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise CallerMissing("X-MS-CLIENT-PRINCIPAL is not base64 JSON") from None
    name = next((v for t, v in values if t in (name_type, "name", "preferred_username")), "")
    oid = principal_id or next((v for t, v in values if t.endswith("objectidentifier") or t == "oid"), "")
    groups = frozenset(v for t, v in values if t in GROUP_CLAIMS or doc.get("role_typ") == t)
    if not (oid or name):
        raise CallerMissing("X-MS-CLIENT-PRINCIPAL names no principal")
    return Caller(id=oid or name, name=name, groups=groups)
