"""Valuation: the daily end-of-day series and the holdings, by hand on a small portfolio (a deposit, a dividend,
a split and a weekend withdrawal), its TWR and XIRR through `performance`, marks without price history, a
property (no flows: TWR is the price return) and a real-data case (AAPL's 2020 split and dividends)."""

from __future__ import annotations

import csv
import gzip
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.portfolio.ledger import Kind, Transaction, replay
from marketdesk.portfolio.performance import performance
from marketdesk.portfolio.valuation import PriceHistory, daily_series, value_holdings

D = Decimal
DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5), date(2024, 1, 8)]
# AAA closes: +10%, −5%, the 4-for-1 split on the 5th (104.5 / 4 = 26.125, unchanged), then +5%
CLOSES = [100.0, 110.0, 104.5, 26.125, 27.43125]
HISTORY = [
    Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D(1000)),
    Transaction(date(2024, 1, 2), Kind.BUY, "AAA", qty=D(10), price=D(100)),
    Transaction(date(2024, 1, 3), Kind.DEPOSIT, amount=D(500)),
    Transaction(date(2024, 1, 4), Kind.DIVIDEND, "AAA", amount=D(5)),
    Transaction(date(2024, 1, 5), Kind.SPLIT, "AAA", ratio=D(4)),
    Transaction(date(2024, 1, 6), Kind.WITHDRAWAL, amount=D(100)),  # a Saturday: no close that day
]


def prices(symbols: dict[str, list[float]], days: list[date]) -> PriceHistory:
    return PriceHistory(
        np.array(days, dtype="datetime64[D]"), tuple(symbols), np.column_stack([symbols[s] for s in symbols])
    )


def test_the_daily_series_by_hand() -> None:
    ledger = replay(HISTORY)
    series = daily_series(HISTORY, ledger, prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    assert [str(d) for d in series.dates] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06",
                                              "2024-01-08"]  # fmt: skip
    # positions: 10 × 100, 10 × 110, 10 × 104.5, 40 × 26.125, 40 × 26.125 (Saturday: Friday's close), 40 × 27.43125
    assert series.positions_value.tolist() == [1000.0, 1100.0, 1045.0, 1045.0, 1045.0, 1097.25]
    # cash: 1000 − 1000; +500; +5 dividend; split; −100 withdrawal
    assert series.cash.tolist() == [0.0, 500.0, 505.0, 505.0, 405.0, 405.0]
    assert series.flows.tolist() == [1000.0, 500.0, 0.0, 0.0, -100.0, 0.0]
    assert series.value.tolist() == [1000.0, 1600.0, 1550.0, 1550.0, 1450.0, 1502.25]


