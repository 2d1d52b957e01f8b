"""The desk's in-process scheduler: jobs that run once a New York day, after a set time.

The serving desk (`marketdesk up`, the app's lifespan) runs it; command-line tools and notebooks do not. Each
job is idempotent, so the rules are simple:

- a job runs on the first check at or after its time of day (New York) on each calendar day;
- a desk that was down at that time runs it at its first check after starting, so nothing is skipped;
- a job that fails is logged and tried again at the next check; the others run regardless.

The jobs (`daily_jobs`): the decision log's 30/60/90-day outcomes, the market calls that the prices now decide,
and every portfolio's end-of-day snapshot. Splits and dividends for paper accounts have their own daily pass
(`trading/corporate_actions.py`), because it must run before the open rather than after the close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any

from marketdesk.clock import Clock
from marketdesk.kit.tasks import cancel_and_wait
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.logs import get_logger

if TYPE_CHECKING:
    from marketdesk.desk import Desk

log = get_logger(__name__)
AFTER_THE_CLOSE = time(16, 30)  # New York: the session's closes are in the store by then


@dataclass(frozen=True)
class DailyJob:
    """A job, and the New York time of day after which it runs."""

    name: str
    after: time
    run: Callable[[], Awaitable[Any]]


class Scheduler:
    def __init__(self, clock: Clock, jobs: Sequence[DailyJob], *, interval_s: float = 60.0) -> None:
        self.clock = clock
        self.jobs = list(jobs)
        self.interval_s = interval_s
        self.last_run: dict[str, date] = {}  # job name → the New York day it last succeeded
        self._task: asyncio.Task[None] | None = None

    async def step(self) -> list[str]:
        """Run every job that is due now; the names of those that ran and succeeded."""
        now = self.clock.now().astimezone(NEW_YORK)
        ran = []
        for job in self.jobs:
            if now.time() < job.after or self.last_run.get(job.name) == now.date():
                continue
            try:
                result = await job.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled job failed; it runs again at the next check", job=job.name)
                continue
            self.last_run[job.name] = now.date()
            ran.append(job.name)
            log.info("scheduled job ran", job=job.name, result=str(result))
        return ran

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.interval_s)


def daily_jobs(desk: Desk) -> list[DailyJob]:
    """The desk's end-of-day jobs."""
    from marketdesk.decisions.tasks import measure_due_decisions
    from marketdesk.journal.tasks import resolve_calls

    async def snapshots() -> int:
        async with desk.db.session() as session:
            return await desk.portfolios.refresh_snapshots(session)

    return [
        DailyJob("decision outcomes", AFTER_THE_CLOSE, lambda: measure_due_decisions(desk)),
        DailyJob("market calls", AFTER_THE_CLOSE, lambda: resolve_calls(desk)),
        DailyJob("portfolio snapshots", AFTER_THE_CLOSE, snapshots),
    ]
