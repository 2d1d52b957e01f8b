"""The verdict backtest on a synthetic history: the schedule, each observation's excess return against one
worked out from the prices, the per-verdict report, and verdicts untouched by a poisoned future."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pytest

from marketdesk.decisions.backtest import report_dict, run_backtest, schedule
from marketdesk.decisions.pointintime import History
from marketdesk.errors import Rejected
from marketdesk.screener.config import resolve


def test_the_schedule_takes_the_last_session_of_each_period(history: History) -> None:
    months = schedule(history, date(2014, 1, 1), date(2014, 6, 30), "month")
    assert months == [
        date(2014, 1, 31),
        date(2014, 2, 28),
        date(2014, 3, 31),
        date(2014, 4, 30),
        date(2014, 5, 30),
        date(2014, 6, 30),
    ]  # fmt: skip  (2014-05-31 is a Saturday)
    assert schedule(history, date(2014, 1, 1), date(2014, 12, 31), "quarter") == [
        date(2014, 3, 31), date(2014, 6, 30), date(2014, 9, 30), date(2014, 12, 31)
    ]  # fmt: skip
    weeks = schedule(history, date(2014, 1, 6), date(2014, 1, 31), "week")
    assert weeks == [date(2014, 1, 10), date(2014, 1, 17), date(2014, 1, 24), date(2014, 1, 31)]


def test_a_bad_schedule_is_refused_with_the_fix(history: History) -> None:
    with pytest.raises(Rejected, match="unknown schedule 'daily'"):
        schedule(history, date(2014, 1, 1), date(2014, 6, 30), "daily")
    with pytest.raises(Rejected, match="no prices from 2030-01-01") as refused:
        schedule(history, date(2030, 1, 1), date(2030, 6, 30), "month")
    assert "stored prices run from 2013-01-01" in str(refused.value)
    with pytest.raises(Rejected, match="before the start"):
        schedule(history, date(2014, 6, 30), date(2014, 1, 1))


def test_each_observation_is_the_symbol_return_minus_the_benchmark_return(history: History) -> None:
    dates = schedule(history, date(2015, 1, 1), date(2015, 6, 30), "month")
    report = run_backtest(history, dates, every="month")
    assert report.dates == tuple(dates)
    assert len(report.observations) >= 6 * 6
    adjusted = history.prices["adj_close"].values
    bench = history.column("BENCH")
    day = np.datetime64("2015-03-31", "D")
    observation = next(o for o in report.observations if o.as_of == date(2015, 3, 31) and o.symbol == "S5")
    entry = int(np.flatnonzero(history.dates == day)[0])
    # 30 days: 2015-04-30 (a Thursday, a session)
    exit_30 = int(np.flatnonzero(history.dates == np.datetime64("2015-04-30", "D"))[0])
    expected = (adjusted[exit_30, 5] / adjusted[entry, 5] - 1) - (adjusted[exit_30, bench] / adjusted[entry, bench] - 1)
    assert observation.excess[0] == pytest.approx(expected, abs=1e-12)
    # 60 days: 2015-05-30 is a Saturday, so Friday 2015-05-29
    exit_60 = int(np.flatnonzero(history.dates == np.datetime64("2015-05-29", "D"))[0])
    expected = (adjusted[exit_60, 5] / adjusted[entry, 5] - 1) - (adjusted[exit_60, bench] / adjusted[entry, bench] - 1)
    assert observation.excess[1] == pytest.approx(expected, abs=1e-12)


def test_the_report_groups_every_observation_by_verdict(history: History) -> None:
    dates = schedule(history, date(2014, 6, 1), date(2015, 12, 31), "quarter")
    report = run_backtest(history, dates, config=resolve("value"), every="quarter")
    assert sum(g.count for g in report.by_verdict) == len(report.observations)
    assert {g.key for g in report.by_verdict} <= {"Strong Buy", "Buy", "Hold", "Avoid"}
    assert "BENCH" not in {o.symbol for o in report.observations}
    for group in report.by_verdict:
        rows = [o for o in report.observations if o.verdict == group.key]
        measured = [o.excess[2] for o in rows if np.isfinite(o.excess[2])]
        assert group.at(90).measured == len(measured)
        assert group.at(90).wins == sum(1 for x in measured if x > 0)
        assert group.at(90).mean_excess == pytest.approx(float(np.mean(measured)))
    data = report_dict(report)
    assert (data["preset"], data["every"], data["rebalances"], data["universe"]) == ("value", "quarter", 7, 8)
    assert sum(data["regimes"].values()) == 7


def test_windows_past_the_end_of_the_history_stay_unmeasured(history: History) -> None:
    last = history.dates[-1].astype("datetime64[D]").item()
    report = run_backtest(history, [last])
    assert report.observations
    assert all(np.isnan(o.excess).all() for o in report.observations)
    assert all(h.measured == 0 and h.win_rate is None for g in report.by_verdict for h in g.horizons)


def test_backtest_verdicts_ignore_a_poisoned_future(
    history: History, poison: Callable[[History, date], History]
) -> None:
    as_of = date(2015, 6, 30)
    dates = schedule(history, date(2015, 1, 1), as_of, "month")
    clean = run_backtest(history, dates)
    dirty = run_backtest(poison(history, as_of), dates)
    assert [(o.as_of, o.symbol, o.verdict, o.score, o.signals) for o in clean.observations] == [
        (o.as_of, o.symbol, o.verdict, o.score, o.signals) for o in dirty.observations
    ]
    assert clean.regimes == dirty.regimes
    # the outcomes do read the future (that is what measuring them means): the poison shows there
    assert [o.excess for o in clean.observations] != [o.excess for o in dirty.observations]


def test_progress_is_reported_after_each_date(history: History) -> None:
    seen: list[tuple[int, int]] = []
    dates = schedule(history, date(2015, 1, 1), date(2015, 3, 31), "month")
    run_backtest(history, dates, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(Rejected, match="no rebalance dates"):
        run_backtest(history, [])
