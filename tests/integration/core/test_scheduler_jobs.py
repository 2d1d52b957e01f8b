"""The serving desk runs its end-of-day jobs: a desk started after the close runs each at its first check, and
a call that came due is judged by the job, before anyone reads it."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.journal.models import MarketCall
from support.auth import api_desk, register_admin

AFTER_THE_CLOSE = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)  # Thursday 17:00 New York


def test_a_desk_started_after_the_close_runs_the_days_jobs_and_judges_due_calls(tmp_path: Path) -> None:
    clock = SimClock(datetime(2025, 2, 3, 15, tzinfo=UTC))  # Monday 10:00 New York: before the close
    desk = api_desk(tmp_path / "desk", clock)
    with TestClient(create_app(desk=desk, web=False)) as client:
        trader = register_admin(client)
        made = client.post(
            "/api/v1/journal/calls",
            json={"symbol": "AAA", "direction": "above", "level": "50", "due_on": "2025-02-14"},
            headers=trader.headers,
        )
        assert made.status_code == 201, made.text
        assert client.app.state.scheduler.last_run == {}  # type: ignore[attr-defined]  # 10:00: nothing due
    clock.set(AFTER_THE_CLOSE)
    with TestClient(create_app(desk=desk, web=False)) as client:
        scheduler: Any = client.app.state.scheduler  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while len(scheduler.last_run) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scheduler.last_run == {
            "decision outcomes": date(2025, 3, 20), "market calls": date(2025, 3, 20),
            "portfolio snapshots": date(2025, 3, 20),
        }  # fmt: skip

        async def outcome() -> str:
            async with desk.db.session() as session:
                return str(await session.scalar(select(MarketCall.outcome)))

        # judged by the job: nobody has read the calls since they came due
        assert client.portal.call(outcome) == "hit"  # type: ignore[union-attr]  # AAA closed far above 50
