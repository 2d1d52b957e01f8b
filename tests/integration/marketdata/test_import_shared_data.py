"""Import every price and fundamentals file of ../shared/data, and check them against SOURCES.md.

The 2.4M-row S&P 500 file is imported once per module (a module-scoped fixture); the fundamentals files are
imported once into one SQLite database, which the tests then read.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketdesk.db import Database, upgrade
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import FilesMarketData, ImportOptions, ImportReport, import_fundamentals, import_prices
from marketdesk.marketdata.port import GICS_SECTORS, AssetClass, CorporateActionKind, validate_bars
from marketdesk.marketdata.repository import MarketDataRepository

pytestmark = pytest.mark.shared_data

SP500_DAILY = "prices-sp500-daily/sp500_daily_adjusted_1999-11-01_2021-04-21.csv.gz"
KAGGLE = "prices-sp500-5yr-kaggle/all_stocks_5yr.csv.gz"
GSPC = "benchmarks/gspc_daily_yahoo_1927-12-30_2020-06-05.csv"
SP500TR = "benchmarks/sp500tr_daily_yahoo_1988-01-04_2020-10-16.csv"
SPY_STOOQ = "benchmarks/spy_us_daily_stooq_2005-02-25_2025-01-29.csv"
ETFS = ("EEM", "EWZ", "FXI", "GSPC", "SPY", "VIX", "XLF", "XOP")


@pytest.fixture(scope="module")
def sp500(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[BarStore, ImportReport]:
    """The 2.4M-row file imported once into a fresh store."""
    store = BarStore(tmp_path_factory.mktemp("sp500") / "bars")
    return store, import_prices([shared_data / SP500_DAILY], store)


@pytest.fixture(scope="module")
def kaggle(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[BarStore, ImportReport]:
    store = BarStore(tmp_path_factory.mktemp("kaggle") / "bars")
    return store, import_prices([shared_data / KAGGLE], store)


# ---- the 2.4M-row S&P 500 daily file ----------------------------------------------------------------------------


@pytest.mark.slow
def test_every_row_of_the_sp500_daily_file_is_accepted(sp500: tuple[BarStore, ImportReport]) -> None:
    _, report = sp500
    assert report.ok, report.errors
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (2_402_891, 2_402_891, 0)
    assert report.inserted == 2_402_891
    assert len(report.symbols) == 504 and "BF.B" not in report.symbols
    assert report.files[0].layout == "long"


@pytest.mark.slow
def test_sp500_daily_spot_values(sp500: tuple[BarStore, ImportReport]) -> None:
    store, _ = sp500
    aapl = store.read("AAPL")
    assert validate_bars(aapl) == []
    assert aapl.loc["2021-04-21", "close"] == 133.50
    assert aapl.loc["2020-08-28", "close"] == 499.23
    assert aapl.loc["2020-08-31", "close"] == 129.04
    assert aapl.loc["2014-06-06", "close"] == 645.57  # raw, not split-adjusted
    assert aapl.loc["2021-04-21", "adj_close"] == aapl.loc["2021-04-21", "close"]
    assert store.read("MSFT").loc["2021-04-21", "close"] == 260.58
    assert store.coverage("VAR")[0].last == date(2021, 4, 16)


@pytest.mark.slow
def test_sp500_daily_dividends_and_splits_become_corporate_actions(
    sp500: tuple[BarStore, ImportReport], shared_data: Path
) -> None:
    store, report = sp500
    actions = store.actions()
    dividends = [a for a in actions if a.kind is CorporateActionKind.DIVIDEND]
    splits = [a for a in actions if a.kind is CorporateActionKind.SPLIT]
    # the derived files list exactly the rows with a dividend and with a split coefficient other than 1
    derived_dividends = pd.read_csv(shared_data / "prices-sp500-daily/sp500_dividends_1999-11-01_2021-04-21.csv")
    derived_splits = pd.read_csv(shared_data / "prices-sp500-daily/sp500_splits_1999-11-01_2021-04-21.csv")
    assert len(dividends) == len(derived_dividends) == 27_729
    assert len(splits) == len(derived_splits) == 473
    assert report.files[0].actions_inserted == 27_729 + 473
    aapl_split = [(a.ex_date, a.value) for a in splits if a.symbol == "AAPL" and a.ex_date.year == 2020]
    assert aapl_split == [(date(2020, 8, 31), Decimal("4.0"))]
    aapl_dividends = [a.value for a in dividends if a.symbol == "AAPL"]
    before = [a.value for a in dividends if a.symbol == "AAPL" and a.ex_date < date(2020, 8, 31)]
    assert before[-1] == Decimal("0.82") and aapl_dividends[-1] == Decimal("0.205")
    noisy = {a.value for a in splits if a.symbol != "AAPL"}
    assert any(len(str(v)) > 6 for v in noisy), "float-noise ratios such as 7.00000700001 are kept as written"


@pytest.mark.slow
def test_reimporting_the_sp500_daily_file_changes_nothing(
    sp500: tuple[BarStore, ImportReport], shared_data: Path
) -> None:
    store, _ = sp500
    again = import_prices([shared_data / SP500_DAILY], store)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2_402_891)
    assert again.files[0].actions_inserted == 0


@pytest.mark.slow
def test_the_whole_universe_loads_as_one_matrix(sp500: tuple[BarStore, ImportReport]) -> None:
    store, _ = sp500
    matrix = store.read_matrix(field="close")
    assert matrix.values.shape == (5_402, 504)
    assert str(matrix.dates[0]) == "1999-11-01" and str(matrix.dates[-1]) == "2021-04-21"
    column = matrix.symbols.index("AAPL")
    row = int(np.flatnonzero(matrix.dates == np.datetime64("2021-04-21"))[0])
    assert matrix.values[row, column] == 133.50


@pytest.mark.slow
def test_the_files_source_serves_the_import(sp500: tuple[BarStore, ImportReport]) -> None:
    source = FilesMarketData(sp500[0])
    quote = source.quote("AAPL")
    assert quote.last == Decimal("133.5") and quote.ts == datetime(2021, 4, 21, 20, 0, tzinfo=UTC)
    actions = source.corporate_actions("AAPL", date(2020, 8, 1), date(2020, 9, 30))
    assert [(a.ex_date, a.kind) for a in actions] == [
        (date(2020, 8, 7), CorporateActionKind.DIVIDEND),
        (date(2020, 8, 31), CorporateActionKind.SPLIT),
    ]


# ---- the Kaggle 5-year set ---------------------------------------------------------------------------------------


def test_the_kaggle_set_rejects_its_bad_rows_with_reasons(kaggle: tuple[BarStore, ImportReport]) -> None:
    store, report = kaggle
    assert report.rows_read == 619_040
    assert report.rejections == {
        "missing price": 11,
        "high < low": 1,
        "open outside [low, high]": 3,
        "close outside [low, high]": 8,
    }
    assert report.rows_accepted == 619_040 - 23
    assert len(report.symbols) == 505
    reasons = {s.line: s.reason for s in report.samples}
    assert reasons[82_951] == "missing open, high, low"  # BHF 2017-07-26: only a close
    assert reasons[53_004] == "high 23.595 < low 23.85"  # AOS 2014-05-19
    aapl = store.read("AAPL")
    assert aapl.loc["2013-02-08", "close"] == 67.8542 and aapl.loc["2018-02-07", "close"] == 159.54
    assert (aapl["adj_close"] == aapl["close"]).all()


@pytest.mark.slow
def test_the_kaggle_set_agrees_with_the_daily_set_where_no_split_intervenes(
    kaggle: tuple[BarStore, ImportReport], sp500: tuple[BarStore, ImportReport]
) -> None:
    ours = kaggle[0].read("MSFT")["close"]
    theirs = sp500[0].read("MSFT")["close"]
    shared = ours.index.intersection(theirs.index)
    assert len(shared) > 1_200
    assert (ours[shared] == theirs[shared]).mean() > 0.99


# ---- benchmarks and ETFs -----------------------------------------------------------------------------------------


def test_gspc_imports_under_its_file_name_or_as_caret_gspc(shared_data: Path, tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    report = import_prices([shared_data / GSPC], store)
    assert report.files[0].layout == "yahoo" and report.symbols == ["GSPC"]
    assert report.rows_accepted == 23_217 and report.rows_rejected == 0
    named = import_prices([shared_data / GSPC], store, ImportOptions(symbol="^GSPC"))
    assert named.symbols == ["^GSPC"] and named.inserted == 23_217
    gspc = store.read("^GSPC")
    # Yahoo writes six decimals (1003.349976); SOURCES.md quotes them to the cent
    closes = {
        day: round(float(gspc.loc[day, "close"]), 2) for day in ("1987-10-19", "2008-10-13", "2020-03-23", "2020-06-05")
    }
    assert closes == {"1987-10-19": 224.84, "2008-10-13": 1003.35, "2020-03-23": 2237.40, "2020-06-05": 3193.93}
    assert gspc.index[0] == pd.Timestamp("1927-12-30")
    assert FilesMarketData(store).symbols()[0].asset_class is AssetClass.EQUITY
    assert next(i for i in FilesMarketData(store).symbols() if i.symbol == "^GSPC").asset_class is AssetClass.INDEX


def test_the_total_return_index_and_spy_from_stooq(shared_data: Path, tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    report = import_prices([shared_data / SP500TR, shared_data / SPY_STOOQ], store, progress=lambda done, total: None)
    assert report.ok and report.rows_rejected == 0
    tr, spy = report.files
    assert (tr.layout, tr.symbols, tr.rows_accepted) == ("yahoo", ["SP500TR"], 8_265)
    assert (spy.layout, spy.symbols, spy.rows_accepted) == ("stooq", ["SPY"], 5_013)
    assert store.read("SPY").loc["2021-04-21", "close"] == 407.203
    assert store.read("SPY")["volume"].iloc[0] == pytest.approx(76530081.487282)


def test_the_etf_files_have_day_first_dates(shared_data: Path, tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    files = [shared_data / "etfs/prices-2016-2020" / f"{name}.csv" for name in ETFS]
    report = import_prices(files, store)
    assert report.ok and report.rows_rejected == 0
    for name, file_report in zip(ETFS, report.files, strict=True):
        assert file_report.rows_accepted == 1_258
        assert any("DD/MM/YYYY" in line for line in file_report.details)
        coverage = store.coverage(name)[0]
        assert (coverage.first, coverage.last, coverage.rows) == (date(2016, 1, 4), date(2020, 12, 30), 1_258)
    assert store.read("SPY").loc["2020-12-30", "close"] == 371.98999


def test_the_derived_dividend_and_split_files_import_as_actions(shared_data: Path, tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    folder = shared_data / "prices-sp500-daily"
    report = import_prices(
        [folder / "sp500_dividends_1999-11-01_2021-04-21.csv", folder / "sp500_splits_1999-11-01_2021-04-21.csv"],
        store,
    )
    assert [f.layout for f in report.files] == ["actions", "actions"]
    assert [f.inserted for f in report.files] == [27_729, 473]
    assert store.symbols() == []


# ---- fundamentals --------------------------------------------------------------------------------------------------

FUNDAMENTALS: tuple[tuple[str, date | None], ...] = (
    ("fundamentals/sp500_constituents_financials_2018-02.csv", date(2018, 2, 8)),
    ("fundamentals/sp500_constituents_financials_monthly_snapshots.csv.gz", None),
    ("fundamentals/sp500_constituents_financials_latest.csv", date(2026, 8, 22)),
    ("fundamentals/nyse_fundamentals_10k_2012-2016.csv", None),
    ("fundamentals/nyse_securities_2017.csv", None),
    ("prices-sp500-daily/constituents_2021.csv", None),
    ("fundamentals/sp500_constituents_gics_latest.csv", None),
    ("etfs/etf_universe_yahoo_2018.csv", None),
    ("earnings/earnings_eps_surprise_1992-2025.csv.gz", None),
)


@pytest.fixture(scope="module")
def fundamentals(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, ImportReport]]:
    """Every fundamentals file imported once into one SQLite database: (its URL, report by file name)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fundamentals') / 'desk.db'}"
    upgrade(url)

    async def load() -> dict[str, ImportReport]:
        database = Database(url)
        reports = {}
        try:
            for name, as_of in FUNDAMENTALS:
                async with database.session() as session:
                    reports[Path(name).name] = await import_fundamentals(
                        [shared_data / name],
                        MarketDataRepository(session),
                        ImportOptions(as_of=as_of),
                        now=datetime(2026, 8, 22, tzinfo=UTC),
                    )
        finally:
            await database.dispose()
        return reports

    return url, asyncio.run(load())


