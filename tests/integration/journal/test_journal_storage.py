"""The journal service on SQLite and the real PostgreSQL, with small real ports (metrics and closes held in
memory): theses and check-ins kept exactly, round trips from stored fills with their notes, calls judged once,
refusals that write nothing, and owners kept apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketdesk.accounts.errors import Forbidden
from marketdesk.accounts.models import User
from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import NotFound, Rejected
from marketdesk.journal.calls import CallOutcome
from marketdesk.journal.models import MarketCall, Thesis, ThesisCheckin, ThesisMetric, TradeNote
from marketdesk.journal.ports import MetricValues
from marketdesk.journal.service import JournalService
from marketdesk.journal.theses import Direction, NextAction, ThesisReason, ThesisStatus
from marketdesk.journal.tradestats import TradeFilter
from marketdesk.trading.models import FillRecord, OrderRecord, TradingAccount

D = Decimal
START = datetime(2026, 3, 2, 15, tzinfo=UTC)  # a Monday, 10:00 in New York


class HeldMetrics:
    """The screener's metrics, as a test sets them: symbol → metric → value, as of the clock's day."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.values: dict[str, dict[str, float | None]] = {
            "AAA": {"price": 100.0, "pe": 20.0, "roe": 0.2, "rsi14": 55.0, "dividend_yield": None},
        }

    async def __call__(self, session: object, symbol: str) -> MetricValues:
        if symbol not in self.values:
            raise NotFound(f"the screener has no metrics for {symbol}")
        return MetricValues(symbol, self.clock.now().date(), dict(self.values[symbol]))


