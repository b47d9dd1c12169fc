"""Whether this process runs on the Functions platform (App Service, Linux Consumption, Flex Consumption), from the
variables the platform sets on every instance. What only the local stack may do (local mode, failpoints) is refused
where `functions_platform` names one of them.

The variables, and where the Functions host itself reads them (Azure/azure-functions-host,
src/WebJobs.Script/Environment/EnvironmentExtensions.cs):

| variable | the host's reading |
|---|---|
| `WEBSITE_INSTANCE_ID` | `IsAppService`: Windows and Linux App Service plans, Elastic Premium, Windows Consumption |
| `LEGION_SERVICE_HOST` | `IsLinuxConsumptionOnLegion`: Flex Consumption's infrastructure ("Legion") |
| `WEBSITE_POD_NAME` | `IsLinuxConsumptionOnLegion` (instead of `CONTAINER_NAME`) |
| `WEBSITE_SKU` | `IsFlexConsumptionSku` (`FlexConsumption`), `IsWindowsConsumption` (`Dynamic`), Elastic Premium |
| `WEBSITE_SITE_NAME` | `AzureWebsiteName`: the app's name, which App Service sets (read-only) on every app |

The host needs some of them together (Legion is `LEGION_SERVICE_HOST` with `CONTAINER_NAME` or `WEBSITE_POD_NAME`,
and without `WEBSITE_INSTANCE_ID`); here any one of them, non-empty, is enough: a false "on the platform" only
refuses local mode on a machine that sets one of these names (unset it there), a false "not on the platform" would
open local mode in Azure. The local host and the tests never set them.

No dependencies, like `shared.failpoints`, which the engine imports from anywhere: the settings
(`shared.config`), the failpoints and the local worker all ask this one function.
"""

from __future__ import annotations

from collections.abc import Mapping

# In the order they are reported: the first one set is named in the refusal.
# CONTAINER_NAME is left out: container runtimes and sandboxes set it too (a developer's container would refuse
# the demo); every plan that sets it also sets WEBSITE_SITE_NAME, and Flex Consumption LEGION_SERVICE_HOST.
FUNCTIONS_PLATFORM_VARIABLES: tuple[str, ...] = ("WEBSITE_INSTANCE_ID", "LEGION_SERVICE_HOST", "WEBSITE_POD_NAME",
                                                 "WEBSITE_SKU", "WEBSITE_SITE_NAME")


def functions_platform(env: Mapping[str, str]) -> str | None:
    """The first platform variable set (non-empty) in `env`: this process runs on the Functions platform. None: it
    does not (a developer's machine, a test)."""
    return next((name for name in FUNCTIONS_PLATFORM_VARIABLES if env.get(name)), None)