@pytest.mark.slow
def test_every_fundamentals_file_is_read(fundamentals: tuple[str, dict[str, ImportReport]]) -> None:
    _, reports = fundamentals
    rows = {name: (r.rows_read, r.rows_accepted, r.ok) for name, r in reports.items()}
    assert rows == {
        "sp500_constituents_financials_2018-02.csv": (505, 505, True),
        "sp500_constituents_financials_monthly_snapshots.csv.gz": (4_527, 4_527, True),
        "sp500_constituents_financials_latest.csv": (503, 503, True),
        "nyse_fundamentals_10k_2012-2016.csv": (1_777, 1_777, True),
        "nyse_securities_2017.csv": (505, 505, True),
        "constituents_2021.csv": (505, 505, True),
        "sp500_constituents_gics_latest.csv": (503, 503, True),
        "etf_universe_yahoo_2018.csv": (2_352, 2_352, True),
        "earnings_eps_surprise_1992-2025.csv.gz": (69_885, 69_885, True),
    }
    details = " ".join(reports["sp500_constituents_financials_2018-02.csv"].files[0].details)
    assert "swapped in 505 of 505 rows" in details and "percent" in details
    latest = " ".join(reports["sp500_constituents_financials_latest.csv"].files[0].details)
    assert "sub-industries" in latest and "percent" not in latest
    assert len(reports["nyse_fundamentals_10k_2012-2016.csv"].symbols) == 447
    assert len(reports["earnings_eps_surprise_1992-2025.csv.gz"].symbols) == 976


