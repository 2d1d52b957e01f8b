"""The portfolio dashboard's words and numbers: targets typed as NAME=PERCENT, weights and drifts, and the
holdings' upcoming earnings and ex-dividend dates (stored ones first, else estimated from the cadence)."""

from __future__ import annotations

import doctest
from datetime import date
from decimal import Decimal

import pytest

from marketdesk.errors import Rejected
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, EarningsEvent
from marketdesk.web import portfolio_text
from marketdesk.web.portfolio_text import (
    drift_text,
    next_ex_dividend,
    parse_weights,
    percent_text,
    upcoming_events,
    weights_text,
)

D = Decimal
TODAY = date(2026, 11, 20)


def dividend(symbol: str, day: date, amount: str = "0.25") -> CorporateAction:
    return CorporateAction(symbol, day, CorporateActionKind.DIVIDEND, D(amount))


def test_targets_typed_as_pairs_are_read_and_written_back() -> None:
    typed = "aapl=30,\nMSFT = 20.5 ,"
    assert parse_weights(typed, "symbol") == {"AAPL": D(30), "MSFT": D("20.5")}
    assert parse_weights("Health Care=15", "sector") == {"Health Care": D(15)}  # sectors keep their spelling
    assert weights_text({"AAPL": D("30.00"), "MSFT": D("20.5")}) == "AAPL=30, MSFT=20.5"
    assert parse_weights("", "symbol") == {}


@pytest.mark.parametrize(
    ("typed", "message"),
    [("AAPL", "the symbol target 'AAPL' is not NAME=PERCENT"), ("=5", "the symbol target '=5' is not NAME=PERCENT"),
     ("AAPL=lots", "the symbol target for AAPL 'lots' is not a number")],
)  # fmt: skip
def test_a_bad_pair_says_which_to_fix(typed: str, message: str) -> None:
    with pytest.raises(Rejected, match=message):
        parse_weights(typed, "symbol")


def test_weights_and_drifts_read_like_people_write_them() -> None:
    assert percent_text(D("67.6612")) == "67.7%"
    assert drift_text(D("17.04")) == "+17.0 pp"
    assert drift_text(D("-3.25")) == "−3.2 pp"  # half to even, a real minus sign
    assert drift_text(D("0.01")) == "0.0 pp"
    assert drift_text(None) == percent_text(None) == "—"


def test_a_stored_ex_date_comes_first_and_a_steady_payer_gets_an_estimate() -> None:
    past = [dividend("A", date(2026, month, 12)) for month in (2, 5, 8)]  # 89 and 92 days apart: median 90.5 → 90
    assert next_ex_dividend([*past, dividend("A", date(2026, 12, 1), "0.3")], TODAY) == (
        date(2026, 12, 1),
        D("0.3"),
        False,
    )
    # no stored date ahead: Aug 12 + 90 days = Nov 10 is past, + 90 more = Feb 8
    assert next_ex_dividend(past, TODAY) == (date(2027, 2, 8), D("0.25"), True)
    assert next_ex_dividend(past[-1:], TODAY) is None  # one payment says nothing about a cadence


def test_upcoming_events_are_the_next_report_and_ex_date_within_the_horizon_soonest_first() -> None:
    earnings = {
        "AAA": [EarningsEvent("AAA", date(2026, 10, 28), 1.0, 1.1), EarningsEvent("AAA", date(2027, 1, 27), 1.25,
                time_of_day="amc"), EarningsEvent("AAA", date(2027, 4, 28), 1.3)],
        "BBB": [EarningsEvent("BBB", date(2027, 3, 1), 2.0)],  # 101 days away: past the 90-day horizon
    }  # fmt: skip
    actions = {"AAA": [], "BBB": [dividend("BBB", date(2026, 12, 3), "0.4500")]}
    events = upcoming_events(earnings, actions, TODAY)
    assert [(e.day, e.symbol, e.kind, e.estimated) for e in events] == [
        (date(2026, 12, 3), "BBB", "ex-dividend", False),
        (date(2027, 1, 27), "AAA", "earnings", False),
    ]
    assert events[0].detail == "$0.45 a share"
    assert events[1].detail == "after the close, EPS estimate 1.25"
    assert upcoming_events({}, {}, TODAY) == []


def test_the_doctests_hold() -> None:
    result = doctest.testmod(portfolio_text, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
