"""The verdict backtest on real history: 40 S&P 500 names' daily prices 2012–2016, SPY from Stooq, the 10-K
fundamentals 2012–2016 (no filing dates: usable from period end + 90 days) and the 2017 sectors, imported into
a data dir the way a user would. No look-ahead on real data, and the backtest through the CLI."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from marketdesk.cli import app
from marketdesk.clock import SimClock
from marketdesk.config import load_settings
from marketdesk.db import Database, upgrade
from marketdesk.decisions.history import load_history
from marketdesk.decisions.pointintime import History, point_in_time, verdicts_at
from marketdesk.marketdata.barstore import BarStore, UniverseArrays
from marketdesk.marketdata.files import ImportOptions, import_fundamentals, import_prices
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.screener.config import resolve
from marketdesk.screener.universe import known_from

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]
TICKERS = ("AAPL", "MSFT", "JNJ", "XOM", "JPM", "PG", "KO", "PFE", "INTC", "CSCO", "WMT", "CVX", "MRK", "HD", "DIS",
           "MCD", "IBM", "ORCL", "AMGN", "MMM", "CAT", "BA", "HON", "UNP", "UPS", "LOW", "TGT", "NKE", "SBUX", "COST",
           "GILD", "BMY", "ABT", "MDT", "TXN", "QCOM", "ADBE", "CL", "KMB", "GIS")  # fmt: skip
AS_OF = date(2014, 6, 30)
FILES = {"MARKETDESK_MARKET_DATA": '["files"]'}


@pytest.fixture(scope="module")
def data_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("decisions-real") / "desk"
    settings = load_settings(data_dir=folder, market_data=["files"])
    daily = pd.read_csv(shared_data / "prices-sp500-daily/sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz", dtype=str)
    subset = daily[daily["ticker"].isin(TICKERS) & daily["date"].between("2012-01-01", "2016-12-31")]
    assert subset["ticker"].nunique() == len(TICKERS)
    subset_path = folder.parent / "sp40.csv"
    subset.to_csv(subset_path, index=False)
    spy = shared_data / "benchmarks/spy_us_daily_stooq_2005-02-25_2025-01-29.csv"
    report = import_prices([subset_path, spy], BarStore(settings.bar_store_dir), ImportOptions())
    assert report.ok, report.summary()
    upgrade(settings.effective_database_url)

    async def fundamentals() -> None:
        database = Database(settings.effective_database_url)
        try:
            async with database.session() as session:
                for name in ("nyse_securities_2017.csv", "nyse_fundamentals_10k_2012-2016.csv"):
                    result = await import_fundamentals(
                        [shared_data / "fundamentals" / name], MarketDataRepository(session), ImportOptions(),
                        now=SimClock(datetime(2017, 1, 3, tzinfo=UTC)).now(),
                    )  # fmt: skip
                    assert result.ok, result.summary()
        finally:
            await database.dispose()

    asyncio.run(fundamentals())
    return folder


@pytest.fixture(scope="module")
def history(data_dir: Path) -> History:
    settings = load_settings(data_dir=data_dir, market_data=["files"])

    async def load() -> History:
        database = Database(settings.effective_database_url)
        try:
            async with database.session() as session:
                return await load_history(
                    session, BarStore(settings.bar_store_dir), start=date(2014, 1, 1), end=date(2015, 12, 31)
                )
        finally:
            await database.dispose()

    return asyncio.run(load())


def poisoned(history: History, as_of: date) -> History:
    after = history.dates > np.datetime64(as_of, "D")
    prices = {}
    for name, matrix in history.prices.items():
        values = matrix.values.copy()
        values[after] = 1e9
        prices[name] = UniverseArrays(matrix.dates, matrix.symbols, values, name)
    fundamentals = [
        replace(r, eps=1e9, revenue=-1e15, total_equity=-1e15) if known_from(r) > as_of else r
        for r in history.fundamentals
    ]
    return History.of(history.instruments, prices, fundamentals, history.actions, history.benchmark_symbol)


def test_real_verdicts_do_not_move_when_the_future_is_poisoned(history: History) -> None:
    assert history.benchmark_symbol == "SPY"
    config = resolve("balanced")
    clean = verdicts_at(point_in_time(history, AS_OF), config).result.table
    assert clean["verdict"].notna().sum() >= 35
    dirty = verdicts_at(point_in_time(poisoned(history, AS_OF), AS_OF), config).result.table
    pd.testing.assert_frame_equal(clean, dirty, check_exact=True)


def test_aapls_fy2014_10k_is_invisible_until_90_days_after_its_period_end(history: History) -> None:
    # FY2014 ended 2014-09-27 (EPS 6.49 after the 7:1 split of 2014-06-09); FY2013's EPS was 40.03 before it
    column = point_in_time(history, AS_OF).symbols.index("AAPL")
    eve = point_in_time(history, date(2014, 12, 25)).fundamentals.eps_ttm[column]
    day = point_in_time(history, date(2014, 12, 26)).fundamentals.eps_ttm[column]
    # FY2013, restated onto the share basis of the day (the file's split ratio is 7.000007: float noise)
    assert eve == pytest.approx(40.03 / 7, rel=1e-5)
    assert day == pytest.approx(6.49)
    assert date(2014, 9, 27) + timedelta(days=90) == date(2014, 12, 26)


def test_the_cli_backtest_reports_per_verdict_statistics_on_real_data(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["decisions", "backtest", "--start", "2014-01-01", "--end", "2014-12-31", "--json", "--data-dir",
              str(data_dir)], env=FILES,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["rebalances"], report["benchmark"], report["universe"]) == (12, "SPY", len(TICKERS))
    assert report["observations"] >= 12 * 35
    by_verdict = {g["key"]: g for g in report["by_verdict"]}
    assert set(by_verdict) <= {"Strong Buy", "Buy", "Hold", "Avoid"}
    assert len(by_verdict) >= 3
    for group in by_verdict.values():
        ninety = group["horizons"][2]
        assert ninety["measured"] == group["count"]  # prices run to 2016: every window of 2014 is measured
        assert ninety["wins"] == round(ninety["win_rate"] * ninety["measured"])
        assert -0.5 < ninety["mean_excess"] < 0.5
