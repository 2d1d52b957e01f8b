"""Portfolios side by side (`marketdesk.analytics.compare_measures`), against figures worked out by hand from the
definitions: TWR = Π(1 + r) − 1, volatility = sample standard deviation × √252, Sharpe = mean ÷ standard deviation
× √252 (rf 0), max drawdown = the deepest fall of the growth of 1 from its running peak (at least 1)."""

from __future__ import annotations

import csv
import io
import math
from datetime import date

import pandas as pd
import pytest

from marketdesk.analytics import Conventions
from marketdesk.analytics.compare_measures import (
    CSV_COLUMNS,
    Candidate,
    compare_returns,
    comparison_csv,
    curves_csv,
)
from marketdesk.errors import Rejected

ROOT_252 = math.sqrt(252)


def daily(start: str, returns: list[float]) -> pd.Series:
    return pd.Series(returns, index=pd.bdate_range(start, periods=len(returns)), name="return")


# Growth: 0%, +10%, −5%, +2% from Tue 2024-01-02; Value opens two days later: 0%, −3%
GROWTH = Candidate("p-growth", "Growth", "portfolio", daily("2024-01-02", [0.0, 0.10, -0.05, 0.02]))
VALUE = Candidate("p-value", "Value", "portfolio", daily("2024-01-04", [0.0, -0.03]))
BENCH = Candidate("SPY", "SPY", "benchmark", daily("2024-01-02", [0.01, 0.01, -0.02, 0.00]))


def test_two_portfolios_and_the_benchmark_side_by_side_match_the_hand_computed_figures() -> None:
    found = compare_returns([GROWTH, VALUE, BENCH])
    growth, value, bench = found.series
    assert [s.name for s in found.series] == ["Growth", "Value", "SPY"]
    assert [s.kind for s in found.series] == ["portfolio", "portfolio", "benchmark"]

    # Growth: mean 0.07 / 4 = 0.0175; deviations −0.0175, 0.0825, −0.0675, 0.0025; Σd² = 0.011675 over n − 1 = 3
    growth_std = math.sqrt(0.011675 / 3)
    assert growth.twr == pytest.approx(1.10 * 0.95 * 1.02 - 1, abs=1e-15)  # 0.0659
    assert growth.twr == pytest.approx(0.0659, abs=1e-12)
    assert growth.annual_volatility == pytest.approx(growth_std * ROOT_252, rel=1e-12)
    assert growth.sharpe == pytest.approx(0.0175 / growth_std * ROOT_252, rel=1e-12)
    assert growth.max_drawdown == pytest.approx(1.045 / 1.10 - 1, rel=1e-12)  # −5%: from 1.10 down to 1.045
    assert (growth.start, growth.end, growth.observations) == (date(2024, 1, 2), date(2024, 1, 5), 4)

    # Value: mean −0.015, deviations ±0.015, Σd² = 0.00045 over 1
    value_std = math.sqrt(0.00045)
    assert value.twr == pytest.approx(-0.03, abs=1e-15)
    assert value.annual_volatility == pytest.approx(value_std * ROOT_252, rel=1e-12)
    assert value.sharpe == pytest.approx(-0.015 / value_std * ROOT_252, rel=1e-12)
    assert value.max_drawdown == pytest.approx(-0.03, rel=1e-12)

    # SPY: 1.01 × 1.01 × 0.98 × 1; peak 1.0201, trough 0.999698
    assert bench.twr == pytest.approx(1.01 * 1.01 * 0.98 - 1, abs=1e-15)
    assert bench.max_drawdown == pytest.approx(-0.02, rel=1e-12)

    # none spans a year, so none is annualized, and each says why
    for row in found.series:
        assert row.twr_annualized is None
        assert "less than a year" in row.missing["twr_annualized"]


def test_the_equity_curves_are_the_growth_of_100_on_each_series_own_days() -> None:
    found = compare_returns([GROWTH, VALUE])
    curves = found.curves()
    assert list(curves.columns) == ["Growth", "Value"]
    assert curves["Growth"].round(9).tolist() == [100.0, 110.0, 104.5, 106.59]
    # Value has no value before its first day: nothing is filled in
    assert curves["Value"].isna().tolist() == [True, True, False, False]
    assert curves["Value"].dropna().round(9).tolist() == [100.0, 97.0]


