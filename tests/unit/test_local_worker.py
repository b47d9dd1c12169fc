"""The local worker (`python -m local.host.worker`) runs the function app's own queue and timer functions, the ones
Azure runs, so the crash test kills the real trigger path; and it runs in local mode, which Azure refuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from azure.functions.decorators.function_app import FunctionBuilder

from functions import queues, timers
from local.host.stack import local_mode
from local.host.worker import queue_and_timer_functions
from shared.config import ConfigError
from shared.platform import FUNCTIONS_PLATFORM_VARIABLES

ROOT = Path(__file__).resolve().parents[2]


def test_the_worker_runs_every_queue_and_timer_function_of_the_function_app():
    specs = {s.name: s for s in queue_and_timer_functions()}  # indexes function_app.app, as the host does
    declared = {name: module.__name__ for module in (queues, timers) for name, builder in vars(module).items()
                if isinstance(builder, FunctionBuilder)}
    assert set(specs) == set(declared) >= {"provisioning_steps", "provisioning_steps_poison", "sweeper"}
    assert {name: spec.user_function.__module__ for name, spec in specs.items()} == declared


@pytest.mark.parametrize("variable", FUNCTIONS_PLATFORM_VARIABLES)
def test_the_worker_refuses_to_start_where_the_platform_says_it_runs_on_it(variable):
    done = subprocess.run([sys.executable, "-m", "local.host.worker"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ, variable: "a1b2c3",
                                                        "AKSVEND_FAILPOINT": "engine.monitor:1"})
    assert done.returncode == 2
    assert "AKSVEND_LOCAL" in done.stderr and variable in done.stderr and "a1b2c3" not in done.stderr


@pytest.mark.parametrize("variable", FUNCTIONS_PLATFORM_VARIABLES)
def test_the_local_host_refuses_local_mode_where_the_platform_says_it_runs_on_it(monkeypatch, variable):
    monkeypatch.setenv(variable, "a1b2c3")
    monkeypatch.delenv("AKSVEND_LOCAL", raising=False)
    with pytest.raises(ConfigError, match=variable) as refused:
        local_mode()  # the host's configure_env and the worker both start with it
    assert "a1b2c3" not in str(refused.value) and "AKSVEND_LOCAL" not in os.environ
