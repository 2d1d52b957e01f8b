"""Trade statistics computed by hand, the profit factor without losses (a note, never infinity), signals ranked,
and the filters by status, date, tag and symbol."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketdesk.journal.roundtrips import RoundTrip, TradeSide
from marketdesk.journal.tradestats import TradeFilter, select, trade_day, trade_stats
from marketdesk.kit.jsonutil import dumps

D = Decimal
T0 = datetime(2026, 3, 2, 15, tzinfo=UTC)


def trip(n: int, pnl: str | None, tag: str | None = None, symbol: str = "XYZ", days: int = 0) -> RoundTrip:
    """A round trip of 10 at 100 opened on day `days`, closed (with `pnl`) an hour later, or open (pnl None)."""
    opened = T0 + timedelta(days=days)
    closed = None if pnl is None else opened + timedelta(hours=1)
    result = D(0) if pnl is None else D(pnl)
    return RoundTrip(
        id=f"t{n}", account_id="acct", symbol=symbol, side=TradeSide.LONG, tag=tag, entry_order_id=f"t{n}",
        exit_order_ids=() if closed is None else (f"x{n}",), opened_at=opened, closed_at=closed, last_exit_at=closed,
        qty=D(10), closed_qty=D(0) if closed is None else D(10), entry_price=D(100),
        exit_price=None if closed is None else D(100) + result / 10, entry_value=D(1000),
        closed_cost=D(0) if closed is None else D(1000), gross_pnl=result, commission=D(0), pnl=result, fills=1,
    )  # fmt: skip


BOOK = [
    trip(1, "100", "A"),
    trip(2, "50", "A", days=1),
    trip(3, "-30", "B", days=2),
    trip(4, "-20", "B", symbol="QQQ", days=3),
    trip(5, "0", None, days=4),
    trip(6, None, "A", days=5),
]


def test_the_statistics_of_a_small_book_match_the_hand_computation() -> None:
    stats = trade_stats(BOOK)
    assert (stats.count, stats.open_round_trips, stats.wins, stats.losses, stats.breakeven) == (5, 1, 2, 2, 1)
    assert stats.win_rate == pytest.approx(0.4)
    assert (stats.pnl, stats.gross_profit, stats.gross_loss) == (D(100), D(150), D(-50))
    assert (stats.average_win, stats.average_loss) == (D("75.00"), D("-25.00"))
    assert stats.profit_factor == pytest.approx(3.0)
    assert stats.expectancy == D("20.00")  # 100 ÷ 5 = 0.4 × 75 + 0.4 × (−25) + 0.2 × 0
    assert stats.best_signal is not None and stats.worst_signal is not None
    assert (stats.best_signal.tag, stats.best_signal.pnl, stats.best_signal.win_rate) == ("A", D(150), 1.0)
    assert (stats.worst_signal.tag, stats.worst_signal.pnl, stats.worst_signal.expectancy) == ("B", D(-50), D(-25))
    assert [(s.tag, s.count) for s in stats.signals] == [("A", 2), (None, 1), ("B", 2)]
    assert stats.notes == ()


def test_without_a_losing_trade_the_profit_factor_is_a_note_not_infinity() -> None:
    stats = trade_stats([trip(1, "10", "A"), trip(2, "5", "B")])
    assert (stats.profit_factor, stats.average_loss, stats.losses) == (None, None, 0)
    assert "profit factor: no losing trades" in stats.notes
    assert "Infinity" not in dumps(stats)


def test_with_nothing_closed_every_ratio_is_missing_and_says_why() -> None:
    stats = trade_stats([trip(1, None, "A")])
    assert (stats.count, stats.open_round_trips, stats.win_rate, stats.expectancy, stats.profit_factor) == (
        0, 1, None, None, None
    )  # fmt: skip
    assert stats.pnl == D(0)
    assert stats.notes == ("no closed round trips: nothing to measure yet",)
    assert trade_stats([]).count == 0


def test_one_signal_has_nothing_to_be_ranked_against() -> None:
    stats = trade_stats([trip(1, "10", "A"), trip(2, "-5", None)])
    assert (stats.best_signal, stats.worst_signal) == (None, None)
    assert any("at least 2 are needed" in note for note in stats.notes)


def test_averages_round_to_the_cent_and_sums_stay_exact() -> None:
    stats = trade_stats([trip(1, "0.01", "A"), trip(2, "0.01", "A"), trip(3, "0.005", "A"), trip(4, "-1", "B")])
    assert stats.pnl == D("-0.975")
    assert stats.average_win == D("0.01")  # 0.025 ÷ 3 = 0.00833… → 0.01
    assert stats.expectancy == D("-0.24")  # −0.24375


def test_filters_select_by_status_tag_symbol_and_date() -> None:
    assert [t.id for t in select(BOOK, TradeFilter(status="open"))] == ["t6"]
    assert [t.id for t in select(BOOK, TradeFilter(status="closed", tag="A"))] == ["t1", "t2"]
    assert [t.id for t in select(BOOK, TradeFilter(tag="untagged"))] == ["t5"]
    assert [t.id for t in select(BOOK, TradeFilter(symbol="QQQ"))] == ["t4"]
    march = TradeFilter(start=date(2026, 3, 3), end=date(2026, 3, 5))
    assert [t.id for t in select(BOOK, march)] == ["t2", "t3", "t4"]
    assert [t.id for t in select(BOOK, TradeFilter(account_id="other"))] == []


def test_a_round_trip_is_filed_under_its_new_york_close_date() -> None:
    evening = replace(trip(1, "1"), closed_at=datetime(2026, 3, 3, 2, tzinfo=UTC))
    assert trade_day(evening) == date(2026, 3, 2)  # 21:00 in New York the evening before
    assert trade_day(trip(2, None)) == date(2026, 3, 2)
