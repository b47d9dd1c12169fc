"""docs/emulator.md's az recipe, both ways of registering the emulator as a cloud: with endpoint discovery (what the
other cli tests log in with) and with `--skip-endpoint-discovery` and the endpoints given (what issue 16 found
working while the metadata had the wrong shape). Each runs the documented lines exactly, in a profile of its own."""

from __future__ import annotations

import pytest

from . import azcli
from .azcli import AzCli, recipe_blocks, recipe_lines

pytestmark = pytest.mark.cli


def test_the_docs_hold_the_recipe_and_the_register_variant():
    blocks = recipe_blocks()
    assert len(blocks) == 2 and "--skip-endpoint-discovery" in blocks[1]


def test_the_recipe_with_the_endpoints_given_logs_in_to_the_emulator(cli_emulator, tmp_path):
    variant = recipe_blocks()[1].strip()
    lines = [variant if line.startswith("az cloud register ") else line for line in recipe_lines().splitlines()]
    assert variant in lines  # the variant replaced the discovery line
    az = AzCli(tmp_path, cli_emulator.base_url, cli_emulator.ca_cert, cli_emulator.subscription_id)
    done = az.login("\n".join(lines))
    assert done.returncode == 0, done.stderr[-3000:]
    account = az("account", "show", "-o", "json").json
    assert (account["id"], account["environmentName"]) == (cli_emulator.subscription_id, "AksvendEmulator")
    cloud = az("cloud", "show", "-n", "AksvendEmulator", "-o", "json").json
    assert cloud["endpoints"]["resourceManager"].rstrip("/") == cli_emulator.base_url
    assert cloud["endpoints"]["activeDirectory"].rstrip("/") == cli_emulator.base_url


def test_without_az_the_tier_fails_and_says_make_test_installs_it(monkeypatch, tmp_path):
    monkeypatch.setattr(azcli, "AZ", tmp_path / "no-az")
    with pytest.raises(pytest.fail.Exception, match=r"`make test` installs it"):
        azcli.require_az()