def test_a_range_measures_each_series_over_its_own_days_within_it() -> None:
    found = compare_returns([GROWTH, VALUE], start=date(2024, 1, 3), end=date(2024, 1, 4))
    growth, value = found.series
    assert growth.twr == pytest.approx(1.10 * 0.95 - 1, abs=1e-15)  # +10% then −5%
    assert (growth.start, growth.end, growth.observations) == (date(2024, 1, 3), date(2024, 1, 4), 2)
    assert growth.max_drawdown == pytest.approx(-0.05, rel=1e-12)
    # Value has one day in the range: a TWR (0%), but no volatility, Sharpe or drawdown, with the reason
    assert value.twr == 0.0
    assert (value.annual_volatility, value.sharpe, value.max_drawdown) == (None, None, None)
    assert "at least 2 returns" in value.missing["sharpe"]
    assert found.notes == ("Value start(s) after 2024-01-03: each is measured from its own first day",)


def test_a_series_with_no_day_in_the_range_states_why_every_figure_is_missing() -> None:
    found = compare_returns([GROWTH, VALUE], end=date(2024, 1, 3))
    value = found.series[1]
    assert (value.observations, value.start, value.twr) == (0, None, None)
    assert value.missing["twr"] == "no daily values from the start to 2024-01-03"
    assert value.growth.empty


def test_returns_that_never_vary_have_no_sharpe_ratio_and_say_so() -> None:
    flat = Candidate("cash", "Cash", "portfolio", daily("2024-01-02", [0.0, 0.0, 0.0]))
    row = compare_returns([flat]).series[0]
    assert (row.twr, row.annual_volatility, row.max_drawdown) == (0.0, 0.0, 0.0)
    assert row.sharpe is None
    assert "do not vary" in row.missing["sharpe"]


def test_a_year_or_more_is_annualized_over_calendar_days() -> None:
    # 2023-01-02 to 2024-01-02 spans 366 calendar days: 10% over them is 1.1^(365/366) − 1 a year
    yearly = Candidate(
        "old", "Old", "portfolio", pd.Series([0.0, 0.1], index=pd.to_datetime(["2023-01-02", "2024-01-02"]))
    )
    row = compare_returns([yearly]).series[0]
    assert row.twr_annualized == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-12)
    assert "twr_annualized" not in row.missing


def test_the_conventions_change_the_sharpe_ratio_as_stated() -> None:
    weekly = Conventions(periods_per_year=52)
    row = compare_returns([GROWTH], conventions=weekly).series[0]
    assert row.sharpe == pytest.approx(0.0175 / math.sqrt(0.011675 / 3) * math.sqrt(52), rel=1e-12)


def test_a_range_that_ends_before_it_starts_is_refused_with_the_fix() -> None:
    with pytest.raises(Rejected, match=r"starts .* after it ends") as caught:
        compare_returns([GROWTH], start=date(2024, 2, 1), end=date(2024, 1, 1))
    assert "Pick a start before the end" in caught.value.one_line()


def test_the_csv_holds_a_row_per_series_in_full_precision_with_empty_cells_where_a_figure_is_missing() -> None:
    found = compare_returns([GROWTH, VALUE], start=date(2024, 1, 3), end=date(2024, 1, 4))
    rows = list(csv.DictReader(io.StringIO(comparison_csv(found))))
    assert tuple(rows[0]) == CSV_COLUMNS
    growth, value = rows
    assert (growth["series"], growth["kind"], growth["key"]) == ("Growth", "portfolio", "p-growth")
    assert float(growth["twr"]) == found.series[0].twr  # repr: the float survives the round trip exactly
    assert (growth["start"], growth["end"], growth["observations"]) == ("2024-01-03", "2024-01-04", "2")
    assert value["sharpe"] == "" and value["twr_annualized"] == ""
    assert "sharpe: " in value["notes"] and "at least 2 returns" in value["notes"]


def test_the_curves_csv_has_a_row_per_day_and_a_column_per_series() -> None:
    text = curves_csv(compare_returns([GROWTH, VALUE]))
    lines = text.splitlines()
    assert lines[0] == "date,Growth,Value"
    assert lines[1] == "2024-01-02,100.0,"  # Value has not started
    assert [float(x) for x in lines[4].split(",")[1:]] == pytest.approx([106.59, 97.0], rel=1e-12)
