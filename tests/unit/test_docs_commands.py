"""The shell commands the docs tell a reader to run do run: every ```sh block of README.md and docs/*.md, from the
repository root, with the test's virtualenv first on PATH, must exit 0 (the convention is at the top of
docs/README.md). Blocks that need Azure, a running server or minutes (make demo, make serve, azd up, curl to the
host ...) are fenced `console` and only shown; a `sh` block that calls one of those fails here before it runs,
so this test can never start the test suite, the demo or a server itself.

The guard stops accidents, not an adversary (a doc edit that means harm can spell a command around any list, and
whoever edits docs can edit tests too): blocks run with a minimal environment, never the CI's own variables."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```([^\n`]*)\n(.*?)^\1```\s*$", re.M | re.S)
# Commands that start servers, touch Azure or the network, or run long: never in a block this test runs.
NOT_OFFLINE = re.compile(r"(?<![\w.-])(make|azd|az|curl|wget|func|pytest|npm|npx|pip)(?![\w.-])"
                         r"|-m\s+(pytest|local\.host|local\.armemu|local\.demo|local\.azurite|local\.topic_sink|local\.eventsink|bench)"
                         r"|aksvend\s+(demo|serve)")
# Info strings that leave open whether a block is run: shell commands are `sh` (run) or `console` (shown only).
AMBIGUOUS = {"bash", "shell", "zsh", "shell-session", "shellsession"}
TIMEOUT_SECONDS = 120  # a guard against a hung command, not a performance bound


def _blocks() -> list[tuple[str, str, str]]:
    """(file:line, info string, body) of every fenced block."""
    out = []
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            body = "\n".join(row[len(match.group(1)):] for row in match.group(3).splitlines())
            out.append((f"{path.relative_to(ROOT)}:{line}", match.group(2).strip().split(" ")[0], body))
    return out


BLOCKS = _blocks()
RUN = [(where, body) for where, info, body in BLOCKS if info == "sh"]


def test_the_docs_have_shell_blocks_to_run():
    assert len(RUN) >= 3


def test_no_shell_block_leaves_open_whether_it_is_run():
    assert [where for where, info, _ in BLOCKS if info in AMBIGUOUS] == []


@pytest.mark.parametrize(("where", "body"), RUN, ids=[where for where, _ in RUN])
def test_every_sh_block_runs_offline_and_exits_zero(where, body, tmp_path):
    offending = NOT_OFFLINE.search(body)
    assert offending is None, f"{where} runs `{offending.group(0)}`: fence the block as `console`, not `sh`"
    # As a fresh reader runs it: the venv first on PATH, a home and a temp folder of its own, nothing else.
    env = {"PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(tmp_path), "TMPDIR": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, f"{where} exited {result.returncode}:\n{result.stdout[-2000:]}\n" \
                                   f"{result.stderr[-2000:]}"
