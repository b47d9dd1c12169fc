"""Failpoints: named crash points at the engine's saved-state transitions, for crash testing (as FoundationDB's
buggify and TiKV's fail-rs do).

`hit(name)` marks a place where a crash leaves a state of its own. It does nothing unless the process armed that
name with `configure`, from the setting `AKSVEND_FAILPOINT=<name>:<n>`: the n-th time `name` is reached, the process
kills itself with SIGKILL, no cleanup, exactly as a crash would. The crash test (tests/integration/
test_engine_crash.py) starts one worker per failpoint, and so crashes the engine at each transition by construction,
not at an instant that hopes to fall somewhere useful.

Only the local worker (`python -m local.host.worker`) calls `configure`, and it refuses the setting, with a warning,
where a variable of the Functions platform is set (`shared.platform.functions_platform`: App Service, Linux and Flex
Consumption set one on every instance). Unarmed, `hit` costs one comparison. No dependencies but `shared.platform`
(which has none): the engine imports this from anywhere.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping

from shared.platform import functions_platform

log = logging.getLogger("aksvend.failpoints")

SETTING = "AKSVEND_FAILPOINT"
# Every failpoint, in the order an operation reaches them, with the state a crash there leaves and what heals it.
NAMES: Mapping[str, str] = {
    "engine.operation.started": "the operation row says running, no step made ready: the sweeper advances it",
    "engine.step.ready": "a step saved ready, its message not sent: the sweeper sends it when its lease ends",
    "engine.begin.sent": "ARM accepted the PUT/DELETE, nothing saved: the message comes back and sends it again",
    "engine.begin.saved": "the step saved in monitor with its poll URL, the message that began it not yet deleted",
    "engine.monitor": "a poll answered InProgress and was saved, its message not yet deleted",
    "engine.step.done": "a step saved succeeded, its dependants not made ready: the sweeper advances the operation",
    "engine.operation.finished": "the operation row ended, its cluster's queue still held: the sweeper releases it",
    "engine.events.recorded": "the lifecycle events recorded, the queue still held: the sweeper releases it again",
    "engine.queue.released": "the queue released, the active index row left: the sweeper releases it again",
}

_armed: str | None = None  # the armed name; None: every hit is a no-op
_left = 0  # hits of the armed name still to pass before the crash


def hit(name: str) -> None:
    """A crash point. Kills the process (SIGKILL) if `name` is armed and this is its n-th hit."""
    global _left
    if name != _armed:
        return
    _left -= 1
    if _left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)


def configure(env: Mapping[str, str]) -> str | None:
    """Arm the failpoint named by `AKSVEND_FAILPOINT` in `env` (or disarm: unset). Returns the armed name or None.
    Raises ValueError for an unknown name or a bad count: a typo must not silently never crash."""
    global _armed, _left
    _armed, _left = None, 0
    raw = env.get(SETTING) or ""
    if not raw:
        return None
    platform = functions_platform(env)
    if platform:
        log.warning("%s is ignored on the Functions platform (%s is set)", SETTING, platform)
        return None
    name, _, count = raw.rpartition(":")
    if name not in NAMES:
        raise ValueError(f"{SETTING} must be <name>:<n> with a name of {', '.join(NAMES)}")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"{SETTING}: the count after the name must be a whole number >= 1")
    _armed, _left = name, int(count)
    log.warning("failpoint armed: the process kills itself at hit %d of %s", _left, name)
    return name
