"""The decision log's storage on SQLite and PostgreSQL: logging, owner scoping, pending outcomes until due, the
measurement of due outcomes (idempotent, by the scheduler or on read), and the stats over stored outcomes.

The verdict source is a small real one (fixed verdicts, as a screener would give them) and the prices an
in-memory series, so every return here is worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.models import User
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.decisions.models import DecisionOutcome
from marketdesk.decisions.repository import DecisionRepository
from marketdesk.decisions.service import DecisionService, VerdictSnapshot
from marketdesk.errors import NotFound, Rejected
from marketdesk.marketdata.barstore import UniverseArrays

ENTRY = date(2025, 1, 2)
DAYS = np.array([np.datetime64("2025-01-02") + k for k in range(0, 130)], dtype="datetime64[D]")
# AAA rises 0.1 a day from 100; the benchmark 0.05 a day from 50: both are linear, so returns are simple sums
CLOSES = {"AAA": 100 + 0.1 * np.arange(130), "BBB": 40 - 0.02 * np.arange(130), "SPY": 50 + 0.05 * np.arange(130)}
ANN = CurrentUser("usr_ann", "ann@example.com", Role.TRADER, "sid-ann")
BO = CurrentUser("usr_bo", "bo@example.com", Role.TRADER, "sid-bo")
VIC = CurrentUser("usr_vic", "vic@example.com", Role.VIEWER, "sid-vic")


@dataclass
class FixedVerdicts:
    """The verdicts a screener gave on ENTRY's close (a test stand-in for `screener_verdicts`)."""

    verdicts: dict[str, tuple[str, float, tuple[str, ...]]]

    async def __call__(
        self, session: AsyncSession, symbol: str, *, preset: str | None, universe: str, owner_id: str
    ) -> VerdictSnapshot:
        if symbol not in self.verdicts:
            raise NotFound(f"{symbol} is not in the {universe!r} universe")
        verdict, score, signals = self.verdicts[symbol]
        return VerdictSnapshot(
            symbol, verdict, score, preset or "balanced", signals, "2026.11.1", "0123456789abcdef", "neutral",
            universe, "SPY", Decimal(str(CLOSES[symbol][0])), ENTRY,
        )  # fmt: skip


@dataclass
class StoredCloses:
    """Adjusted closes known up to `last` (prices arrive day by day)."""

    last: date

    async def __call__(self, symbols: list[str], start: date, end: date) -> UniverseArrays:
        days = DAYS
        keep = (days >= np.datetime64(start)) & (days <= np.datetime64(min(end, self.last)))
        names = tuple(sorted(symbols))
        return UniverseArrays(days[keep], names, np.column_stack([CLOSES[s][keep] for s in names]), "adj_close")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 22, tzinfo=UTC)  # after the New York close


@pytest.fixture
async def users(database: Database) -> Database:
    async with database.session() as session:
        for user in (ANN, BO, VIC):
            session.add(User(id=user.id, email=user.email, password_hash="x", role=user.role.value,  # noqa: S106
                             disabled=False, failed_logins=0, created_at=at(ENTRY), password_changed_at=at(ENTRY)))  # fmt: skip
    return database


def service(clock: SimClock, prices: StoredCloses) -> DecisionService:
    verdicts = FixedVerdicts({"AAA": ("Buy", 6.8, ("dip",)), "BBB": ("Avoid", 2.1, ())})
    return DecisionService(clock, verdicts, prices)


async def test_a_logged_decision_is_pending_until_due_then_measured_once(users: Database) -> None:
    clock = SimClock(at(ENTRY))
    prices = StoredCloses(last=ENTRY)
    decisions = service(clock, prices)
    async with users.session() as session:
        logged = await decisions.log_decision(session, ANN, "aaa", preset="value", signals=["Earnings-Beat"])
    assert (logged.symbol, logged.verdict, logged.score, logged.preset) == ("AAA", "Buy", 6.8, "value")
    assert logged.signals == ("dip", "earnings-beat")
    assert (logged.price, logged.price_date, logged.benchmark) == (Decimal("100.0"), ENTRY, "SPY")
    assert (logged.scoring_version, logged.config_hash) == ("2026.11.1", "0123456789abcdef")
    assert [(o.horizon_days, o.status, o.due_on) for o in logged.outcomes] == [
        (30, "pending", date(2025, 2, 1)), (60, "pending", date(2025, 3, 3)), (90, "pending", date(2025, 4, 2))
    ]  # fmt: skip

    # 40 days on, with prices to then: the 30-day window is measured, the others are not due
    clock.set(at(ENTRY + timedelta(days=40)))
    prices.last = ENTRY + timedelta(days=40)
    async with users.session() as session:
        report = await decisions.measure_due(session)
        again = await decisions.measure_due(session)
    assert (report.checked, report.measured, report.waiting) == (1, 1, 0)
    assert again.measured == 0
    async with users.session() as session:
        (view,) = await decisions.decisions(session, ANN)
    thirty, sixty, ninety = view.outcomes
    # exit on 2025-02-01 (30 days; the series has a bar every day): AAA 103/100 − 1, SPY 51.5/50 − 1
    assert (thirty.status, thirty.end_date) == ("measured", date(2025, 2, 1))
    assert thirty.symbol_return == pytest.approx(0.03)
    assert thirty.benchmark_return == pytest.approx(0.03)
    assert thirty.excess_return == pytest.approx(0.0, abs=1e-12)
    assert thirty.win is False
    assert (sixty.status, ninety.status) == ("pending", "pending")


