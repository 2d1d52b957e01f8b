"""The cash account: T+1 settlement on XNYS sessions, good-faith violations warned before they happen."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.trading import settlement
from marketdesk.trading.activity import Execution, OrderIntent, Side

XNYS = ExchangeCalendar("XNYS")


def fill(day: str, symbol: str, side: str, qty: int, price: str = "100", clock: str = "10:00") -> Execution:
    when = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=NEW_YORK)
    return Execution(when, symbol, Side(side), Decimal(qty), Decimal(price))


def order(symbol: str, side: str, qty: int) -> OrderIntent:
    return OrderIntent(symbol, Side(side), Decimal(qty), Decimal(100))


def ledger(*executions: Execution, cash: str = "10000") -> settlement.CashLedger:
    return settlement.CashLedger.of(list(executions), Decimal(cash), XNYS)


def test_sale_proceeds_settle_the_next_session_across_a_holiday() -> None:
    # Wednesday 2026-11-25 settles Friday 11-27: Thanksgiving (11-26) is no session
    book = ledger(fill("2026-11-24", "XYZ", "buy", 10), fill("2026-11-25", "XYZ", "sell", 10))
    wednesday = settlement.status(book, date(2026, 11, 25))
    assert wednesday.unsettled_cash == Decimal(1000)
    assert wednesday.next_settlement == date(2026, 11, 27)
    assert settlement.status(book, date(2026, 11, 27)).settled_cash == Decimal(10000)


def test_buying_with_unsettled_funds_is_allowed_with_a_warning() -> None:
    book = ledger(fill("2026-11-16", "XYZ", "buy", 100), fill("2026-11-18", "XYZ", "sell", 100))  # all cash in XYZ
    result = settlement.check(book, order("ABC", "buy", 50), date(2026, 11, 18), Decimal(100))
    assert result.allowed
    assert "unsettled funds" in result.warnings[0]


def test_selling_before_the_funding_settles_is_warned_as_a_good_faith_violation() -> None:
    history = [
        fill("2026-11-16", "XYZ", "buy", 100),
        fill("2026-11-18", "XYZ", "sell", 100),
        fill("2026-11-18", "ABC", "buy", 50, clock="11:00"),
    ]
    book = ledger(*history)
    result = settlement.check(book, order("ABC", "sell", 50), date(2026, 11, 18), Decimal(100))
    assert result.allowed
    assert "good-faith violation" in result.warnings[0]
    assert "2026-11-19" in result.warnings[0]
    # the next day the funds have settled: no warning
    assert settlement.check(book, order("ABC", "sell", 50), date(2026, 11, 19), Decimal(100)).warnings == ()


def test_a_violation_in_the_history_is_recorded() -> None:
    book = ledger(
        fill("2026-11-16", "XYZ", "buy", 100), fill("2026-11-18", "XYZ", "sell", 100),
        fill("2026-11-18", "ABC", "buy", 50, clock="11:00"), fill("2026-11-18", "ABC", "sell", 50, clock="12:00"),
    )  # fmt: skip
    assert [(v.kind, v.symbol) for v in book.violations] == [("good-faith", "ABC")]
    assert settlement.status(book, date(2026, 11, 20)).good_faith_violations_12m == 1


def test_a_cash_account_cannot_borrow_or_sell_short() -> None:
    book = ledger(cash="1000")
    too_big = settlement.check(book, order("XYZ", "buy", 11), date(2026, 11, 18), Decimal(100))
    assert not too_big.allowed
    assert "cannot borrow" in too_big.reason
    short = settlement.check(book, order("XYZ", "sell", 1), date(2026, 11, 18), Decimal(100))
    assert not short.allowed
    assert "cannot sell short" in short.reason


def test_three_violations_in_a_year_restrict_buying_to_settled_cash() -> None:
    history = [fill("2026-10-01", "XYZ", "buy", 100)]
    days = ["2026-10-05", "2026-10-12", "2026-10-19"]
    held = "XYZ"
    for day in days:  # sell, buy with the proceeds, sell that the same day: a violation each week
        history += [fill(day, held, "sell", 100, clock="10:00"), fill(day, "ABC", "buy", 100, clock="11:00"),
                    fill(day, "ABC", "sell", 100, clock="12:00"), fill(day, "XYZ", "buy", 100, clock="13:00")]  # fmt: skip
    history.append(fill("2026-10-20", "XYZ", "sell", 100))  # proceeds that settle tomorrow
    book = ledger(*history)
    assert [v.kind for v in book.violations] == ["good-faith"] * 3
    day = date(2026, 10, 20)
    status = settlement.status(book, day)
    assert status.restricted_until == date(2026, 10, 19) + settlement.RESTRICTION
    result = settlement.check(book, order("DEF", "buy", 10), day, Decimal(100))
    assert not result.allowed
    assert "settled cash until 2027-01-17" in result.reason
