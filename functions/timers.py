"""Timers: the sweeper (lost messages, expired leases, ended operations still holding their cluster)."""

from __future__ import annotations

import azure.functions as func

from functions import runtime

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 */1 * * * *", run_on_startup=False, use_monitor=False)
async def sweeper(timer: func.TimerRequest) -> None:
    from shared.services.sweeper import sweep

    rt = await runtime.runtime()
    await sweep(rt.engine)
