"""The legacy pattern-day-trader rule: counting, the 5-session window, pending pairs, the $25k override."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.trading import pdt
from marketdesk.trading.activity import Execution, OrderIntent, Side

XNYS = ExchangeCalendar("XNYS")
UNDER = Decimal(18000)
OVER = Decimal(25000)


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=NEW_YORK)


def fill(day: str, clock: str, symbol: str, side: str, qty: int, price: str = "100") -> Execution:
    return Execution(at(day, clock), symbol, Side(side), Decimal(qty), Decimal(price))


def order(symbol: str, side: str, qty: int, price: str | None = "100") -> OrderIntent:
    return OrderIntent(symbol, Side(side), Decimal(qty), None if price is None else Decimal(price))


def count(*executions: Execution, opening: dict[str, Decimal] | None = None) -> int:
    return len(pdt.DayTradeBook.of(list(executions), opening).day_trades)


def three_day_trades() -> list[Execution]:
    """Three day trades on Mon 2026-05-11, Tue and Wed."""
    return [
        fill("2026-05-11", "09:45", "AAA", "buy", 10), fill("2026-05-11", "10:45", "AAA", "sell", 10),
        fill("2026-05-12", "09:45", "BBB", "buy", 10), fill("2026-05-12", "10:45", "BBB", "sell", 10),
        fill("2026-05-13", "09:45", "CCC", "buy", 10), fill("2026-05-13", "10:45", "CCC", "sell", 10),
    ]  # fmt: skip


def test_buy_buy_sell_of_the_same_size_is_one_day_trade() -> None:
    assert (
        count(
            fill("2026-05-11", "09:30", "XYZ", "buy", 100),
            fill("2026-05-11", "10:00", "XYZ", "buy", 100),
            fill("2026-05-11", "11:00", "XYZ", "sell", 200),
        )
        == 1
    )


def test_buy_sell_buy_sell_is_two_day_trades() -> None:
    assert (
        count(
            fill("2026-05-11", "09:30", "XYZ", "buy", 100),
            fill("2026-05-11", "10:00", "XYZ", "sell", 100),
            fill("2026-05-11", "11:00", "XYZ", "buy", 100),
            fill("2026-05-11", "12:00", "XYZ", "sell", 100),
        )
        == 2
    )


def test_partial_fills_of_one_closing_order_count_once() -> None:
    assert (
        count(
            fill("2026-05-11", "09:30", "XYZ", "buy", 200),
            fill("2026-05-11", "10:00", "XYZ", "sell", 100),
            fill("2026-05-11", "10:00", "XYZ", "sell", 100),
        )
        == 1
    )


def test_a_short_sale_covered_the_same_day_is_a_day_trade() -> None:
    assert count(fill("2026-05-11", "09:30", "XYZ", "sell", 50), fill("2026-05-11", "15:00", "XYZ", "buy", 50)) == 1


def test_selling_an_overnight_position_then_buying_back_is_not_a_day_trade() -> None:
    held = {"XYZ": Decimal(100)}
    assert (
        count(
            fill("2026-05-11", "09:30", "XYZ", "sell", 100),
            fill("2026-05-11", "10:00", "XYZ", "buy", 100),
            opening=held,
        )
        == 0
    )
    # ... but selling what was bought back that day is one
    assert (
        count(
            fill("2026-05-11", "09:30", "XYZ", "sell", 100),
            fill("2026-05-11", "10:00", "XYZ", "buy", 100),
            fill("2026-05-11", "11:00", "XYZ", "sell", 100),
            opening=held,
        )
        == 1
    )


def test_buying_and_selling_on_different_days_is_not_a_day_trade() -> None:
    assert count(fill("2026-05-11", "15:59", "XYZ", "buy", 10), fill("2026-05-12", "09:31", "XYZ", "sell", 10)) == 0


def test_the_window_is_five_sessions_and_skips_a_holiday() -> None:
    # 2026-05-25 is Memorial Day: a day trade on Mon 05-18 still counts on Fri 05-22 and drops off on Tue 05-26
    book = pdt.DayTradeBook.of(
        [fill("2026-05-18", "09:45", "XYZ", "buy", 1), fill("2026-05-18", "10:45", "XYZ", "sell", 1)]
    )
    friday = pdt.status(book, date(2026, 5, 22), XNYS, previous_close_equity=UNDER)
    assert friday.day_trades_used == 1
    assert friday.next_drop_off == date(2026, 5, 26)
    assert pdt.window(date(2026, 5, 26), XNYS) == [date(2026, 5, d) for d in (19, 20, 21, 22, 26)]
    assert pdt.status(book, date(2026, 5, 26), XNYS, previous_close_equity=UNDER).day_trades_used == 0


def test_fourth_day_trade_under_25k_is_denied() -> None:
    history = [*three_day_trades(), fill("2026-05-14", "09:45", "DDD", "buy", 10)]
    book = pdt.DayTradeBook.of(history)
    result = pdt.check(book, order("DDD", "sell", 10), at("2026-05-14", "11:00"), XNYS, previous_close_equity=UNDER)
    assert not result.allowed
    assert "day trade number 4" in result.reason
    assert "only 3 are allowed" in result.reason
    assert result.status.day_trades_used == 3
    assert result.status.next_drop_off == date(2026, 5, 18)


def test_an_order_that_makes_no_day_trade_passes_at_the_limit() -> None:
    book = pdt.DayTradeBook.of(three_day_trades())
    result = pdt.check(book, order("EEE", "buy", 10), at("2026-05-14"), XNYS, previous_close_equity=UNDER)
    assert result.allowed
    assert result.possible_day_trades == 0


def test_the_25k_override_lets_the_fourth_day_trade_through() -> None:
    history = [*three_day_trades(), fill("2026-05-14", "09:45", "DDD", "buy", 10)]
    result = pdt.check(
        pdt.DayTradeBook.of(history),
        order("DDD", "sell", 10),
        at("2026-05-14", "11:00"),
        XNYS,
        previous_close_equity=OVER,
    )
    assert result.allowed
    assert "$25,000" in result.reason


def test_working_orders_count_as_possible_pairs() -> None:
    # two day trades used; AAA and BBB bought today; a working sell of AAA could make the third
    history = [
        *three_day_trades()[:4],
        fill("2026-05-14", "09:45", "AAA", "buy", 10),
        fill("2026-05-14", "09:46", "BBB", "buy", 10),
    ]
    book = pdt.DayTradeBook.of(history)
    sell_bbb = order("BBB", "sell", 10)
    alone = pdt.check(book, sell_bbb, at("2026-05-14", "11:00"), XNYS, previous_close_equity=UNDER)
    assert alone.allowed  # it would be the third
    with_pending = pdt.check(
        book, sell_bbb, at("2026-05-14", "11:00"), XNYS, pending=[order("AAA", "sell", 10)], previous_close_equity=UNDER
    )
    assert not with_pending.allowed
    assert "1 more possible from your working orders" in with_pending.reason


def test_a_buy_with_a_working_sell_on_the_same_symbol_could_pair() -> None:
    book = pdt.DayTradeBook.of(three_day_trades())
    result = pdt.check(
        book,
        order("ZZZ", "buy", 5),
        at("2026-05-14"),
        XNYS,
        pending=[order("ZZZ", "sell", 5)],
        previous_close_equity=UNDER,
    )
    assert not result.allowed
    assert result.possible_day_trades == 1


def test_pattern_day_trader_needs_more_than_six_percent_of_trades() -> None:
    four = [
        *three_day_trades(),
        fill("2026-05-14", "09:45", "DDD", "buy", 1),
        fill("2026-05-14", "10:45", "DDD", "sell", 1),
    ]
    flagged = pdt.status(pdt.DayTradeBook.of(four), date(2026, 5, 15), XNYS, previous_close_equity=UNDER)
    assert flagged.day_trades_used == 4
    assert flagged.pattern_day_trader
    # the same four among 100 trades are 4%: not a pattern day trader
    swing = [fill("2026-05-15", "09:31", f"S{i:02d}", "buy", 1) for i in range(92)]
    many = pdt.status(pdt.DayTradeBook.of(four + swing), date(2026, 5, 15), XNYS, previous_close_equity=UNDER)
    assert many.trades_in_window == 100
    assert not many.pattern_day_trader


def test_day_trading_buying_power_caps_a_pattern_day_traders_openings() -> None:
    four = [
        *three_day_trades(),
        fill("2026-05-14", "09:45", "DDD", "buy", 1),
        fill("2026-05-14", "10:45", "DDD", "sell", 1),
    ]
    history = [*four, fill("2026-05-15", "09:45", "EEE", "buy", 900, "100")]  # $90,000 opened today
    book = pdt.DayTradeBook.of(history)
    kwargs = {"previous_close_equity": Decimal(30000), "previous_close_maintenance": Decimal(5000)}
    status = pdt.status(book, date(2026, 5, 15), XNYS, **kwargs)
    assert status.day_trading_buying_power == Decimal(100000)  # 4 × (30,000 − 5,000)
    big = pdt.check(book, order("FFF", "buy", 200, "100"), at("2026-05-15", "11:00"), XNYS, **kwargs)
    assert not big.allowed
    assert "$10,000.00 left" in big.reason
    assert pdt.check(book, order("FFF", "buy", 50, "100"), at("2026-05-15", "11:00"), XNYS, **kwargs).allowed


@pytest.mark.parametrize(("used", "remaining"), [(0, 3), (2, 1), (3, 0)])
def test_status_says_how_many_day_trades_remain(used: int, remaining: int) -> None:
    book = pdt.DayTradeBook.of(three_day_trades()[: used * 2])
    status = pdt.status(book, date(2026, 5, 14), XNYS, previous_close_equity=UNDER)
    assert (status.day_trades_used, status.day_trades_remaining) == (used, remaining)
