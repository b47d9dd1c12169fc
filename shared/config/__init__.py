"""aksvend's settings, read from the environment once and passed in (through `shared.bootstrap`).

| module | what |
|---|---|
| `names.py` | `SETTINGS`: every setting read, name -> what it is for (infra/ is checked against it), and the names |
| `settings.py` | `Settings.from_env`: the app's settings, local mode |
| `clouds.py` | the Azure clouds' Resource Manager endpoints: where the ARM token may go, and its scope |
| `auth.py` | `AuthSettings`: bearer-token validation, whether Easy Auth is on; the local caller's shape |
| `tickets.py` | `TicketSettings`, `TopicSettings`: the ticketing webhooks' secrets, the lifecycle-event topic |
| `references.py` | `unresolved_reference`: a Key Vault reference App Service could not resolve (a secret unset) |
| `errors.py` | `ConfigError`: names the setting and the rule, never the value |

Whether the process runs on the Functions platform (which refuses local mode), `functions_platform`, lives in
`shared.platform`, outside this package and re-exported here: the failpoints, which the engine imports, ask it too,
and the engine imports nothing of the settings.

Modules import downwards only (settings -> auth, clouds, tickets -> names, references -> errors): no cycles.
"""

from shared.config.auth import ENTRA_AUTHORITY, AuthSettings
from shared.config.clouds import ARM_ENDPOINTS, AZURE_ARM_ENDPOINT
from shared.config.errors import ConfigError
from shared.config.names import SETTINGS
from shared.config.references import unresolved_reference
from shared.config.settings import ZERO_SUBSCRIPTION, Settings
from shared.config.tickets import TicketSettings, TopicSettings, split_secrets
from shared.platform import functions_platform

__all__ = [
    "ARM_ENDPOINTS",
    "AZURE_ARM_ENDPOINT",
    "ENTRA_AUTHORITY",
    "SETTINGS",
    "ZERO_SUBSCRIPTION",
    "AuthSettings",
    "ConfigError",
    "Settings",
    "TicketSettings",
    "TopicSettings",
    "functions_platform",
    "split_secrets",
    "unresolved_reference",
]
