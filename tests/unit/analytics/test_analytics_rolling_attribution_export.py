"""Rolling metrics, attribution by group, comparison over a date range, CSV export, and the package's doctests."""

from __future__ import annotations

import doctest
import importlib
import io
import math

import numpy as np
import pandas as pd
import pytest

from marketdesk.analytics import (
    Conventions,
    compare,
    contribution,
    metrics,
    metrics_csv,
    metrics_frame,
    rolling,
    rolling_metrics,
    write_metrics_csv,
)

DAYS = pd.bdate_range("2023-01-02", periods=40)
RNG = np.random.default_rng(7)
A = pd.Series(RNG.normal(0.0005, 0.01, 40), index=DAYS, name="A")
B = pd.Series(RNG.normal(0.0002, 0.012, 40), index=DAYS, name="B")


def test_rolling_over_a_ragged_frame_is_nan_until_a_column_has_a_full_window() -> None:
    frame = pd.DataFrame({"A": A, "B": B.loc[DAYS[10] :].reindex(DAYS)})
    rolled = rolling(frame, 5, "annual_volatility")
    assert rolled.index.equals(DAYS[4:])
    assert rolled["B"].loc[: DAYS[13]].isna().all()
    assert rolled["B"].loc[DAYS[14] :].notna().all()
    alone = rolling(B.loc[DAYS[10] :], 5, "annual_volatility")
    np.testing.assert_allclose(rolled["B"].loc[DAYS[14] :].to_numpy(), alone.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(rolled["A"].to_numpy(), rolling(A, 5, "annual_volatility").to_numpy(), rtol=1e-12)


def test_rolling_metrics_default_to_the_main_measures_and_add_the_benchmark_ones() -> None:
    table = rolling_metrics(A, 20)
    assert list(table.columns) == ["annual_return", "annual_volatility", "sharpe", "sortino", "max_drawdown",
                                   "var_95", "cvar_95"]  # fmt: skip
    assert len(table) == 21
    with_benchmark = rolling_metrics(A, 20, benchmark=B)
    assert {"beta", "alpha", "tracking_error", "information_ratio"} <= set(with_benchmark.columns)
    last = metrics(A.iloc[-20:], B.iloc[-20:])
    for key in with_benchmark.columns:
        assert with_benchmark[key].iloc[-1] == pytest.approx(last[key], rel=1e-9, abs=1e-12), key


def test_rolling_cornish_fisher_var_matches_the_metric_of_each_window() -> None:
    conventions = Conventions(var_method="cornish_fisher", confidence=0.99)
    rolled = rolling(A, 15, "var_99", conventions=conventions)
    for end in (14, 25, 39):
        assert rolled.loc[DAYS[end]] == pytest.approx(
            metrics(A.iloc[end - 14 : end + 1], conventions=conventions)["var_99"], rel=1e-12
        )


def test_long_windows_measured_in_slices_agree_with_the_metric_of_each_window() -> None:
    # 1,501 windows of 2,000 periods are measured 1,000 at a time: check both sides of the seam
    series = pd.Series(RNG.normal(0.0003, 0.01, 3500), index=pd.bdate_range("2008-01-01", periods=3500))
    rolled = rolling(series, 2000, "max_drawdown")
    assert len(rolled) == 1501
    for start in (0, 999, 1000, 1500):
        window = series.iloc[start : start + 2000]
        assert rolled.iloc[start] == pytest.approx(metrics(window)["max_drawdown"], rel=1e-12)


def test_contribution_by_sector_scales_later_periods_by_the_growth_before_them() -> None:
    weights = pd.DataFrame({"AAPL": [0.6, 0.5], "MSFT": [0.3, 0.3], "XOM": [0.1, 0.2]})
    returns = pd.DataFrame({"AAPL": [0.10, -0.05], "MSFT": [0.02, 0.04], "XOM": [-0.10, 0.10]})
    found = contribution(weights, returns, {"AAPL": "Tech", "MSFT": "Tech", "XOM": "Energy"})
    first = 0.6 * 0.10 + 0.3 * 0.02 - 0.1 * 0.10  # the portfolio's first period: 0.056
    assert found.by_period.loc[0, "Tech"] == pytest.approx(0.066)
    assert found.by_period.loc[1, "Energy"] == pytest.approx(0.02)
    assert found.total["Tech"] == pytest.approx(0.066 + (1 + first) * (0.5 * -0.05 + 0.3 * 0.04))
    assert found.total["Energy"] == pytest.approx(-0.01 + (1 + first) * 0.02)
    second = 0.5 * -0.05 + 0.3 * 0.04 + 0.2 * 0.10
    assert found.portfolio_return == pytest.approx((1 + first) * (1 + second) - 1)
    assert list(found.total.index) == ["Tech", "Energy"]  # largest first


def test_contribution_without_groups_is_by_position_and_a_missing_return_is_fine_when_not_held() -> None:
    weights = pd.DataFrame({"AAA": [1.0, 0.0], "BBB": [0.0, 1.0]})
    returns = pd.DataFrame({"AAA": [0.05, np.nan], "BBB": [np.nan, 0.10]})
    found = contribution(weights, returns, linking="sum")
    assert found.total.to_dict() == pytest.approx({"BBB": 0.10, "AAA": 0.05})
    assert found.portfolio_return == pytest.approx(0.15)


def test_compare_measures_several_portfolios_over_one_date_range() -> None:
    table = compare({"growth": A, "value": B}, benchmark=B, start="2023-01-16", end="2023-02-10")
    assert list(table.index) == ["growth", "value"]
    inside = A.loc["2023-01-16":"2023-02-10"]
    assert table.loc["growth", "observations"] == len(inside) == 20
    assert table.loc["growth", "sharpe"] == pytest.approx(metrics(inside)["sharpe"], rel=1e-12)
    assert table.loc["value", "beta"] == pytest.approx(1.0)


def test_csv_export_has_one_row_per_series_and_empty_cells_for_undefined_values() -> None:
    frame = pd.DataFrame({"A": A, "flat": 0.001})
    table = metrics_frame(frame)
    text = metrics_csv(table)
    read = pd.read_csv(io.StringIO(text), index_col="series")
    assert list(read.index) == ["A", "flat"]
    assert math.isnan(read.loc["flat", "sharpe"])
    assert read.loc["A", "sharpe"] == table.loc["A", "sharpe"]  # full precision survives the round trip
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert text.splitlines()[2].startswith("flat,")
    assert text.splitlines()[1].endswith(",40")  # the observation count (last) is written as a whole number


def test_csv_export_of_one_metrics_dict_and_to_a_file(tmp_path: object) -> None:
    m = metrics(A)
    path = write_metrics_csv(m, tmp_path / "a.csv", name="A")  # type: ignore[operator]
    header, row = path.read_text().splitlines()
    assert header.split(",")[:3] == ["series", "annual_return", "cagr"]
    assert "missing" not in header and "conventions" not in header
    assert row.split(",")[0] == "A"
    assert float(row.split(",")[header.split(",").index("sharpe")]) == m["sharpe"]


@pytest.mark.parametrize(
    "module",
    ["attribution", "benchmark", "conventions", "drawdown", "export", "measures", "metrics", "panel", "rolling",
     "tail", "__init__"],
)  # fmt: skip
def test_the_examples_in_the_docstrings_hold(module: str) -> None:
    name = "marketdesk.analytics" if module == "__init__" else f"marketdesk.analytics.{module}"
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0
    assert result.attempted > 0
