"""The analytics page's allocation and comparison helpers: slices by symbol, sector and asset class from a real
valuation (shares worked out by hand), the comparison table's words and the charts' series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from marketdesk.analytics.compare_measures import Candidate, compare_returns
from marketdesk.portfolio.ledger import Kind, Transaction, replay
from marketdesk.portfolio.valuation import PriceHistory, Valuation, value_holdings
from marketdesk.web.analytics_charts import (
    CASH,
    allocation_options,
    allocation_slices,
    asset_class_of,
    comparison_options,
    comparison_rows,
    figure_text,
    grouped_values,
    sector_of,
)

D = Decimal
DAY = date(2024, 3, 1)


def valuation() -> Valuation:
    """10,000 in; 10 AAA at 100 (now 120), 20 BBB at 50 (now 40), 5 ETF1 at 200 (now 210): 1,200 + 800 + 1,050
    in positions, 10,000 − 1,000 − 1,000 − 1,000 = 7,000 cash, 10,050 in all."""
    transactions = [Transaction(date(2024, 1, 2), Kind.DEPOSIT, amount=D(10000))]
    for symbol, qty, price in (("AAA", 10, 100), ("BBB", 20, 50), ("ETF1", 5, 200)):
        transactions.append(Transaction(date(2024, 1, 3), Kind.BUY, symbol, qty=D(qty), price=D(price)))
    prices = PriceHistory(
        np.array([DAY], dtype="datetime64[D]"), ("AAA", "BBB", "ETF1"), np.array([[120.0, 40.0, 210.0]])
    )
    return value_holdings(replay(transactions), prices, DAY)


def test_by_symbol_each_position_and_the_cash_get_their_share_of_the_total() -> None:
    v = valuation()
    slices = allocation_slices(grouped_values(v.holdings), v.cash, v.total_value)
    assert [(s.label, s.value) for s in slices] == [
        ("AAA", D(1200)), ("ETF1", D(1050)), ("BBB", D(800)), (CASH, D(7000)),
    ]  # fmt: skip
    assert [s.share for s in slices] == [1200 / 10050, 1050 / 10050, 800 / 10050, 7000 / 10050]
    assert sum(s.value for s in slices) == v.total_value


def test_by_sector_and_asset_class_the_groups_add_their_positions() -> None:
    v = valuation()
    sectors = {"AAA": sector_of("Information Technology"), "BBB": sector_of("Information Technology"),
               "ETF1": sector_of(None)}  # fmt: skip
    by_sector = allocation_slices(grouped_values(v.holdings, sectors), v.cash, v.total_value)
    assert [(s.label, s.value) for s in by_sector] == [
        ("Information Technology", D(2000)), ("Sector unknown", D(1050)), (CASH, D(7000)),
    ]  # fmt: skip
    classes = {"AAA": asset_class_of("equity"), "BBB": asset_class_of("equity"), "ETF1": asset_class_of("etf")}
    by_class = allocation_slices(grouped_values(v.holdings, classes), v.cash, v.total_value)
    assert [(s.label, round(s.share or 0, 6)) for s in by_class] == [
        ("Stocks", round(2000 / 10050, 6)), ("ETFs", round(1050 / 10050, 6)), (CASH, round(7000 / 10050, 6)),
    ]  # fmt: skip


def test_the_donut_leaves_out_what_is_worth_nothing_or_less() -> None:
    slices = allocation_slices({"LONG": D(500), "SHORT": D(-200)}, D(0), D(300))
    assert [s.label for s in slices] == ["LONG", "SHORT"]  # no cash slice: there is none
    data = allocation_options(slices, "By symbol")["series"][0]["data"]
    assert [(d["name"], d["value"]) for d in data] == [("LONG", 500.0)]
    assert allocation_slices({"AAA": D(1)}, D(0), D(0))[0].share is None  # no total: no share to give


def test_the_comparison_table_reads_in_percent_with_the_reason_where_a_figure_is_missing() -> None:
    days = pd.bdate_range("2024-01-02", periods=3)
    comparison = compare_returns([
        Candidate("a", "Growth", "portfolio", pd.Series([0.0, 0.1, -0.1], index=days)),
        Candidate("SPY", "SPY", "benchmark", pd.Series([0.01], index=days[:1])),
    ])  # fmt: skip
    growth, spy = comparison_rows(comparison)
    cells = {measure: (text, why) for measure, text, why in growth.cells}
    assert cells["twr"] == ("−1.00%", "")  # 1.1 × 0.9 − 1
    assert cells["max_drawdown"] == ("−10.00%", "")
    assert cells["twr_annualized"][0] == "—" and "less than a year" in cells["twr_annualized"][1]
    assert growth.span == "2024-01-02 → 2024-01-04 (3 days)"
    spy_cells = {measure: (text, why) for measure, text, why in spy.cells}
    assert spy_cells["twr"] == ("+1.00%", "")
    assert spy_cells["sharpe"][0] == "—" and "at least 2 returns" in spy_cells["sharpe"][1]
    assert (figure_text("sharpe", -1.234), figure_text("annual_volatility", 0.2)) == ("−1.23", "20.00%")


def test_the_comparison_chart_draws_each_curve_and_the_benchmark_dashed() -> None:
    days = pd.bdate_range("2024-01-02", periods=2)
    comparison = compare_returns([
        Candidate("a", "Growth", "portfolio", pd.Series([0.0, 0.1], index=days)),
        Candidate("b", "Empty", "portfolio", pd.Series([], dtype=float, index=pd.DatetimeIndex([]))),
        Candidate("SPY", "SPY", "benchmark", pd.Series([0.01, 0.02], index=days)),
    ])  # fmt: skip
    series = comparison_options(comparison)["series"]
    assert [s["name"] for s in series] == ["Growth", "SPY"]  # a series with no day draws nothing
    assert series[0]["data"] == [["2024-01-02", 100.0], ["2024-01-03", 110.0]]
    assert series[1]["lineStyle"]["type"] == "dashed"
