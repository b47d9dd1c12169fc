"""Test-wide configuration. Fixtures for the local Azure stand-ins live beside them in local/ and plug in here."""

pytest_plugins: list[str] = [
    "local.armemu.testing",
    "local.testing",
]