async def test_due_outcomes_wait_for_prices_and_are_measured_on_read(users: Database) -> None:
    clock = SimClock(at(ENTRY))
    prices = StoredCloses(last=ENTRY)
    decisions = service(clock, prices)
    async with users.session() as session:
        await decisions.log_decision(session, ANN, "BBB")
    clock.set(at(date(2025, 6, 1)))  # every window is due, but no price after the entry has arrived
    async with users.session() as session:
        report = await decisions.measure_due(session)
    assert (report.checked, report.measured, report.waiting) == (1, 0, 3)
    prices.last = date(2025, 3, 10)  # the prices reach the 30- and 60-day targets
    async with users.session() as session:
        (view,) = await decisions.decisions(session, ANN)  # reading measures the reader's due outcomes
    assert [o.status for o in view.outcomes] == ["measured", "measured", "pending"]
    sixty = view.outcomes[1]
    # 60 days: exit 2025-03-03; BBB 38.8/40 − 1 = −3 %, SPY 53/50 − 1 = +6 %
    assert sixty.end_date == date(2025, 3, 3)
    assert sixty.excess_return == pytest.approx(-0.03 - 0.06)
    async with users.session() as session:
        rows = await session.scalar(select(func.count()).select_from(DecisionOutcome))
    assert rows == 2


async def test_measuring_twice_at_once_writes_each_outcome_once(users: Database) -> None:
    clock = SimClock(at(ENTRY))
    decisions = service(clock, StoredCloses(last=date(2025, 5, 1)))
    async with users.session() as session:
        logged = await decisions.log_decision(session, BO, "AAA")
    row = {"decision_id": logged.id, "horizon_days": 30, "end_date": date(2025, 2, 1), "symbol_return": 0.03,
           "benchmark_return": 0.03, "excess_return": 0.0, "measured_at": at(date(2025, 2, 2))}  # fmt: skip
    async with users.session() as session:
        repository = DecisionRepository(session)
        await repository.add_outcomes([row])
        await repository.add_outcomes([{**row, "excess_return": 0.5}])  # a concurrent run's insert is a no-op
    async with users.session() as session:
        stored = list(await session.scalars(select(DecisionOutcome)))
    assert [(o.horizon_days, o.excess_return) for o in stored] == [(30, 0.0)]


async def test_the_scheduler_measures_everyone_and_each_user_sees_only_their_own(users: Database) -> None:
    clock = SimClock(at(ENTRY))
    decisions = service(clock, StoredCloses(last=date(2025, 5, 10)))
    async with users.session() as session:
        mine = await decisions.log_decision(session, ANN, "AAA", action="acted", side="buy")
        theirs = await decisions.log_decision(session, BO, "BBB")
    async with users.session() as session:
        report = await decisions.measure_due(session, at(date(2025, 5, 1)))
    assert (report.checked, report.measured) == (2, 6)
    async with users.session() as session:
        assert [v.id for v in await decisions.decisions(session, ANN)] == [mine.id]
        assert [v.id for v in await decisions.decisions(session, BO)] == [theirs.id]
        assert await decisions.decisions(session, VIC) == []
        with pytest.raises(NotFound):
            await decisions.decision(session, ANN, theirs.id)
        assert (await decisions.decision(session, BO, theirs.id)).verdict == "Avoid"
        ann_stats = await decisions.stats(session, ANN)
        vic_stats = await decisions.stats(session, VIC)
    assert ann_stats.total == 1
    (buy,) = ann_stats.by_verdict
    # 90 days: exit 2025-04-02; AAA 109/100 − 1 = 9 %, SPY 54.5/50 − 1 = 9 %: an exact tie, not a win
    assert buy.at(90).measured == 1
    assert buy.at(90).mean_excess == pytest.approx(0.0, abs=1e-12)
    assert buy.at(90).wins == 0
    assert [g.key for g in ann_stats.by_signal] == ["dip"]
    assert vic_stats.total == 0
    assert vic_stats.by_verdict == ()


async def test_a_viewer_cannot_log_and_bad_input_is_refused_with_the_fix(users: Database) -> None:
    decisions = service(SimClock(at(ENTRY)), StoredCloses(last=ENTRY))
    async with users.session() as session:
        with pytest.raises(Forbidden, match="viewers can read the decision log"):
            await decisions.log_decision(session, VIC, "AAA")
        with pytest.raises(Rejected, match="a side goes with an acted-on decision"):
            await decisions.log_decision(session, ANN, "AAA", side="buy")
        with pytest.raises(Rejected, match="unknown action 'bought'"):
            await decisions.log_decision(session, ANN, "AAA", action="bought")
        with pytest.raises(Rejected, match="is not a signal id"):
            await decisions.log_decision(session, ANN, "AAA", signals=["two words"])
        with pytest.raises(NotFound, match="ZZZ is not in the 'all' universe"):
            await decisions.log_decision(session, ANN, "ZZZ")
    async with users.session() as session:
        assert await decisions.decisions(session, ANN) == []


@dataclass(frozen=True)
class PlacedOrder:
    id: str
    symbol: str
    side: str
    tag: str | None


async def test_the_trade_hook_logs_an_acted_decision_and_never_refuses_an_order(users: Database) -> None:
    decisions = service(SimClock(at(ENTRY)), StoredCloses(last=ENTRY))
    async with users.session() as session:
        logged = await decisions.log_order(session, ANN, PlacedOrder("ord_1", "AAA", "buy", "Breakout"))
        skipped = await decisions.log_order(session, ANN, PlacedOrder("ord_2", "ZZZ", "buy", None))
    assert logged is not None
    assert (logged.action, logged.side, logged.order_id, logged.signals) == (
        "acted",
        "buy",
        "ord_1",
        ("breakout", "dip"),
    )
    assert skipped is None