@pytest.mark.slow
async def test_fundamentals_spot_values(fundamentals: tuple[str, dict[str, ImportReport]]) -> None:
    database = Database(fundamentals[0])
    try:
        async with database.session() as session:
            repository = MarketDataRepository(session)
            records = await repository.fundamentals("AAPL")
            fy2015 = next(r for r in records if r.period == "FY" and r.period_end == date(2015, 9, 26))
            assert fy2015.revenue == 2.34e11 and fy2015.eps == 9.28
            snapshots = {r.period_end: r for r in records if r.period == "snapshot"}
            assert len(snapshots) == 1 + 9 + 1  # 2018-02, the nine monthly snapshots, the latest
            latest = snapshots[date(2026, 8, 22)]
            assert latest.price == 309.35 and round(latest.pe or 0, 2) == 35.48
            assert round((latest.market_cap or 0) / 1e12, 2) == 4.51
            feb_2018 = snapshots[date(2018, 2, 8)]
            assert (feb_2018.week52_low or 0) < (feb_2018.week52_high or 0)
            assert 0 < (feb_2018.dividend_yield or 0) < 0.05
            events = await repository.earnings("MSFT", date(2019, 1, 1), date(2019, 12, 31))
            assert [e.eps_estimate for e in events] == [1.09, 1.00, 1.21, 1.25]
    finally:
        await database.dispose()


