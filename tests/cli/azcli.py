"""Running the real Azure CLI (`.venv-azcli/bin/az`, azure-cli pinned in requirements-azcli.txt) against the ARM
emulator: one config folder per session, no telemetry, nothing beyond 127.0.0.1.

- `AZ` is found relative to the repository root; when it is missing the tier FAILS (never skips) with a message saying
  that `make test` installs it.
- The environment is built from nothing but PATH, HOME and what the docs' recipe exports: no variable of the machine
  leaks in, and `HTTP(S)_PROXY` point at a closed local port with `NO_PROXY=127.0.0.1,localhost`, so anything az
  would send elsewhere (Microsoft Graph, PyPI's version check) fails at once instead of leaving the machine.
- `PYTHONDONTWRITEBYTECODE` is left out on purpose: the first run of a command module compiles it (the network module
  alone takes ~10 s), later runs read the cached bytecode (~2 s a command).
- The login recipe is not copied here: `recipe_lines` reads it from docs/emulator.md, and `login` runs exactly those
  lines, so the documented recipe is the tested one.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
AZ = ROOT / ".venv-azcli" / "bin" / "az"
DOC = ROOT / "docs" / "emulator.md"
RECIPE_MARKER = "# az against the emulator (tests/cli runs exactly these lines)"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so a proxied request is refused at once
COMMAND_TIMEOUT = 120  # a guard against a hung az, not a performance bound


def require_az() -> pathlib.Path:
    """The az executable, or a failure that says how to get it (the tier never skips)."""
    if not os.access(AZ, os.X_OK):
        pytest.fail(
            f"the Azure CLI is not installed at {AZ}: `make test` installs it "
            "(requirements-azcli.txt into .venv-azcli, the rule $(AZCLI_STAMP) in the Makefile)",
            pytrace=False,
        )
    return AZ


def recipe_blocks() -> list[str]:
    """The fenced blocks of docs/emulator.md's az section: the login recipe (marked) and the register variant."""
    text = DOC.read_text()
    blocks = re.findall(r"^```console\n(.*?)^```", text, flags=re.M | re.S)
    return [b for b in blocks if b.startswith(RECIPE_MARKER) or b.startswith("az cloud register")]


def recipe_lines() -> str:
    """The documented login recipe, as written."""
    marked = [b for b in recipe_blocks() if b.startswith(RECIPE_MARKER)]
    assert len(marked) == 1, f"docs/emulator.md must hold exactly one block starting {RECIPE_MARKER!r}"
    return marked[0]


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        assert self.code == 0, f"az {' '.join(self.args)} exited {self.code}:\n{self.stderr[-3000:]}"
        return json.loads(self.stdout) if self.stdout.strip() else None


class AzCli:
    """One az profile (AZURE_CONFIG_DIR) logged in to one emulator."""

    def __init__(self, home: pathlib.Path, base_url: str, ca_cert: str, subscription: str) -> None:
        self.home = home
        (home / "azure").mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": f"{AZ.parent}{os.pathsep}/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(home),
            "LANG": "C.UTF-8",
            "AZURE_CONFIG_DIR": str(home / "azure"),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_NO_COLOR": "true",
            "HTTP_PROXY": CLOSED_PORT_PROXY,
            "HTTPS_PROXY": CLOSED_PORT_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
            "ARMEMU": base_url,
            "CA_CERT": ca_cert,
            "SUB": subscription,
        }

    def login(self, recipe: str) -> subprocess.CompletedProcess[str]:
        """Run a recipe block with bash (-e: the first failing line fails it), then keep what it exported."""
        env_out = self.home / "recipe.env"
        script = f"{recipe}\nenv -0 > {str(env_out)!r}\n"
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT * 4,
            check=False,
        )
        if done.returncode == 0:
            pairs = (item.split("=", 1) for item in env_out.read_text().split("\0") if "=" in item)
            self.env.update(
                {k: v for k, v in pairs if k in ("REQUESTS_CA_BUNDLE", "AZURE_POD_IDENTITY_AUTHORITY_HOST")}
            )
        return done

    def __call__(self, *args: str) -> Result:
        done = subprocess.run(
            [str(AZ), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        return Result(args, done.returncode, done.stdout, done.stderr)
