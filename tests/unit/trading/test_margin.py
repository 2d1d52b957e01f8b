"""Intraday margin: a trade that adds exposure may not create or increase a maintenance deficit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketdesk.trading import margin
from marketdesk.trading.activity import OrderIntent, Side

RATES = margin.MarginRates()
EQUITY = Decimal(10000)


def order(symbol: str, side: str, qty: int, price: str = "100") -> OrderIntent:
    return OrderIntent(symbol, Side(side), Decimal(qty), Decimal(price))


def test_requirement_is_25_percent_long_and_30_percent_short() -> None:
    positions = {"LONG": Decimal(100), "SHORT": Decimal(-100)}
    prices = {"LONG": Decimal(50), "SHORT": Decimal(20)}
    assert margin.requirement(positions, prices, RATES) == Decimal("1250") + Decimal("600")


def test_a_buy_up_to_the_requirement_passes_and_one_share_more_is_denied() -> None:
    # 400 × $100 at 25% = $10,000 of requirement: exactly the equity
    assert margin.check(order("XYZ", "buy", 400), {}, {}, EQUITY, RATES).allowed
    denied = margin.check(order("XYZ", "buy", 401), {}, {}, EQUITY, RATES)
    assert not denied.allowed
    assert "create an intraday margin deficit" in denied.reason
    assert "$10,025.00" in denied.reason
    assert denied.requirement_after == Decimal("10025")


def test_a_short_sale_uses_the_short_rate() -> None:
    # 333 × $100 × 30% = $9,990 fits; 334 → $10,020 does not
    assert margin.check(order("XYZ", "sell", 333), {}, {}, EQUITY, RATES).allowed
    assert not margin.check(order("XYZ", "sell", 334), {}, {}, EQUITY, RATES).allowed


def test_a_per_symbol_rate_overrides_the_default() -> None:
    rates = margin.MarginRates(per_symbol={"LEV3X": (Decimal("0.75"), Decimal("0.90"))})
    assert margin.check(order("LEV3X", "buy", 133), {}, {}, EQUITY, rates).allowed  # $9,975
    assert not margin.check(order("LEV3X", "buy", 134), {}, {}, EQUITY, rates).allowed  # $10,050


def test_reducing_exposure_always_passes_even_in_deficit() -> None:
    positions = {"XYZ": Decimal(500)}  # $50,000 long → $12,500 required against $10,000: in deficit
    prices = {"XYZ": Decimal(100)}
    result = margin.check(order("XYZ", "sell", 100), positions, prices, EQUITY, RATES)
    assert result.allowed
    assert result.status.deficit == Decimal(2500)
    assert "reduces exposure" in result.reason


def test_adding_to_a_deficit_is_denied() -> None:
    positions = {"XYZ": Decimal(500)}
    result = margin.check(order("ABC", "buy", 1), positions, {"XYZ": Decimal(100)}, EQUITY, RATES)
    assert not result.allowed
    assert "increase an intraday margin deficit" in result.reason


def test_a_buy_that_covers_a_short_is_not_an_increase() -> None:
    positions = {"XYZ": Decimal(-400)}  # $12,000 required against $10,000
    prices = {"XYZ": Decimal(100)}
    assert margin.check(order("XYZ", "buy", 400), positions, prices, EQUITY, RATES).allowed
    # buying past the cover opens a long: 200 more long at 25% = $5,000, within equity once the short is gone
    assert margin.check(order("XYZ", "buy", 600), positions, prices, EQUITY, RATES).allowed
    assert margin.exposure_increase(Decimal(-400), order("XYZ", "buy", 600)) == Decimal(200)


def test_the_broker_cap_limits_exposure_added_in_a_day() -> None:
    kwargs = {"cap_multiple": Decimal(4), "previous_close_excess": Decimal(2000)}  # $8,000 a day
    assert margin.check(order("XYZ", "buy", 80), {}, {}, EQUITY, RATES, **kwargs).allowed
    capped = margin.check(order("XYZ", "buy", 30), {}, {}, EQUITY, RATES, added_today_notional=Decimal(6000), **kwargs)
    assert not capped.allowed
    assert "$2,000.00 left" in capped.reason


def test_status_reports_requirement_equity_and_headroom() -> None:
    result = margin.check(order("XYZ", "buy", 1), {"ABC": Decimal(100)}, {"ABC": Decimal(40)}, EQUITY, RATES)
    assert result.status.requirement == Decimal(1000)
    assert result.status.equity == EQUITY
    assert result.status.headroom == Decimal(9000)


def test_a_rate_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        margin.MarginRates(long=Decimal(25))