@pytest.mark.slow
async def test_instruments_etfs_and_the_universe(fundamentals: tuple[str, dict[str, ImportReport]]) -> None:
    database = Database(fundamentals[0])
    try:
        async with database.session() as session:
            repository = MarketDataRepository(session)
            spy = await repository.instrument("SPY")
            assert spy is not None and spy.asset_class is AssetClass.ETF
            assert (spy.expense_ratio_pct, spy.industry) == (0.09, "Large Blend")
            for symbol, ratio in (("IVV", 0.04), ("QQQ", 0.20), ("AGG", 0.05), ("TLT", 0.15), ("GLD", 0.40)):
                info = await repository.instrument(symbol)
                assert info is not None and info.expense_ratio_pct == ratio
            spy_assets = await repository.fundamentals("SPY")
            assert [(r.period_end, round((r.market_cap or 0) / 1e9, 2)) for r in spy_assets] == [
                (date(2018, 12, 31), 264.06)
            ]
            assert len(await repository.instruments(asset_class="etf")) == 2_352
            members = await repository.universe("sp500")
            assert len(members) == 503 and "AAPL" in members  # the last list imported: the GICS latest
            apple = await repository.instrument("AAPL")
            assert apple is not None and apple.sector == "Information Technology"
            sectors = {i.sector for i in await repository.instruments() if i.symbol in set(members)}
            assert sectors == set(GICS_SECTORS)
            scheduled = [e for e in await repository.earnings("AAPL") if e.eps_actual is None]
            assert scheduled and all(e.report_date >= date(2023, 10, 1) for e in scheduled)
    finally:
        await database.dispose()
