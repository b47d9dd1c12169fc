"""Timers: the sweeper (lost messages, expired leases, ended operations still holding their cluster)."""

from __future__ import annotations

import azure.functions as func

from functions import runtime

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 */1 * * * *", run_on_startup=False, use_monitor=False)
async def sweeper(timer: func.TimerRequest) -> None:
    from shared.engine import sweep

    rt = await runtime.runtime()
    await sweep(rt.engine)
    await rt.event_intake.sweep(rt.engine.clock.now())


@bp.timer_trigger(arg_name="timer", schedule="*/30 * * * * *", run_on_startup=False, use_monitor=False)
async def events_outbox(timer: func.TimerRequest) -> None:
    from shared.services.outbox import sweep_outbox

    rt = await runtime.runtime()
    await sweep_outbox(rt.outbox, rt.publisher)
