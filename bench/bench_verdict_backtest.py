"""Benchmark the historical verdict backtest on real data. Prints {"bench": NAME, "value": X, "unit": U} lines.

The universe is every S&P 500 name of the daily file (504, the April 2021 membership) plus SPY from Stooq as the
benchmark, with the 10-K fundamentals 2012–2016 (usable from period end + 90 days) and the 2017 sectors. The
span is 2013-04-01 to 2017-12-31, rebalanced at each month end (57 dates): the years the 10-K set covers. The
data dir is filled first the way a user would (`import_prices`, `import_fundamentals`), untimed.

- verdict_backtest_load_s: `load_history` (prices of the span plus 460 days before and 100 after, the
  fundamentals, the splits) from the bar store and SQLite.
- verdict_backtest_s: `run_backtest` over the 57 month ends: each a point-in-time view, metrics, regime and
  verdicts for ~500 names, and their 30/60/90-day excess returns against SPY. Single run.
- verdict_backtest_per_rebalance_ms: the same divided by the rebalance dates.
- verdict_backtest_observations: verdicts judged (one per name and date).
- verdict_backtest_<verdict>_win_rate_90d and _mean_excess_90d: the report itself, per verdict (a win is a name
  that beat SPY over the 90 days; survivorship bias lifts every group, see docs/decisions.md).

Without the data the benchmark says so on stderr and exits 0. Run: .venv/bin/python bench/bench_verdict_backtest.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from benchkit import SP500_DAILY, emit, shared_data
from marketdesk.config import load_settings
from marketdesk.db import Database, upgrade
from marketdesk.decisions.backtest import run_backtest, schedule
from marketdesk.decisions.history import load_history
from marketdesk.decisions.pointintime import History
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import ImportOptions, import_fundamentals, import_prices
from marketdesk.marketdata.repository import MarketDataRepository

START, END = date(2013, 4, 1), date(2017, 12, 31)
SPY = "benchmarks/spy_us_daily_stooq_2005-02-25_2025-01-29.csv"
FUNDAMENTALS = ("fundamentals/nyse_securities_2017.csv", "fundamentals/nyse_fundamentals_10k_2012-2016.csv")


async def _prepare_and_load(folder: Path, data: Path) -> tuple[History, float]:
    settings = load_settings(data_dir=folder, market_data=["files"])
    store = BarStore(settings.bar_store_dir)
    report = await asyncio.to_thread(import_prices, [data / SP500_DAILY, data / SPY], store, ImportOptions())
    assert report.ok, report.summary()
    upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        async with database.session() as session:
            for name in FUNDAMENTALS:
                result = await import_fundamentals(
                    [data / name], MarketDataRepository(session), ImportOptions(), now=datetime(2018, 1, 2, tzinfo=UTC)
                )
                assert result.ok, result.summary()
        started = time.perf_counter()
        async with database.session() as session:
            history = await load_history(session, store, start=START, end=END)
        return history, time.perf_counter() - started
    finally:
        await database.dispose()


def main() -> None:
    data = shared_data()
    if not (data / SP500_DAILY).is_file():
        print(f"bench_verdict_backtest: skipped, {data / SP500_DAILY} not found (set MARKETDESK_SHARED_DATA)",
              file=sys.stderr)  # fmt: skip
        return
    with tempfile.TemporaryDirectory(prefix="bench-verdicts-") as folder:
        history, load_s = asyncio.run(_prepare_and_load(Path(folder), data))
    dates = schedule(history, START, END, "month")
    assert len(dates) == 57, len(dates)
    assert history.benchmark_symbol == "SPY", history.benchmark_symbol
    assert len(history.symbols) == 505, len(history.symbols)  # 504 names and SPY
    started = time.perf_counter()
    report = run_backtest(history, dates, every="month")
    run_s = time.perf_counter() - started
    assert len(report.observations) > 57 * 400, len(report.observations)
    emit("verdict_backtest_load_s", load_s, "s")
    emit("verdict_backtest_s", run_s, "s")
    emit("verdict_backtest_per_rebalance_ms", run_s / len(dates) * 1000, "ms")
    emit("verdict_backtest_observations", len(report.observations), "verdicts")
    for group in report.by_verdict:
        name = group.key.lower().replace(" ", "_")
        ninety = group.at(90)
        if ninety.win_rate is not None and ninety.mean_excess is not None:
            emit(f"verdict_backtest_{name}_win_rate_90d", ninety.win_rate, "fraction")
            emit(f"verdict_backtest_{name}_mean_excess_90d", ninety.mean_excess, "fraction")


if __name__ == "__main__":
    main()
