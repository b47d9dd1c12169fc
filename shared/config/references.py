"""Key Vault references that did not resolve. An app setting `@Microsoft.KeyVault(VaultName=...;SecretName=...)` is
replaced by App Service with the secret; when it cannot be (the secret does not exist yet, the identity may not read
it), the app gets the reference text itself. That text is in infra/, derivable by anyone: a setting holding it is
treated as unset, and a secret setting that is unset turns its channel off (docs/deploy.md)."""

from __future__ import annotations

KEY_VAULT_REFERENCE = "@microsoft.keyvault("


def unresolved_reference(value: str | None) -> bool:
    """Whether `value` is a Key Vault reference App Service could not resolve (case and blanks around ignored)."""
    return (value or "").strip().lower().startswith(KEY_VAULT_REFERENCE)