class HeldCloses:
    """Daily closes as a test sets them."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[date, Decimal]]] = {"SPY": [(date(2026, 2, 27), D("598.10"))]}

    async def __call__(self, symbol: str, start: date, end: date) -> list[tuple[date, Decimal]]:
        return [(d, c) for d, c in self.rows.get(symbol, []) if start <= d <= end]


def person(user_id: str, role: Role = Role.TRADER) -> CurrentUser:
    return CurrentUser(id=user_id, email=f"{user_id}@example.com", role=role, session_id="s")


ALICE, BOB = person("alice"), person("bob")


@pytest.fixture
def journal_clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def metrics(journal_clock: SimClock) -> HeldMetrics:
    return HeldMetrics(journal_clock)


@pytest.fixture
def closes() -> HeldCloses:
    return HeldCloses()


@pytest.fixture
async def service(
    database: Database, journal_clock: SimClock, metrics: HeldMetrics, closes: HeldCloses
) -> JournalService:
    async with database.session() as session:
        for user_id in ("alice", "bob"):
            unusable = "!"  # a test user never signs in: no hash matches
            session.add(User(id=user_id, email=f"{user_id}@example.com", password_hash=unusable, role="trader",
                             created_at=START, password_changed_at=START))  # fmt: skip
    return JournalService(journal_clock, closes, metrics)


async def count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---- theses ------------------------------------------------------------------------------------------


async def test_a_thesis_keeps_its_entry_values_and_check_ins_follow_the_rules(
    database: Database, service: JournalService, metrics: HeldMetrics, journal_clock: SimClock
) -> None:
    async with database.session() as session:
        thesis = await service.add_thesis(session, ALICE, "aaa", "quality", [("roe", None), ("pe", None)],
                                          note="compounder")  # fmt: skip
    assert (thesis.symbol, thesis.reason, thesis.review_on, thesis.due) == (
        "AAA", ThesisReason.QUALITY, date(2026, 4, 1), False
    )  # fmt: skip
    assert [(m.name, m.direction, m.entry_value) for m in thesis.metrics] == [
        ("roe", Direction.UP, 0.2), ("pe", Direction.DOWN, 20.0),
    ]  # fmt: skip
    async with database.session() as session:
        assert await service.due(session, ALICE) == []
        assert await service.due(session, ALICE, START + timedelta(days=30)) != []

    journal_clock.advance(timedelta(days=31))
    metrics.values["AAA"].update(roe=0.17, pe=21.0)  # roe −15%: shaken; pe +5%: working
    async with database.session() as session:
        (due,) = await service.due(session, ALICE)
        preview = await service.checkin_preview(session, ALICE, thesis.id)
    assert due.id == thesis.id
    assert preview.assessment.status is ThesisStatus.SHAKEN
    assert [(r.name, r.then, r.now, r.status) for r in preview.assessment.readings] == [
        ("roe", 0.2, 0.17, ThesisStatus.SHAKEN), ("pe", 20.0, 21.0, ThesisStatus.WORKING),
    ]  # fmt: skip
    assert await count(database, ThesisCheckin) == 0  # looking writes nothing

    async with database.session() as session:
        view, checkin = await service.checkin(session, ALICE, thesis.id, "hold", status="working", note="one quarter")
    assert (checkin.derived_status, checkin.status, checkin.overridden, checkin.action) == (
        ThesisStatus.SHAKEN, ThesisStatus.WORKING, True, NextAction.HOLD
    )  # fmt: skip
    assert (view.status, view.review_on, view.due) == (ThesisStatus.WORKING, date(2026, 5, 2), False)

    metrics.values["AAA"]["pe"] = 26.0  # +30%: broken
    async with database.session() as session:
        view, sold = await service.checkin(session, ALICE, thesis.id, NextAction.SELL)
    assert (sold.status, sold.next_review_on, view.state) == (ThesisStatus.BROKEN, None, "closed")
    async with database.session() as session:
        stored, history = await service.thesis(session, ALICE, thesis.id)
        assert await service.theses(session, ALICE) == []
        assert [t.id for t in await service.theses(session, ALICE, state="closed")] == [thesis.id]
    assert [c.action for c in history] == [NextAction.HOLD, NextAction.SELL]
    assert history[0].readings[0].now == 0.17
    assert history[1].readings[1].against_pct == pytest.approx(30.0)
    assert stored.metrics[0].entry_value == 0.2  # the float came back exactly
    async with database.session() as session:
        with pytest.raises(Rejected, match="the thesis on AAA is closed"):
            await service.checkin(session, ALICE, thesis.id, "hold")


@pytest.mark.parametrize(
    ("watch", "kwargs", "message", "hint"),
    [
        ([("dividend_yield", None)], {}, "dividend_yield of AAA has no value on 2026-03-02", "price"),
        ([("moon", None)], {}, "unknown metric 'moon'", "revenue_growth"),
        ([("price", None), ("pe", None), ("roe", None)], {}, "a thesis watches 1 or 2 metrics, not 3", "roe:up"),
        ([], {}, "a thesis watches 1 or 2 metrics, not 0", "roe:up"),
        ([("pe", None), ("pe", Direction.UP)], {}, "pe is watched twice", "two different"),
        ([("rsi14", None)], {}, "say which way rsi14 should move", "rsi14:up"),
        (
            [("price", None)],
            {"review_on": date(2026, 3, 1)},
            "the review date 2026-03-01 is not 1 to 365",
            "2026-03-03",
        ),
        ([("price", None)], {"review_in_days": 0}, "a review in 0 days is out of range", "1 to 365"),
    ],
)
async def test_a_bad_thesis_is_refused_with_the_fix_and_nothing_is_written(
    database: Database, service: JournalService, watch: list[tuple[str, Direction | None]], kwargs: dict[str, object],
    message: str, hint: str,
) -> None:  # fmt: skip
    async with database.session() as session:
        with pytest.raises(Rejected, match=message) as refused:
            await service.add_thesis(session, ALICE, "AAA", "quality", watch, **kwargs)  # type: ignore[arg-type]
    assert hint in (refused.value.hint or "")
    assert (await count(database, Thesis), await count(database, ThesisMetric)) == (0, 0)


async def test_theses_are_the_owners_alone_and_viewers_write_none(database: Database, service: JournalService) -> None:
    async with database.session() as session:
        thesis = await service.add_thesis(session, ALICE, "AAA", "momentum", ["price:up"])
        with pytest.raises(Rejected, match="already have an open thesis on AAA"):
            await service.add_thesis(session, ALICE, "AAA", "growth", ["price"])
    async with database.session() as session:
        with pytest.raises(NotFound, match=f"no thesis '{thesis.id}'"):
            await service.thesis(session, BOB, thesis.id)
        with pytest.raises(NotFound):
            await service.checkin(session, BOB, thesis.id, "sell")
        assert await service.theses(session, BOB, state="all") == []
        with pytest.raises(Forbidden):
            await service.add_thesis(session, person("alice", Role.VIEWER), "AAA", "growth", ["price"])
        with pytest.raises(Forbidden):
            await service.checkin(session, person("alice", Role.VIEWER), thesis.id, "hold")
        with pytest.raises(NotFound, match="the screener has no metrics for ZZZ"):
            await service.add_thesis(session, BOB, "ZZZ", "growth", ["price"])


# ---- trades ------------------------------------------------------------------------------------------


async def book_fills(
    database: Database, owner: str, account: str, rows: list[tuple[str, str, str, str, str | None]]
) -> None:
    """An account of `owner` and one filled order per row: (order id, side, qty, price, tag), an hour apart."""
    async with database.session() as session:
        session.add(TradingAccount(id=account, owner_id=owner, name=account, broker="paper", live=False, kind="margin",
                                   compliance_policy="off", compliance_json="{}", risk_json="{}", state="active",
                                   state_reason="", created_at=START, updated_at=START))  # fmt: skip
        await session.flush()
        for n, (order_id, side, qty, price, tag) in enumerate(rows):
            at = START + timedelta(hours=n)
            session.add(OrderRecord(
                id=order_id, account_id=account, owner_id=owner, client_order_id=order_id, symbol="AAA", side=side,
                qty=D(qty), order_type="market", time_in_force="day", limit_price=None, stop_price=None,
                extended_hours=False, take_profit=None, stop_loss=None, tag=tag, order_class="simple",
                status="filled", filled_qty=D(qty), average_fill_price=D(price), broker_order_id=None, reason=None,
                parent_id=None, created_at=at, updated_at=at,
            ))  # fmt: skip
            await session.flush()
            session.add(FillRecord(fill_id=f"fill-{order_id}", order_id=order_id, account_id=account, symbol="AAA",
                                   side=side, qty=D(qty), price=D(price), commission=D("0.35"), time=at))  # fmt: skip


async def test_round_trips_come_from_the_owners_fills_with_their_tags_and_notes(
    database: Database, service: JournalService
) -> None:
    await book_fills(database, "alice", "acct-a", [
        ("a1", "buy", "10", "100.00", "breakout"), ("a2", "sell", "10", "112.50", None),
        ("a3", "buy", "5", "110", "dip"), ("a4", "sell", "5", "104.10", None), ("a5", "buy", "1", "105", "dip"),
    ])  # fmt: skip
    await book_fills(database, "bob", "acct-b", [("b1", "buy", "1", "1", "bob")])
    async with database.session() as session:
        trips = await service.round_trips(session, ALICE)
        stats = await service.trade_stats(session, ALICE)
    assert [(v.trip.id, v.trip.status, v.trip.tag, v.trip.pnl) for v in trips] == [
        ("a5", "open", "dip", D("-0.35")),
        ("a3", "closed", "dip", D("-30.20")),  # 5 × (104.10 − 110) − 0.70
        ("a1", "closed", "breakout", D("124.30")),  # 10 × 12.50 − 0.70
    ]  # fmt: skip
    assert (stats.count, stats.wins, stats.losses, stats.open_round_trips, stats.pnl) == (2, 1, 1, 1, D("94.10"))
    assert stats.best_signal is not None and stats.best_signal.tag == "breakout"
    assert stats.worst_signal is not None and stats.worst_signal.tag == "dip"

    async with database.session() as session:
        noted = await service.annotate(session, ALICE, "a3", reason="bought the dip", notes="too early")
        await service.annotate(session, ALICE, "a3", notes="too early; wait for the close")
        (only,) = await service.round_trips(session, ALICE, TradeFilter(tag="dip", status="closed"))
        one = await service.round_trip(session, ALICE, "a3")
    assert (noted.reason, noted.notes) == ("bought the dip", "too early")
    assert (only.trip.id, only.reason, only.notes) == ("a3", "bought the dip", "too early; wait for the close")
    assert one == only
    assert await count(database, TradeNote) == 1

    async with database.session() as session:
        for call in (service.round_trip(session, BOB, "a3"), service.annotate(session, BOB, "a3", reason="mine")):
            with pytest.raises(NotFound, match="no round trip 'a3'"):
                await call
        with pytest.raises(NotFound, match="no trading account 'acct-a'"):
            await service.round_trips(session, BOB, TradeFilter(account_id="acct-a"))
        with pytest.raises(NotFound):
            await service.annotate(session, ALICE, "a3~2", reason="no such")
        with pytest.raises(Rejected, match="nothing to change"):
            await service.annotate(session, ALICE, "a3")
        with pytest.raises(Rejected, match="the reason is 201 characters long"):
            await service.annotate(session, ALICE, "a3", reason="x" * 201)
        with pytest.raises(Rejected, match="start 2026-03-05 is after end 2026-03-01"):
            await service.trade_stats(session, ALICE, TradeFilter(start=date(2026, 3, 5), end=date(2026, 3, 1)))
        assert [v.trip.id for v in await service.round_trips(session, BOB)] == ["b1"]
    async with database.session() as session:
        assert (await service.round_trip(session, ALICE, "a3")).notes == "too early; wait for the close"


# ---- calls -------------------------------------------------------------------------------------------


async def test_a_call_is_judged_once_from_the_close_on_its_due_date(
    database: Database, service: JournalService, closes: HeldCloses, journal_clock: SimClock
) -> None:
    async with database.session() as session:
        call = await service.add_call(session, ALICE, "spy", "above", D("600.25"), date(2026, 3, 13), note="rally")
        other = await service.add_call(session, ALICE, "SPY", "below", "550", date(2026, 3, 13), mode="any_time")
    assert (call.statement, call.reference_close, call.reference_on, call.outcome) == (
        "SPY closes above 600.25 on 2026-03-13", D("598.10"), date(2026, 2, 27), CallOutcome.OPEN
    )  # fmt: skip
    closes.rows["SPY"] += [(date(2026, 3, 12), D("590.00")), (date(2026, 3, 13), D("600.26"))]
    journal_clock.set(datetime(2026, 3, 14, 15, tzinfo=UTC))
    async with database.session() as session:
        first = await service.resolve_due(session)
    async with database.session() as session:
        again = await service.resolve_due(session)
        judged = await service.call(session, ALICE, call.id)
        missed = await service.call(session, ALICE, other.id)
    assert (first.checked, first.hits, first.misses, first.void) == (2, 1, 1, 0)
    assert again.judged == 0  # idempotent: nothing is judged twice
    assert (judged.outcome, judged.decided_on, judged.decided_close) == (
        CallOutcome.HIT,
        date(2026, 3, 13),
        D("600.26"),
    )
    assert judged.resolved_at == datetime(2026, 3, 14, 15, tzinfo=UTC)
    assert missed.outcome is CallOutcome.MISS
    assert "lowest: 590.00 on 2026-03-12" in missed.outcome_reason
    async with database.session() as session:
        stats = await service.call_stats(session, ALICE)
        months = await service.call_calendar(session, ALICE)
        assert await service.calls(session, BOB) == []
        with pytest.raises(NotFound, match=f"no call '{call.id}'"):
            await service.call(session, BOB, call.id)
    assert (stats.total.hits, stats.total.misses, stats.total.hit_rate) == (1, 1, 0.5)
    assert [(m.month, len(m.days[0].calls)) for m in months] == [("2026-03", 2)]


async def test_reading_calls_judges_the_readers_due_calls_only(
    database: Database, service: JournalService, closes: HeldCloses, journal_clock: SimClock
) -> None:
    async with database.session() as session:
        mine = await service.add_call(session, ALICE, "SPY", "above", "500", date(2026, 3, 3))
        theirs = await service.add_call(session, BOB, "SPY", "above", "500", date(2026, 3, 3))
    closes.rows["SPY"].append((date(2026, 3, 3), D("601")))
    journal_clock.set(datetime(2026, 3, 4, 15, tzinfo=UTC))
    async with database.session() as session:
        (seen,) = await service.calls(session, ALICE)
    assert (seen.id, seen.outcome) == (mine.id, CallOutcome.HIT)
    async with database.session() as session:
        stored = await session.get(MarketCall, theirs.id)
        assert stored is not None and stored.outcome == "open"  # Bob's waits for Bob (or the job)


@pytest.mark.parametrize(
    ("args", "kwargs", "message", "hint"),
    [
        (("SPY", "above", "abc", date(2026, 4, 1)), {}, "level 'abc' is not a number", "612.50"),
        (("SPY", "above", "-5", date(2026, 4, 1)), {}, "level -5 must be a positive price", "612.50"),
        (
            ("SPY", "above", "60000", date(2026, 4, 1)),
            {},
            "more than 100× away from SPY's last close",
            "not a percentage",
        ),
        (("SPY", "sideways", "600", date(2026, 4, 1)), {}, "unknown direction 'sideways'", "above, below"),
        (("SPY", "above", "600", date(2026, 3, 2)), {}, "the due date 2026-03-02 is not after today", "later"),
        (("SPY", "above", "600", date(2040, 1, 1)), {}, "more than 10 years away", "Pick one by"),
        (("ZZZ", "above", "600", date(2026, 4, 1)), {}, "no prices of ZZZ are stored", "marketdesk data"),
        (("SPY", "above", "590", date(2026, 4, 1)), {"mode": "any_time"}, "already closed above 590", "at_due_date"),
        (("SPY", "above", "600", date(2026, 4, 1)), {"mode": "whenever"}, "unknown mode 'whenever'", "any_time"),
        (("SP Y", "above", "600", date(2026, 4, 1)), {}, "'SP Y' is not a ticker symbol", "letters"),
    ],
)
async def test_a_bad_call_is_refused_with_the_fix_and_nothing_is_written(
    database: Database, service: JournalService, args: tuple[object, ...], kwargs: dict[str, object], message: str,
    hint: str,
) -> None:  # fmt: skip
    async with database.session() as session:
        with pytest.raises(Rejected, match=message) as refused:
            await service.add_call(session, ALICE, *args, **kwargs)  # type: ignore[arg-type]
    assert hint in (refused.value.hint or "")
    assert await count(database, MarketCall) == 0