def test_twr_xirr_and_total_return_by_hand() -> None:
    ledger = replay(HISTORY)
    series = daily_series(HISTORY, ledger, prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    result = performance(series, ledger)
    # daily returns, flows at the start of the day:
    #   01-02  1000 / (0 + 1000)      − 1 = 0
    #   01-03  1600 / (1000 + 500)    − 1 = +6.667%
    #   01-04  1550 / 1600            − 1 = −3.125%   (the 5 dividend is inside the value)
    #   01-05  1550 / 1550            − 1 = 0         (the split changes nothing)
    #   01-06  1450 / (1550 − 100)    − 1 = 0
    #   01-08  1502.25 / 1450         − 1 = +3.603%
    # TWR = (1600 / 1500) × (1550 / 1600) × (1502.25 / 1450) − 1 = (1550 / 1500) × (1502.25 / 1450) − 1
    assert result.twr == pytest.approx((1550 / 1500) * (1502.25 / 1450) - 1, abs=1e-12)
    assert result.twr == pytest.approx(0.0705690, abs=1e-7)
    # gain = end value − start value − net flows = 1502.25 − 0 − (1000 + 500 − 100) = 102.25
    # total return = gain / (start value + inflows) = 102.25 / 1500
    assert (result.start_value, result.end_value, result.net_flows) == (D(0), D("1502.25"), D(1400))
    assert result.gain == D("102.25")
    assert result.dividend_income == D(5)
    assert result.total_return == pytest.approx(102.25 / 1500)
    # XIRR: −1000 on 01-02, −500 on 01-03, +100 on 01-06, +1502.25 on 01-09 (the close of 01-08 is the 9th's
    # start); its rate makes their present value zero
    assert result.xirr is not None
    cash_flows = [(date(2024, 1, 2), -1000.0), (date(2024, 1, 3), -500.0), (date(2024, 1, 6), 100.0),
                  (date(2024, 1, 9), 1502.25)]  # fmt: skip
    npv = sum(a / (1 + result.xirr) ** ((d - date(2024, 1, 2)).days / 365) for d, a in cash_flows)
    assert npv == pytest.approx(0.0, abs=1e-6)
    assert result.twr_annualized is None
    assert result.notes == ("TWR is not annualized over 7 days (less than a year)",)


def test_a_sub_range_starts_from_the_value_the_day_before() -> None:
    ledger = replay(HISTORY)
    series = daily_series(HISTORY, ledger, prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    result = performance(series, ledger, date(2024, 1, 4), date(2024, 1, 8))
    # start value = the close of 01-03 (1600); TWR = (1550 / 1600) × (1502.25 / 1450) − 1
    assert result.start_value == D(1600)
    assert result.twr == pytest.approx((1550 / 1600) * (1502.25 / 1450) - 1, abs=1e-12)
    assert result.net_flows == D(-100)
    assert result.dividend_income == D(5)
    assert result.gain == D("1502.25") - D(1600) + D(100)


def test_holdings_by_hand_at_the_last_close() -> None:
    ledger = replay(HISTORY)
    valuation = value_holdings(ledger, prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    (aaa,) = valuation.holdings
    assert (aaa.qty, aaa.cost_basis, aaa.average_cost) == (D(40), D(1000), D(25))
    assert (aaa.price, aaa.price_date) == (D("27.43125"), date(2024, 1, 8))
    assert aaa.market_value == D("1097.25")
    assert aaa.unrealized_pnl == D("97.25")
    assert aaa.dividends == D(5)
    assert valuation.cash == D(405)
    assert valuation.total_value == D("1502.25")
    assert valuation.net_contributions == D(1400)
    assert valuation.total_return == D("102.25")  # 97.25 unrealized + 5 dividends
    assert valuation.total_value == valuation.net_contributions + valuation.total_return


def test_a_symbol_without_price_history_is_marked_at_its_last_trade_price() -> None:
    history = [
        Transaction(date(2024, 1, 2), Kind.BUY, "ZZZ", qty=D(3), price=D(50)),
        Transaction(date(2024, 1, 4), Kind.SPLIT, "ZZZ", ratio=D(2)),
    ]
    ledger = replay(history)
    valuation = value_holdings(ledger, prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    (zzz,) = valuation.holdings
    assert (zzz.qty, zzz.price, zzz.price_date, zzz.market_value) == (D(6), D(25), None, D(150))
    series = daily_series(history, ledger, prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    assert set(series.positions_value.tolist()) == {150.0}  # the split halves the mark as it doubles the shares


def test_transactions_after_the_end_are_left_out_of_the_series() -> None:
    later = [*HISTORY, Transaction(date(2024, 2, 1), Kind.DEPOSIT, amount=D(7))]
    series = daily_series(later, replay(later), prices({"AAA": CLOSES}, DAYS), date(2024, 1, 8))
    assert str(series.dates[-1]) == "2024-01-08"
    assert series.flows.sum() == 1400.0


@settings(max_examples=100, deadline=None)
@given(
    cents=st.lists(st.integers(min_value=100, max_value=100_000), min_size=2, max_size=200),
    shares=st.integers(1, 1_000),
)
def test_twr_of_a_bought_holding_with_no_other_flows_is_the_price_return(cents: list[int], shares: int) -> None:
    closes = [c / 100 for c in cents]
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(len(closes))]
    history = [Transaction(days[0], Kind.BUY, "AAA", qty=D(shares), price=D(cents[0]) / 100)]
    ledger = replay(history)
    series = daily_series(history, ledger, prices({"AAA": closes}, days), days[-1])
    assert performance(series, ledger).twr == pytest.approx(closes[-1] / closes[0] - 1, rel=1e-9, abs=1e-12)


@pytest.mark.shared_data
def test_aapl_through_its_2020_split_with_its_dividends_on_real_prices(shared_data: Path) -> None:
    folder = shared_data / "prices-sp500-daily"
    rows = []
    with gzip.open(folder / "sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            if row["ticker"] == "AAPL" and row["date"] >= "2020-08-03":
                rows.append(row)
    days = [date.fromisoformat(r["date"]) for r in rows]
    closes = [float(r["close"]) for r in rows]  # raw closes: 499.23 on 2020-08-28, 129.04 after the split
    split = next(r for r in rows if float(r["split_coefficient"]) != 1.0)
    assert (split["date"], split["split_coefficient"]) == ("2020-08-31", "4.0")
    history = [Transaction(days[0], Kind.BUY, "AAPL", qty=D(10), price=D(rows[0]["close"]))]
    shares = D(10)
    for r in rows:
        if r["date"] == split["date"]:
            history.append(Transaction(days[rows.index(r)], Kind.SPLIT, "AAPL", ratio=D(r["split_coefficient"])))
            shares *= D(r["split_coefficient"])
        if float(r["dividend_amount"]) > 0:  # paid on the shares held, into cash
            history.append(
                Transaction(days[rows.index(r)], Kind.DIVIDEND, "AAPL", amount=shares * D(r["dividend_amount"]))
            )
    ledger = replay(history)
    assert ledger.positions["AAPL"].qty == D(40)
    series = daily_series(history, ledger, prices({"AAPL": closes}, days), days[-1])
    result = performance(series, ledger)
    dividends = float(ledger.dividends)
    assert dividends == pytest.approx(10 * 0.82 + 40 * 0.205 * 2)  # 0.82 before the split; 0.205 twice after
    # no flow after the purchase: TWR = (40 × last close + dividends) / (10 × first close) − 1
    assert result.twr == pytest.approx((40 * 133.50 + dividends) / (10 * closes[0]) - 1, rel=1e-9)
    assert series.value[-1] == pytest.approx(40 * 133.50 + dividends)
