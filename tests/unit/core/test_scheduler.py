"""The in-process scheduler: each job once a New York day after its time, missed runs caught up at the first
check, and a failing job tried again without holding up the others."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta

from marketdesk.clock import SimClock
from marketdesk.scheduler import DailyJob, Scheduler


def recorder(clock: SimClock, runs: list[tuple[str, datetime]], name: str) -> Callable[[], Awaitable[str]]:
    async def run() -> str:
        runs.append((name, clock.now()))
        return "ok"

    return run


async def test_a_job_runs_once_a_day_after_its_new_york_time() -> None:
    clock = SimClock(datetime(2026, 11, 20, 21, 0, tzinfo=UTC))  # Friday 16:00 New York (EST, UTC−5)
    runs: list[tuple[str, datetime]] = []
    scheduler = Scheduler(clock, [DailyJob("close", time(16, 30), recorder(clock, runs, "close"))])

    assert await scheduler.step() == []  # 16:00: not yet
    clock.advance(timedelta(minutes=30))  # 16:30 New York
    assert await scheduler.step() == ["close"]
    clock.advance(timedelta(hours=3))
    assert await scheduler.step() == []  # the same New York day
    clock.advance(timedelta(hours=2))  # Friday 21:30 New York, though Saturday already in UTC
    assert await scheduler.step() == []
    clock.advance(timedelta(hours=19))  # Saturday 16:30 New York
    assert await scheduler.step() == ["close"]
    assert [at.isoformat() for _, at in runs] == ["2026-11-20T21:30:00+00:00", "2026-11-21T21:30:00+00:00"]


async def test_a_desk_started_after_the_time_catches_up_at_its_first_check() -> None:
    clock = SimClock(datetime(2026, 11, 21, 2, 0, tzinfo=UTC))  # Friday 21:00 New York: the desk was down
    runs: list[tuple[str, datetime]] = []
    scheduler = Scheduler(clock, [DailyJob("close", time(16, 30), recorder(clock, runs, "close"))])
    assert await scheduler.step() == ["close"]
    assert scheduler.last_run == {"close": date(2026, 11, 20)}


async def test_a_failing_job_is_tried_again_and_does_not_hold_up_the_others() -> None:
    clock = SimClock(datetime(2026, 11, 20, 22, 0, tzinfo=UTC))  # Friday 17:00 New York
    runs: list[tuple[str, datetime]] = []
    failures = [RuntimeError("the store is being rebuilt")]

    async def flaky() -> None:
        if failures:
            raise failures.pop()
        runs.append(("flaky", clock.now()))

    scheduler = Scheduler(
        clock,
        [DailyJob("flaky", time(16, 30), flaky), DailyJob("steady", time(16, 30), recorder(clock, runs, "steady"))],
    )
    assert await scheduler.step() == ["steady"]
    assert await scheduler.step() == ["flaky"]  # retried at the next check, the steady one not run twice
    assert [name for name, _ in runs] == ["steady", "flaky"]
