"""Failpoints: no-ops unless armed, a SIGKILL at the n-th hit when armed, never armed in Azure, and each one named
in the registry is a real place in the engine."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shared import failpoints
from shared.platform import FUNCTIONS_PLATFORM_VARIABLES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def disarmed():
    failpoints.configure({})
    yield
    failpoints.configure({})


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


def test_unarmed_every_hit_is_a_no_op():
    assert failpoints.configure({}) is None
    for name in failpoints.NAMES:
        failpoints.hit(name)


def test_the_armed_failpoint_kills_the_process_with_sigkill_at_its_nth_hit_and_no_other_counts():
    done = run("from shared import failpoints\n"
               "failpoints.configure({'AKSVEND_FAILPOINT': 'engine.monitor:3'})\n"
               "for i in range(5):\n"
               "    failpoints.hit('engine.step.done')\n"
               "    failpoints.hit('engine.monitor')\n"
               "    print(i, flush=True)\n")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["0", "1"]


@pytest.mark.parametrize("variable", FUNCTIONS_PLATFORM_VARIABLES)
def test_the_functions_platform_refuses_the_setting_with_a_warning(caplog, variable):
    with caplog.at_level(logging.WARNING, logger="aksvend.failpoints"):
        armed = failpoints.configure({"AKSVEND_FAILPOINT": "engine.monitor:1", variable: "abc"})
    assert armed is None
    assert f"ignored on the Functions platform ({variable} is set)" in caplog.text
    failpoints.hit("engine.monitor")  # still alive


@pytest.mark.parametrize(("value", "says"), [
    ("engine.nope:1", "must be <name>:<n>"),
    ("engine.monitor", "must be <name>:<n>"),
    ("engine.monitor:0", "whole number >= 1"),
    ("engine.monitor:x", "whole number >= 1"),
])
def test_a_malformed_setting_is_refused_naming_the_setting(value, says):
    with pytest.raises(ValueError, match="AKSVEND_FAILPOINT") as caught:
        failpoints.configure({"AKSVEND_FAILPOINT": value})
    assert says in str(caught.value)


def test_the_worker_refuses_to_start_with_a_malformed_failpoint():
    done = subprocess.run([sys.executable, "-m", "local.host.worker"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ, "AKSVEND_FAILPOINT": "engine.typo:1"})
    assert done.returncode == 2
    assert "AKSVEND_FAILPOINT" in done.stderr


def test_every_registered_failpoint_is_hit_in_the_code_and_every_hit_is_registered():
    hits = {match for path in (ROOT / "shared").rglob("*.py")
            for match in re.findall(r'\bhit\("([^"]+)"\)', path.read_text(encoding="utf-8"))}
    assert hits == set(failpoints.NAMES)
