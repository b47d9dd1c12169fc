"""Fixtures of the cli tier: an emulator of the module's own, and az logged in to it with the documented recipe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.armemu.settings import EmulatorSettings
from local.armemu.testing import ArmEmulator, running_emulator

from .azcli import AzCli, recipe_lines, require_az


@pytest.fixture(scope="module")
def cli_emulator() -> Iterator[ArmEmulator]:
    """Time factor 0: every operation has ended by the first status poll, which azure-core sends at once, so az never
    sleeps its 30 s default between polls (AKS, and the emulator by default, send no Retry-After). A step that needs
    an operation still running holds it (`PUT /_emulator/operations/hold`) rather than racing a timer."""
    require_az()
    with running_emulator(EmulatorSettings(time_factor=0.0, retry_after="none")) as handle:
        yield handle


@pytest.fixture(scope="module")
def az(cli_emulator: ArmEmulator, tmp_path_factory: pytest.TempPathFactory) -> AzCli:
    """az with a config folder of its own, logged in by running docs/emulator.md's recipe exactly as written."""
    cli = AzCli(
        tmp_path_factory.mktemp("az"), cli_emulator.base_url, cli_emulator.ca_cert, cli_emulator.subscription_id
    )
    done = cli.login(recipe_lines())
    assert done.returncode == 0, f"the documented az recipe failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return cli
