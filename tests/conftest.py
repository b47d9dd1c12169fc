"""Test-wide configuration. Fixtures for the local Azure stand-ins live beside them in local/ and plug in here."""

import os

from shared.platform import FUNCTIONS_PLATFORM_VARIABLES

pytest_plugins: list[str] = [
    "local.armemu.testing",
    "local.testing",
]

# The tests run as on a developer's machine, never as on the Functions platform, whatever the machine running them
# sets: local mode and the failpoints would be refused, in this process and in
# the hosts and workers it starts. A test about the platform puts its variable into the environment it passes.
for _name in FUNCTIONS_PLATFORM_VARIABLES:
    os.environ.pop(_name, None)
