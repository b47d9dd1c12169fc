"""Settings of who may call: bearer-token validation, whether Easy Auth is on, the local caller (docs/policy.md).

* **Bearer tokens** (`Authorization: Bearer <token>`) are validated by the app itself when both
  `AKSVEND_AUTH_TENANT_ID` (a GUID) and `AKSVEND_AUTH_AUDIENCES` (comma-separated) are set; one without the other
  is an error. `AKSVEND_AUTH_AUTHORITY` (https; default https://login.microsoftonline.com) is where the issuer
  (`<authority>/<tenant>/v2.0`) and the signing keys are; locally the ARM emulator, whose certificate is trusted
  through `AKSVEND_ARM_CA_CERT` (the same emulator, the same CA).
* **Easy Auth**: its principal header is trusted only when the platform's `WEBSITE_AUTH_ENABLED` is `True`
  (case-insensitive), which App Service sets when App Service Authentication is on. Anything else is off.
* **The local caller** (`AKSVEND_LOCAL_CALLER`, local mode only) is `<tenant id>/<object id>`, two GUIDs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config.errors import ConfigError
from shared.config.names import (
    AUTH_AUDIENCES_SETTING,
    AUTH_AUTHORITY_SETTING,
    AUTH_TENANT_SETTING,
    EASY_AUTH_SETTING,
    LOCAL_CALLER_SETTING,
)
from shared.domain.armid import GUID
from shared.domain.caller import Caller

ENTRA_AUTHORITY = "https://login.microsoftonline.com"
MAX_AUDIENCES = 10


@dataclass(frozen=True, slots=True)
class AuthSettings:
    tenant_id: str | None = None  # bearer validation is on when tenant_id and audiences are both set
    audiences: tuple[str, ...] = ()
    authority: str = ENTRA_AUTHORITY
    easy_auth: bool = False  # the platform says App Service Authentication is on

    def __post_init__(self) -> None:
        if bool(self.tenant_id) != bool(self.audiences):
            raise ConfigError(f"{AUTH_TENANT_SETTING} and {AUTH_AUDIENCES_SETTING} go together: set both to "
                              "validate bearer tokens, or neither")
        if self.tenant_id and not GUID.match(self.tenant_id):
            raise ConfigError(f"{AUTH_TENANT_SETTING} must be a tenant id (GUID)")
        if not self.authority.startswith("https://") or any(c.isspace() for c in self.authority):
            raise ConfigError(f"{AUTH_AUTHORITY_SETTING} must be an https:// URL")
        if len(self.audiences) > MAX_AUDIENCES or not all(
                a and len(a) <= 200 and a.isprintable() and " " not in a and "," not in a for a in self.audiences):
            raise ConfigError(f"{AUTH_AUDIENCES_SETTING} must list 1-{MAX_AUDIENCES} audiences, comma-separated "
                              "(api://<client id>, <client id>)")

    @property
    def bearer(self) -> bool:
        """Whether the app validates bearer tokens itself."""
        return bool(self.tenant_id and self.audiences)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthSettings:
        audiences = tuple(a.strip() for a in (env.get(AUTH_AUDIENCES_SETTING) or "").split(",") if a.strip())
        authority = (env.get(AUTH_AUTHORITY_SETTING) or "").strip().rstrip("/") or ENTRA_AUTHORITY
        return cls(tenant_id=(env.get(AUTH_TENANT_SETTING) or "").strip().lower() or None, audiences=audiences,
                   authority=authority, easy_auth=(env.get(EASY_AUTH_SETTING) or "").strip().lower() == "true")


def local_caller(value: str | None) -> Caller | None:
    """The local caller a setting names, or None; ConfigError naming the setting when it is not two GUIDs."""
    if not value:
        return None
    try:
        return Caller.parse(value, name="local caller")
    except ValueError:
        raise ConfigError(f"{LOCAL_CALLER_SETTING} must be <tenant id>/<object id> (two GUIDs): the principal "
                          "that requests without credentials act as in local mode") from None
