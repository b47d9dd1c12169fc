"""The Key Vault secret store through the real azure-keyvault-secrets client (challenge authentication included)
against the emulator's Key Vault stand-in, and a Windows cluster provisioned with its generated password."""

from __future__ import annotations

import pytest

from local.credential import AsyncOfflineCredential
from shared.adapters.keyvault import KeyVaultSecretStore, secret_name
from tests.integration.engine_harness import harness, make_storage_target, production

pytestmark = pytest.mark.integration


def store(armemu) -> KeyVaultSecretStore:
    return KeyVaultSecretStore.create(armemu.base_url, AsyncOfflineCredential(), verify_challenge_resource=False,
                                      connection_verify=armemu.ca_cert)


async def test_a_secret_is_generated_once_and_then_read_back(armemu):
    async with store(armemu) as secrets:
        first = await secrets.get_or_create("sub:rg:c1", "windowsAdminPassword")
        again = await secrets.get_or_create("sub:rg:c1", "windowsAdminPassword")
        other = await secrets.get_or_create("sub:rg:c2", "windowsAdminPassword")
    assert first == again != other
    assert len(first) >= 14 and any(c.isupper() for c in first) and any(c.isdigit() for c in first)
    versions = armemu.control("GET", "keyvault")
    assert versions[secret_name("sub:rg:c1", "windowsAdminPassword").lower()] and len(
        versions[secret_name("sub:rg:c1", "windowsAdminPassword").lower()]) == 1


def test_secret_names_fit_key_vault_and_do_not_collide():
    a, b = secret_name("s:rg:a", "windowsAdminPassword"), secret_name("s:rg:b", "windowsAdminPassword")
    assert a != b and len(a) <= 127 and all(c.isalnum() or c == "-" for c in a)


async def test_a_windows_cluster_gets_its_password_from_key_vault_and_nowhere_else(armemu, azurite_connection_string):
    account = make_storage_target(armemu)
    raw = {**production(account), "userPools": [{"name": "apps", "count": 2},
                                                {"name": "win1", "os": "Windows", "vmSize": "Standard_D4s_v5",
                                                 "count": 1}]}
    before = set(armemu.control("GET", "keyvault"))  # the emulator (and its vault) is shared by the session
    async with harness(armemu, azurite_connection_string) as h, store(armemu) as secrets:
        h.engine.secrets = secrets
        op_id = await h.submit(raw)
        op = await h.wait_done(op_id)
        assert op["state"] == "succeeded", op.get("error")
        password = await secrets.get_or_create(op["cluster"], "windowsAdminPassword")
        rows = [str(r.entity) for r in await h.engine.ops.query_partition(op_id)]
    assert password and not any(password in row for row in rows)
    made = {k: v for k, v in armemu.control("GET", "keyvault").items() if k not in before}
    assert made == {secret_name(op["cluster"], "windowsAdminPassword").lower(): made.get(
        secret_name(op["cluster"], "windowsAdminPassword").lower())} and len(next(iter(made.values()))) == 1


async def test_versioned_secrets_list_read_and_add_versions_without_values_in_the_listing(armemu):
    async with store(armemu) as secrets:
        assert await secrets.versions("sub:rg:c9", "agent-key") == []
        first = await secrets.add("sub:rg:c9", "agent-key", "key-one")
        second = await secrets.add("sub:rg:c9", "agent-key", "key-two")
        versions = await secrets.versions("sub:rg:c9", "agent-key")
        assert [v.version for v in versions] == [first.version, second.version]
        assert [await secrets.value("sub:rg:c9", "agent-key", v.version) for v in versions] == ["key-one", "key-two"]
        assert await secrets.value("sub:rg:c9", "agent-key", "0" * 32) is None
