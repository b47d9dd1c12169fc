"""Timers: the sweeper (lost messages, expired leases, ended operations still holding their cluster), the outbox, the
dead letters (what ended in a `-poison-poison` queue, moved into the `rejected` table), and drift (clusters read
back from ARM). Drift has a timer of its own, not a place in the sweeper: the sweeper heals the engine's crash
windows and must stay short and independent of ARM, while drift reads ARM (one GET per cluster due, a bounded number
per run) and may wait on it; a slow or failing ARM then delays drift checks, never the engine's repairs
(docs/drift.md)."""

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


@bp.timer_trigger(arg_name="timer", schedule="15 */1 * * * *", run_on_startup=False, use_monitor=False)
async def drift(timer: func.TimerRequest) -> None:
    rt = await runtime.runtime()
    await rt.drift.reconcile()


@bp.timer_trigger(arg_name="timer", schedule="45 */5 * * * *", run_on_startup=False, use_monitor=False)
async def dead_letters(timer: func.TimerRequest) -> None:
    rt = await runtime.runtime()
    await rt.rejected.drain()
