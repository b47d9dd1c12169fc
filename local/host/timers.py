"""Timer triggers for the local host: NCRONTAB schedules (six fields, seconds first, UTC) or a TimeSpan
("hh:mm:ss"), `runOnStartup`, and a `func.TimerRequest` with `past_due` when an occurrence was missed.

Supported in each field: `*`, `N`, `A-B`, `*/N`, `A-B/N` and comma lists of those (numbers only, no names).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest  # what the Python worker hands a timer trigger

from local.host.functions import FunctionSpec, invoke
from local.host.queues import timespan

log = logging.getLogger("aksvend.local.host")
# second, minute, hour, day of month, month, day of week (0 = Sunday; 7 is Sunday too)
RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
PAST_DUE_SECONDS = 5.0


class Schedule:
    def __init__(self, expression: str) -> None:
        self.expression = expression.strip()
        self.every: float | None = None
        fields = self.expression.split()
        if len(fields) == 1 and re.fullmatch(r"[\d.:]+", fields[0]):
            self.every = timespan(fields[0], 0.0)
            if self.every <= 0:
                raise ValueError(f"timer schedule {expression!r}: a TimeSpan must be positive")
            return
        if len(fields) != 6:
            raise ValueError(f"timer schedule {expression!r}: NCRONTAB needs six fields (seconds first)")
        self.sets = [_field(f, lo, hi, expression) for f, (lo, hi) in zip(fields, RANGES, strict=True)]
        if 7 in self.sets[5]:
            self.sets[5] = self.sets[5] | {0}

    def next_after(self, after: datetime) -> datetime:
        """The first occurrence strictly after `after` (UTC)."""
        if self.every is not None:
            return after + timedelta(seconds=self.every)
        seconds, minutes, hours, days, months, weekdays = self.sets
        t = after.replace(microsecond=0) + timedelta(seconds=1)
        limit = after + timedelta(days=5 * 366)
        while t < limit:
            if t.month not in months:
                t = (t.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(day=1)
            elif t.day not in days or (t.isoweekday() % 7) not in weekdays:
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            elif t.hour not in hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
            elif t.minute not in minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
            elif t.second not in seconds:
                t += timedelta(seconds=1)
            else:
                return t
        raise ValueError(f"timer schedule {self.expression!r} never fires")


def _field(text: str, lo: int, hi: int, expression: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"timer schedule {expression!r}: {part!r} is not supported (use *, N, A-B, */N)")
        span, step = match.group(1), int(match.group(2) or 1)
        if span == "*":
            start, end = lo, hi
        elif "-" in span:
            start, end = (int(x) for x in span.split("-"))
        else:
            start = end = int(span)
            if match.group(2):
                end = hi
        if not (lo <= start <= end <= hi) or step < 1:
            raise ValueError(f"timer schedule {expression!r}: {part!r} is outside {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


async def run_timer_function(spec: FunctionSpec, stop: asyncio.Event, every: float | None = None) -> None:
    """Call the function on its schedule (or every `every` seconds, a local override) until `stop`."""
    expression = str(spec.trigger["schedule"])
    if expression.startswith("%") and expression.endswith("%"):  # an app setting, as the host resolves it
        expression = os.environ.get(expression.strip("%"), "")
    schedule = Schedule(f"00:00:{every:06.3f}" if every else expression)
    last: datetime | None = None
    due = datetime.now(UTC) if spec.trigger.get("runOnStartup") else schedule.next_after(datetime.now(UTC))
    while not stop.is_set():
        wait = (due - datetime.now(UTC)).total_seconds()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
            continue
        now = datetime.now(UTC)
        following = schedule.next_after(now)
        status = {"Last": last.isoformat() if last else None, "Next": following.isoformat(),
                  "LastUpdated": now.isoformat()}
        request = TimerRequest(past_due=(now - due).total_seconds() > PAST_DUE_SECONDS,
                                    schedule_status=status, schedule={"AdjustForDST": False})
        try:
            await invoke(spec, request)
        except Exception as exc:  # a failed run is logged; the next occurrence runs as scheduled
            log.warning("timer %s failed: %s", spec.name, type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        last, due = now, following
