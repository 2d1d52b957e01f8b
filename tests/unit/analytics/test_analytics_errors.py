"""Bad input is refused with a `Rejected` that says what is wrong and how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketdesk.analytics import (
    Conventions,
    contribution,
    metrics,
    metrics_frame,
    rolling,
    rolling_metrics,
    sharpe,
    simple_returns,
)
from marketdesk.errors import Rejected

DAYS = pd.bdate_range("2024-01-01", periods=5)


def rejected(call: object, *args: object, **kwargs: object) -> Rejected:
    with pytest.raises(Rejected) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.exit_code == 2
    return caught.value


def test_an_empty_series_is_refused() -> None:
    error = rejected(metrics, pd.Series([], dtype=float))
    assert "empty" in str(error)


def test_missing_values_are_refused_with_the_first_date() -> None:
    error = rejected(metrics, pd.Series([0.01, np.nan, 0.02, np.nan, 0.0], index=DAYS))
    assert "2 missing value(s), the first at 2024-01-02" in str(error)
    assert "dropna" in str(error)


def test_text_in_the_returns_is_refused_naming_the_value_and_its_date() -> None:
    error = rejected(metrics, pd.Series(["0.01", "0.02", "n/a", "0.0", "0.01"], index=DAYS))
    assert "contain text: 'n/a' at 2024-01-03" in str(error)


def test_numbers_written_as_text_are_read() -> None:
    assert metrics(pd.Series(["0.01", "-0.02", "0.03"]))["observations"] == 3


def test_fewer_than_two_returns_are_refused() -> None:
    error = rejected(metrics, [0.01])
    assert "need at least 2 returns, got 1" in str(error)
    rejected(sharpe, pd.Series([0.02], index=DAYS[:1]))


def test_infinite_returns_and_losses_beyond_100_percent_are_refused() -> None:
    assert "infinite" in str(rejected(metrics, [0.01, np.inf, 0.0]))
    error = rejected(metrics, [0.01, -5.0, 0.0])
    assert "loss of more than 100%" in str(error)
    assert "percentages" in str(error)


def test_true_false_values_and_things_that_are_not_series_are_refused() -> None:
    rejected(metrics, pd.Series([True, False, True]))
    rejected(metrics, "0.01,0.02")
    rejected(metrics, {"a": 0.01})
    rejected(metrics, [[0.01, 0.02], [0.03, 0.04]])


def test_dates_out_of_order_or_twice_are_refused() -> None:
    shuffled = pd.Series([0.01, 0.02, 0.03], index=pd.to_datetime(["2024-01-02", "2024-01-04", "2024-01-03"]))
    assert "not in date order: 2024-01-03 comes after 2024-01-04" in str(rejected(metrics, shuffled))
    twice = pd.Series([0.01, 0.02, 0.03], index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-03"]))
    assert "2024-01-03 appears more than once" in str(rejected(metrics, twice))


def test_a_frame_may_be_ragged_at_the_edges_but_not_have_a_gap_inside_a_series() -> None:
    ragged = pd.DataFrame({"A": [0.01, 0.02, -0.01, 0.0, 0.01], "B": [np.nan, 0.01, -0.02, 0.01, np.nan]}, index=DAYS)
    table = metrics_frame(ragged)
    assert table.loc["B", "observations"] == 3
    gap = ragged.assign(B=[0.01, np.nan, -0.02, 0.01, 0.0])
    error = rejected(metrics_frame, gap)
    assert "column 'B' has a gap" in str(error) and "2024-01-02" in str(error)


def test_a_frame_column_with_one_return_or_text_is_refused_by_name() -> None:
    short = pd.DataFrame({"A": [0.01, 0.02, 0.03], "B": [np.nan, np.nan, 0.01]})
    assert "column 'B' has 1 returns" in str(rejected(metrics_frame, short))
    texty = pd.DataFrame({"A": [0.01, 0.02, 0.03], "B": ["0.01", "x", "0.02"]})
    assert "in column 'B' contain text: 'x'" in str(rejected(metrics_frame, texty))
    assert "empty" in str(rejected(metrics_frame, pd.DataFrame()))


def test_metrics_takes_one_series_and_points_to_metrics_frame_for_more() -> None:
    error = rejected(metrics, pd.DataFrame({"A": [0.01, 0.02], "B": [0.0, 0.01]}))
    assert "metrics_frame" in str(error)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"periods_per_year": 0}, "periods per year must be positive"),
        ({"periods_per_year": "daily"}, "periods per year must be a number"),
        ({"confidence": 1.5}, "between 0 and 1"),
        ({"confidence": 95}, "Use 0.95 for 95%"),
        ({"var_method": "monte-carlo"}, "unknown VaR method 'monte-carlo'"),
        ({"downside": "semi"}, "full, below_target_only"),
        ({"risk_free": -1.5}, "above -100%"),
        ({"risk_free": float("nan")}, "finite"),
    ],
)
def test_bad_conventions_are_refused_saying_what_is_allowed(settings: dict[str, object], expected: str) -> None:
    assert expected in str(rejected(Conventions, **settings))


def test_a_benchmark_that_misses_dates_or_does_not_line_up_is_refused() -> None:
    returns = pd.Series([0.01, 0.02, -0.01, 0.0, 0.01], index=DAYS)
    short = pd.Series([0.01, 0.0, 0.02], index=DAYS[:3])
    error = rejected(metrics, returns, short)
    assert "no return for 2 of the dates, the first 2024-01-04" in str(error)
    assert "does not match" in str(rejected(metrics, [0.01, 0.02, 0.03], [0.01, 0.02]))
    assert "one series" in str(rejected(metrics, returns, pd.DataFrame({"a": returns, "b": returns})))


def test_prices_must_be_positive_and_without_gaps() -> None:
    assert "positive" in str(rejected(simple_returns, pd.Series([100.0, 0.0, 101.0])))
    assert "missing" in str(rejected(simple_returns, pd.Series([100.0, np.nan, 101.0])))
    assert "at least 2 prices" in str(rejected(simple_returns, pd.Series([100.0])))
    frame = pd.DataFrame({"A": [1.0, np.nan, 2.0, 3.0]})
    assert "gap" in str(rejected(simple_returns, frame))


def test_a_rolling_window_must_fit_the_series_and_name_a_known_measure() -> None:
    returns = pd.Series([0.01, 0.02, -0.01, 0.0, 0.01], index=DAYS)
    assert "longer than the series" in str(rejected(rolling, returns, 6, "sharpe"))
    assert "at least 2" in str(rejected(rolling, returns, 1, "sharpe"))
    assert "cannot roll 'beta' (it needs a benchmark)" in str(rejected(rolling, returns, 3, "beta"))
    assert "cannot roll 'max_drawdown_days'" in str(rejected(rolling_metrics, returns, 3, names=["max_drawdown_days"]))


def test_attribution_refuses_mismatched_tables_missing_weights_and_unmapped_positions() -> None:
    weights = pd.DataFrame({"AAA": [0.5, 0.5], "BBB": [0.5, 0.5]})
    returns = pd.DataFrame({"AAA": [0.01, 0.02], "BBB": [0.0, np.nan]})
    assert "'BBB' is held on position 1 but its return is missing" in str(rejected(contribution, weights, returns))
    other = pd.DataFrame({"AAA": [0.01, 0.02], "CCC": [0.0, 0.01]})
    assert "weights only: BBB; returns only: CCC" in str(rejected(contribution, weights, other))
    holes = weights.assign(AAA=[0.5, np.nan])
    assert "weight of 'AAA' on position 1 is missing" in str(rejected(contribution, holes, returns.fillna(0)))
    error = rejected(contribution, weights, returns.fillna(0), {"AAA": "Tech"})
    assert "no group for 1 position(s): BBB" in str(error)
    assert "unknown linking" in str(rejected(contribution, weights, returns.fillna(0), linking="geometric"))
