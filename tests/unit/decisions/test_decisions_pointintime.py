"""No look-ahead: the backtest's view at `as_of` holds nothing the desk could not have known at that close, and
verdicts do not move when everything after it is replaced by absurd values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.decisions.pointintime import History, point_in_time, verdicts_at
from marketdesk.screener.config import resolve

AS_OF = date(2015, 3, 31)
POISON = 1e9  # what conftest's `poisoned` writes over the future


def screened(history: History, as_of: date) -> pd.DataFrame:
    return verdicts_at(point_in_time(history, as_of), resolve("balanced")).result.table


def test_verdicts_do_not_move_when_every_row_after_as_of_is_poisoned(
    history: History, poison: Callable[[History, date], History]
) -> None:
    before = screened(history, AS_OF)
    assert before["verdict"].notna().sum() >= 6  # the screen judges most names: the comparison means something
    after = screened(poison(history, AS_OF), AS_OF)
    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_the_poison_is_seen_once_as_of_reaches_it(history: History, poison: Callable[[History, date], History]) -> None:
    # the same poisoned history screened a day later does change: the test above compares something real
    later = AS_OF + timedelta(days=1)
    while np.datetime64(later, "D") not in history.dates:
        later += timedelta(days=1)
    changed = screened(poison(history, AS_OF), later)
    assert not changed["price"].equals(screened(history, later)["price"])
    assert changed["price"].max() == POISON


def test_a_fundamental_filed_one_day_after_as_of_is_invisible(history: History) -> None:
    record = next(r for r in history.fundamentals if r.symbol == "S0" and r.period_end == date(2014, 12, 31))
    assert record.reported == date(2015, 3, 1)  # filed 60 days after its period end
    column = point_in_time(history, record.reported).symbols.index("S0")
    seen = point_in_time(history, record.reported).fundamentals.eps_ttm[column]
    assert seen == record.eps  # visible on its filing day
    eve = point_in_time(history, record.reported - timedelta(days=1))
    assert eve.fundamentals.eps_ttm[column] != record.eps  # the year before's figure: this one is a day away
    late = replace(record, reported=AS_OF + timedelta(days=1), eps=123.0)
    with_late = History.of(
        history.instruments, history.prices, [*history.fundamentals, late], history.actions, history.benchmark_symbol
    )
    view, base = point_in_time(with_late, AS_OF), point_in_time(history, AS_OF)
    assert np.array_equal(view.fundamentals.eps_ttm, base.fundamentals.eps_ttm, equal_nan=True)
    tomorrow = point_in_time(with_late, AS_OF + timedelta(days=1))
    assert 123.0 in tomorrow.fundamentals.eps_ttm


def test_a_10k_without_a_filing_date_counts_from_its_period_end_plus_90_days(history: History) -> None:
    record = next(r for r in history.fundamentals if r.symbol == "S1" and r.period_end == date(2014, 12, 31))
    assert record.reported is None
    usable = record.period_end + timedelta(days=90)
    column = history.symbols.index("S1")
    assert point_in_time(history, usable - timedelta(days=1)).fundamentals.eps_ttm[column] != record.eps
    assert point_in_time(history, usable).fundamentals.eps_ttm[column] == record.eps


def test_adjusted_prices_are_rebased_to_the_close_of_as_of(history: History) -> None:
    view = point_in_time(history, AS_OF)
    # the vendor's factor on AS_OF is below 1 (dividends still to come); the view undoes it
    row = int(np.searchsorted(history.dates, np.datetime64(AS_OF, "D"), side="right")) - 1
    assert history.prices["adj_close"].values[row, 0] < history.prices["close"].values[row, 0]
    assert np.allclose(view.adj_close[-1], view.close[-1], rtol=1e-12)
    returns = view.adj_close[1:] / view.adj_close[:-1]
    vendor = history.prices["adj_close"].values[: row + 1, :8]
    assert np.allclose(returns[-50:], (vendor[1:] / vendor[:-1])[-50:], rtol=1e-12)  # returns unchanged


@settings(max_examples=25, deadline=None)
@given(offset=st.integers(min_value=0, max_value=1_200))
def test_the_view_never_holds_a_row_or_report_after_as_of(history: History, offset: int) -> None:
    as_of = history.dates[0].astype("datetime64[D]").item() + timedelta(days=offset)
    view = point_in_time(history, as_of)
    assert len(view.dates) == 0 or view.dates.max() <= np.datetime64(as_of, "D")
    assert view.as_of == as_of
    known = [r for r, day in zip(history.fundamentals, history.available, strict=True) if day <= as_of]
    for symbol in {r.symbol for r in history.fundamentals} - {r.symbol for r in known}:
        assert np.isnan(view.fundamentals.revenue_ttm[view.symbols.index(symbol)])
