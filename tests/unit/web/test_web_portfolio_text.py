"""The portfolio and analytics pages' words, numbers and series, as the web desk shows them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from marketdesk.analytics import metric_keys, metrics
from marketdesk.errors import Rejected
from marketdesk.portfolio.ledger import Kind
from marketdesk.portfolio.valuation import Holding
from marketdesk.web.portfolio_series import (
    aligned_benchmark,
    daily_portfolio_returns,
    growth,
    heatmap_options,
    in_range,
    monthly_returns,
    returns_from_closes,
    series_csv,
)
from marketdesk.web.portfolio_text import (
    allocation_bars,
    conventions_line,
    metric_label,
    metric_rows,
    metric_text,
    money,
    rate,
    regime_meaning,
    transaction_from_form,
)

DAY = date(2024, 3, 1)


def _holding(symbol: str, value: str) -> Holding:
    amount = Decimal(value)
    return Holding(
        symbol=symbol, qty=Decimal(1), cost_basis=amount, average_cost=amount, price=amount, price_date=DAY,
        market_value=amount, unrealized_pnl=Decimal(0), realized_pnl=Decimal(0), dividends=Decimal(0), weight=None,
    )  # fmt: skip


def test_a_buy_form_becomes_a_buy_with_the_ticker_upper_cased() -> None:
    made = transaction_from_form("buy", DAY, symbol=" msft ", qty="3", price="$1,200.50", fee="")
    assert (made.kind, made.symbol, made.qty, made.price, made.fee) == (
        Kind.BUY, "MSFT", Decimal(3), Decimal("1200.50"), Decimal(0),
    )  # fmt: skip


def test_a_deposit_form_keeps_only_its_amount() -> None:
    made = transaction_from_form("deposit", DAY, symbol="AAPL", amount="500")
    assert (made.kind, made.symbol, made.amount, made.qty) == (Kind.DEPOSIT, None, Decimal(500), None)


@pytest.mark.parametrize(
    ("kind", "fields", "says"),
    [
        ("buy", {"qty": "1", "price": "2"}, "needs a symbol"),
        ("sell", {"symbol": "A", "qty": "ten", "price": "2"}, "quantity 'ten' is not a number"),
        ("buy", {"symbol": "A", "qty": "1"}, "price is missing"),
        ("dividend", {"symbol": "A"}, "amount is missing"),
        ("split", {"symbol": "A"}, "unknown transaction kind"),
    ],
)
def test_a_form_with_a_wrong_field_is_rejected_saying_which(kind: str, fields: dict[str, str], says: str) -> None:
    with pytest.raises(Rejected, match=says):
        transaction_from_form(kind, DAY, **fields)


def test_money_signs_gains_and_marks_missing_values() -> None:
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money(Decimal("-20"), signed=True) == "−$20.00"
    assert money(Decimal("5"), signed=True) == "+$5.00"
    assert money(None) == "—"
    assert rate(None) == "—"
    assert rate(0.1234) == "+12.34%"


def test_every_regime_has_a_meaning_and_an_unknown_one_says_so() -> None:
    for state in ("risk-on", "neutral", "risk-off"):
        assert regime_meaning(state).lower().startswith(state)
    assert "unknown" in regime_meaning("unknown")


def test_allocation_bars_run_largest_first_with_cash_last() -> None:
    bars = allocation_bars([_holding("AAA", "100"), _holding("BBB", "300")], Decimal(600), Decimal(1000))
    assert [(b.label, b.width_pct) for b in bars] == [("BBB", 30.0), ("AAA", 10.0), ("Cash", 60.0)]
    assert allocation_bars([], Decimal(0), Decimal(0)) == []


def test_metric_texts_use_percentages_counts_and_the_missing_mark() -> None:
    assert metric_text("max_drawdown", -0.131) == "−13.10%"
    assert metric_text("observations", 51.0) == "51"
    assert metric_text("sharpe", 1.494) == "1.49"
    assert metric_text("sharpe", None) == "—"
    assert metric_label("var_97_5") == "VaR 97.5% (one period)"


def test_a_metric_the_series_cannot_give_carries_its_stated_reason() -> None:
    flat = pd.Series([0.0, 0.0, 0.0], index=pd.bdate_range("2024-01-01", periods=3))
    measured = metrics(flat)
    rows = {row.key: row for row in metric_rows(measured, metric_keys())}
    assert rows["sharpe"].text == "—"
    assert rows["sharpe"].missing is not None
    assert "do not vary" in rows["sharpe"].missing
    assert "252 periods per year" in conventions_line(measured["conventions"])


def test_daily_returns_count_flows_at_the_start_of_the_day() -> None:
    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    returns = daily_portfolio_returns(days, [100.0, 220.0, 242.0], [100.0, 100.0, 0.0])
    assert returns.round(6).tolist() == [0.0, 0.1, 0.1]
    assert growth(returns).round(6).tolist() == [100.0, 110.0, 121.0]
    assert in_range(returns, date(2024, 1, 3), None).index.strftime("%Y-%m-%d").tolist() == ["2024-01-03", "2024-01-04"]


def test_monthly_returns_compound_the_days_of_each_month() -> None:
    index = pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01"])
    table = monthly_returns(pd.Series([0.1, 0.1, -0.5], index=index))
    assert table.loc[2024, "Jan"] == pytest.approx(0.21)
    assert table.loc[2024, "Feb"] == pytest.approx(-0.5)
    assert np.isnan(table.loc[2024, "Mar"])
    cells = heatmap_options(table)["series"][0]["data"]
    assert cells == [[0, 0, 21.0], [1, 0, -50.0]]


def test_a_benchmark_day_without_a_close_counts_as_flat_and_is_told() -> None:
    closes = returns_from_closes(np.array(["2024-01-04", "2024-01-05", "2024-01-08"], dtype="datetime64[D]"),
                                 np.array([100.0, 101.0, 102.01]))  # fmt: skip
    ours = pd.Series(0.01, index=pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-08"]))
    aligned, note = aligned_benchmark(closes, ours)
    assert aligned.round(6).tolist() == [0.01, 0.0, 0.01]
    assert note.startswith("1 day(s)")


def test_the_daily_series_csv_has_no_nan_cells() -> None:
    returns = pd.Series([0.01, -0.02], index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    benchmark = pd.Series([0.005], index=pd.to_datetime(["2024-01-03"]))
    lines = series_csv(returns, benchmark, "SPY").splitlines()
    assert lines[0] == "date,return,growth_100,drawdown,spy_return"
    assert lines[1].endswith(",")  # the benchmark had no return that day: an empty cell
    assert "nan" not in "".join(lines)
