"""Benchmark the performance analytics. Prints {"bench": NAME, "value": X, "unit": U} lines.

The data: the adjusted closes of the 504 S&P 500 constituents in `prices-sp500-daily` (1999-11-01 to 2021-04-21,
5,401 daily returns: 21.5 years; the 139 names listed later start later, VAR ends 2021-04-16, and the few days
missing inside five histories carry the last price forward). No index file covers that whole span
(benchmarks/SOURCES.md), so the benchmark is the equal-weighted mean of the constituents' daily returns.
Loading the file and computing the returns are untimed.

- metrics_504_series_s: `metrics_frame(returns, benchmark)`, the full metric set (return, volatility, Sharpe,
  Sortino, Calmar, omega, drawdown depth and durations, skew, kurtosis, historical VaR and CVaR, beta, alpha,
  correlation, tracking error, information ratio, up/down capture) for all 504 series; best of 5.
- quantstats_504_series_s: quantstats 0.0.86 computing the same measures it has (cagr, volatility, sharpe,
  sortino, calmar, omega, max_drawdown, drawdown_details for the durations, skew, kurtosis, value_at_risk,
  cvar, greeks for beta and alpha, information_ratio) series by series, as its API works. That took 0.4 to
  1.3 s a series on the machine this was written on, so by default it runs on 36 series spread evenly over the
  alphabet (15 of them listed after 1999-11-01) and the time is scaled by 504 / 36; set
  ANALYTICS_BENCH_QS_SERIES=504 for the full run. One pass, since quantstats caches prepared returns between
  calls.
- metrics_vs_quantstats_ratio: metrics_504_series_s / quantstats_504_series_s, measured in the same run.
  Goal < 1/20 (0.05).

Without the shared data the benchmark says so on stderr and exits 0; without quantstats (not installed) it prints
the first figure only.

Run: .venv/bin/python bench/bench_analytics.py
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from benchkit import SP500_DAILY, emit, shared_data
from marketdesk.analytics import metrics_frame, simple_returns

REPEATS = 5
SERIES = 504


def _returns() -> pd.DataFrame | None:
    path = shared_data() / SP500_DAILY
    if not path.is_file():
        print(f"bench_analytics: skipped, {path} not found (set MARKETDESK_SHARED_DATA)", file=sys.stderr)
        return None
    long = pd.read_csv(path, usecols=["date", "ticker", "adjusted_close"], engine="pyarrow")
    long["date"] = pd.to_datetime(long["date"])
    prices = long.pivot(index="date", columns="ticker", values="adjusted_close").sort_index()
    prices.columns = prices.columns.astype(str)
    return simple_returns(prices.ffill(limit_area="inside"))


def _best_s(run: Callable[[], object]) -> float:
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _quantstats_s(returns: pd.DataFrame, benchmark: pd.Series, count: int) -> float:
    import quantstats as qs

    stats = qs.stats
    columns = returns.columns[np.linspace(0, returns.shape[1] - 1, count).round().astype(int)]
    started = time.perf_counter()
    for column in columns:
        r = returns[column].dropna()
        b = benchmark.loc[r.index]
        stats.cagr(r)
        stats.volatility(r)
        stats.sharpe(r)
        stats.sortino(r)
        stats.calmar(r)
        stats.omega(r)
        stats.max_drawdown(r)
        stats.drawdown_details(stats.to_drawdown_series(r))
        stats.skew(r)
        stats.kurtosis(r)
        stats.value_at_risk(r)
        stats.cvar(r, method="historical")
        stats.greeks(r, b)
        stats.information_ratio(r, b)
    return (time.perf_counter() - started) * SERIES / count


def main() -> None:
    returns = _returns()
    if returns is None:
        return
    assert returns.shape == (5_401, SERIES), returns.shape
    benchmark = returns.mean(axis=1).rename("equal_weight")
    table = metrics_frame(returns, benchmark)
    assert table.shape[0] == SERIES
    assert table["sharpe"].notna().all()
    ours = _best_s(lambda: metrics_frame(returns, benchmark))
    emit("metrics_504_series_s", ours, "s")
    try:
        import quantstats  # noqa: F401 - only to learn whether the dev group is installed
    except ImportError:
        print("bench_analytics: quantstats not installed (make install); no comparison", file=sys.stderr)
        return
    count = int(os.environ.get("ANALYTICS_BENCH_QS_SERIES", "36"))
    theirs = _quantstats_s(returns, benchmark, min(max(count, 1), SERIES))
    emit("quantstats_504_series_s", theirs, "s")
    emit("metrics_vs_quantstats_ratio", ours / theirs, "ratio")


if __name__ == "__main__":
    main()
