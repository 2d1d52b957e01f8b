"""Outcomes of a verdict at 30, 60 and 90 days against the benchmark, checked against returns worked out by hand."""

from datetime import date

import numpy as np
import pytest

from marketdesk.decisions.outcomes import exit_row, measure, target_day, window_returns

DATES = np.array(
    ["2024-01-31", "2024-02-29", "2024-03-01", "2024-03-28", "2024-04-01", "2024-04-29", "2024-04-30"],
    dtype="datetime64[D]",
)
SYMBOL = np.array([100.0, 104.0, 105.0, 98.0, 99.0, 110.0, 112.0])
BENCHMARK = np.array([400.0, 404.0, 408.0, 412.0, 416.0, 420.0, 424.0])
ENTRY = date(2024, 1, 31)


def test_excess_returns_at_30_60_and_90_days_match_the_hand_computed_ones() -> None:
    out = measure(DATES, SYMBOL, BENCHMARK, ENTRY)
    # 30 days: target Fri 2024-03-01, a session: 105/100 − 1 against 408/400 − 1
    assert out[30].end_date == date(2024, 3, 1)
    assert out[30].symbol_return == pytest.approx(0.05, abs=1e-12)
    assert out[30].benchmark_return == pytest.approx(0.02, abs=1e-12)
    assert out[30].excess_return == pytest.approx(0.03, abs=1e-12)
    assert out[30].win
    # 60 days: target Sun 2024-03-31, so the last session before it, Thu 2024-03-28: 98/100 − 1 vs 412/400 − 1
    assert out[60].end_date == date(2024, 3, 28)
    assert out[60].excess_return == pytest.approx(-0.02 - 0.03, abs=1e-12)
    assert not out[60].win
    # 90 days: target Tue 2024-04-30: 112/100 − 1 vs 424/400 − 1
    assert out[90].end_date == date(2024, 4, 30)
    assert out[90].excess_return == pytest.approx(0.12 - 0.06, abs=1e-12)


def test_a_window_waits_until_the_benchmark_has_a_bar_on_or_after_its_target_day() -> None:
    # the prices stop on Thu 2024-03-28: the 60-day target (Sun 03-31) may still get a later Friday bar
    out = measure(DATES[:4], SYMBOL[:4], BENCHMARK[:4], ENTRY)
    assert set(out) == {30}
    # the symbol's prices running on does not help while the benchmark's have not reached the target
    bench = BENCHMARK.copy()
    bench[4:] = np.nan
    assert set(measure(DATES, SYMBOL, bench, ENTRY)) == {30}


def test_a_tie_with_the_benchmark_is_not_a_win() -> None:
    out = measure(DATES, BENCHMARK / 4, BENCHMARK, ENTRY, (30,))
    assert out[30].excess_return == pytest.approx(0.0, abs=1e-15)
    assert not out[30].win


def test_a_symbol_without_a_close_on_the_entry_day_has_no_outcome() -> None:
    symbol = SYMBOL.copy()
    symbol[0] = np.nan
    assert measure(DATES, symbol, BENCHMARK, ENTRY) == {}
    assert measure(DATES, SYMBOL, BENCHMARK, date(2024, 2, 1)) == {}  # not a session


def test_an_exit_price_older_than_five_sessions_leaves_the_window_without_an_outcome() -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-03-15")).astype("datetime64[D]")
    symbol = np.linspace(100, 120, len(days))
    symbol[20:] = np.nan  # halted on day 20; the 30-day exit is on day 30
    bench = np.linspace(100, 110, len(days))
    assert measure(days, symbol, bench, date(2024, 1, 1), (30,)) == {}
    symbol[26] = 118.0  # a close 4 sessions before the exit counts
    out = measure(days, symbol, bench, date(2024, 1, 1), (30,))
    assert out[30].symbol_return == pytest.approx(0.18)
    assert out[30].benchmark_return == pytest.approx(bench[30] / 100 - 1)


def test_exit_row_and_window_returns_agree_with_measure() -> None:
    assert target_day(ENTRY, 60) == date(2024, 3, 31)
    assert exit_row(DATES, ENTRY, 60) == 3
    assert exit_row(DATES, ENTRY, 60, reached=date(2024, 3, 30)) is None
    returns = window_returns(np.column_stack([SYMBOL, BENCHMARK]), 0, 6)
    assert returns.tolist() == pytest.approx([0.12, 0.06])
