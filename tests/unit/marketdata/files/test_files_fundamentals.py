"""Importing fundamentals files through the repository, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from marketdesk.db import Database
from marketdesk.errors import Rejected
from marketdesk.marketdata.files import ImportOptions, ImportReport, import_fundamentals
from marketdesk.marketdata.files.fundamental_rows import TEN_K_REPORT_LAG_DAYS
from marketdesk.marketdata.port import AssetClass, Fundamentals
from marketdesk.marketdata.repository import MarketDataRepository

NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)

SNAPSHOT_HEADER = (
    "Symbol,Name,Sector,Price,Price/Earnings,Dividend Yield,Earnings/Share,52 Week Low,52 Week High,"
    "Market Cap,EBITDA,Price/Sales,Price/Book,SEC Filings\n"
)
# the 2018-02 file: GICS sectors, dividend yield in percent, 52-week low and high swapped in every row
SNAPSHOT_2018 = SNAPSHOT_HEADER + (
    "MMM,3M Company,Industrials,222.89,24.31,2.3328617,7.92,259.77,175.49,138721055226,9048000000,4.39,11.34,http://x\n"
    "AOS,A.O. Smith Corp,Industrials,60.24,27.76,1.1479592,1.7,68.39,48.925,10783419933,601000000,3.57,6.35,http://x\n"
    "ZTS,Zoetis,Health Care,71.51,32.8,0.68237203,1.65,80.13,52,35991109776,1734000000,9.28,18.09,http://x\n"
)
# the latest file: "Sector" holds sub-industries, yield is a fraction, some numbers are empty or infinite
SNAPSHOT_LATEST = SNAPSHOT_HEADER + (
    "MMM,3M,Industrial Conglomerates,178.96,31.786858,0.0175,5.63,139.34,184.9,92293693440,6488000000,3.66,31.26,http://x\n"
    "BRK.B,Berkshire Hathaway,Multi-Sector Holdings,,,,,,,,,,,http://x\n"
    "ABT,Abbott Laboratories,Health Care Equipment,116.64,inf,0.0221,0.0,81.97,137.49,201831907328,11681000448,4.33,3.94,http://x\n"
)
TEN_K = (
    ",Ticker Symbol,Period Ending,Capital Expenditures,Cash and Cash Equivalents,Depreciation,"
    "Earnings Before Interest and Tax,Gross Profit,Interest Expense,Long-Term Debt,Net Cash Flow-Operating,"
    "Net Income,Operating Income,Short-Term Debt / Current Portion of Long-Term Debt,Total Assets,"
    "Total Current Assets,Total Current Liabilities,Total Equity,Total Liabilities,Total Revenue,For Year,"
    "Earnings Per Share,Estimated Shares Outstanding\n"
    "10,AAPL,26-09-15,-11247000000,21120000000,11257000000,72515000000,93626000000,733000000,53329000000,"
    "81266000000,53394000000,71230000000,10999000000,2.90E+11,89378000000,80610000000,1.19E+11,1.71E+11,"
    "2.34E+11,2015,9.28,5753663793\n"
    "11,AAPL,24-09-16,-12734000000,20484000000,10505000000,61372000000,84263000000,1456000000,75427000000,"
    "65824000000,45687000000,60024000000,11605000000,3.22E+11,1.07E+11,79006000000,1.28E+11,1.93E+11,"
    "2.16E+11,2016,8.35,5471497006\n"
    "12,XYZ,31-12-15,,,,,,,,,,,,,,,,,,2015,,\n"
)


Run = Callable[..., Awaitable[ImportReport]]


@pytest.fixture
def run(database: Database) -> Run:
    """Import files in one session (committed), like the CLI does."""

    async def go(paths: list[Path], **options: Any) -> ImportReport:
        async with database.session() as session:
            return await import_fundamentals(paths, MarketDataRepository(session), ImportOptions(**options), now=NOW)

    return go


async def _fundamentals(database: Database, symbol: str) -> list[Fundamentals]:
    async with database.session() as session:
        return await MarketDataRepository(session).fundamentals(symbol)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_snapshot_without_a_date_needs_as_of_and_writes_nothing(
    run: Run, database: Database, tmp_path: Path
) -> None:
    report = await run([write(tmp_path, "financials.csv", SNAPSHOT_2018)])
    assert not report.ok
    assert "--as-of" in (report.files[0].error or "")
    async with database.session() as session:
        repository = MarketDataRepository(session)
        assert await repository.fundamentals_count() == 0
        assert await repository.instrument_count() == 0


async def test_the_2018_snapshot_swaps_52_weeks_back_and_makes_yield_a_fraction(
    run: Run, database: Database, tmp_path: Path
) -> None:
    report = await run([write(tmp_path, "financials_2018-02.csv", SNAPSHOT_2018)], as_of=date(2018, 2, 8))
    assert report.ok and report.inserted == 3
    details = " ".join(report.files[0].details)
    assert "swapped in 3 of 3 rows" in details and "percent" in details
    (mmm,) = await _fundamentals(database, "MMM")
    assert (mmm.period, mmm.period_end, mmm.source) == ("snapshot", date(2018, 2, 8), "files")
    assert (mmm.week52_low, mmm.week52_high) == (175.49, 259.77)
    assert mmm.dividend_yield == pytest.approx(0.023328617)
    assert (mmm.price, mmm.pe, mmm.eps, mmm.market_cap, mmm.ebitda) == (
        222.89,
        24.31,
        7.92,
        138721055226.0,
        9048000000.0,
    )
    async with database.session() as session:
        info = await MarketDataRepository(session).instrument("MMM")
    assert info is not None and (info.name, info.sector, info.industry) == ("3M Company", "Industrials", None)


async def test_the_latest_snapshot_keeps_sub_industries_as_industry_and_stores_no_nan(
    run: Run, database: Database, tmp_path: Path
) -> None:
    report = await run([write(tmp_path, "financials_latest.csv", SNAPSHOT_LATEST)], as_of=date(2026, 8, 22))
    assert report.rows_accepted == 3
    (berkshire,) = await _fundamentals(database, "BRK.B")
    assert berkshire.price is None and berkshire.market_cap is None
    (abbott,) = await _fundamentals(database, "ABT")
    assert abbott.pe is None and abbott.dividend_yield == 0.0221
    for record in (berkshire, abbott, *(await _fundamentals(database, "MMM"))):
        values = [getattr(record, f) for f in ("price", "pe", "eps", "dividend_yield", "market_cap", "ps", "pb")]
        assert all(v is None or math.isfinite(v) for v in values)
    async with database.session() as session:
        info = await MarketDataRepository(session).instrument("MMM")
    assert info is not None and (info.sector, info.industry) == (None, "Industrial Conglomerates")
    assert any("sub-industries" in line for line in report.files[0].details)


async def test_a_snapshot_panel_dates_each_row(run: Run, database: Database, tmp_path: Path) -> None:
    rows = SNAPSHOT_LATEST.splitlines()
    text = "snapshot_date,snapshot_commit," + rows[0] + "\n"
    text += "".join(f"{day},abc,{rows[1]}\n" for day in ("2024-10-10", "2024-11-01"))
    path = tmp_path / "panel.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    report = await run([path])
    assert report.ok and report.inserted == 2
    assert [r.period_end for r in await _fundamentals(database, "MMM")] == [date(2024, 10, 10), date(2024, 11, 1)]


async def test_a_10k_file_becomes_fy_fundamentals_with_derived_figures(
    run: Run, database: Database, tmp_path: Path
) -> None:
    report = await run([write(tmp_path, "nyse_fundamentals_10k.csv", TEN_K)])
    assert report.ok and report.files[0].layout == "10-K"
    fy2015 = (await _fundamentals(database, "AAPL"))[0]
    assert (fy2015.period, fy2015.period_end) == ("FY", date(2015, 9, 26))
    assert (fy2015.reported - fy2015.period_end).days == TEN_K_REPORT_LAG_DAYS  # type: ignore[operator]
    assert fy2015.revenue == 2.34e11 and fy2015.eps == 9.28
    assert fy2015.free_cash_flow == 81266000000 - 11247000000
    assert fy2015.capex == -11247000000
    assert fy2015.total_debt == 53329000000 + 10999000000
    assert fy2015.ebitda == 72515000000 + 11257000000  # EBIT + depreciation
    assert (fy2015.total_assets, fy2015.total_liabilities, fy2015.total_equity) == (2.9e11, 1.71e11, 1.19e11)
    assert fy2015.shares_outstanding == 5753663793
    assert (fy2015.cash, fy2015.current_assets, fy2015.interest_expense) == (21120000000, 89378000000, 733000000)
    (empty,) = await _fundamentals(database, "XYZ")
    assert empty.revenue is None and empty.free_cash_flow is None


async def test_an_etf_universe_gives_etf_instruments_and_a_net_assets_snapshot(
    run: Run, database: Database, tmp_path: Path
) -> None:
    text = (
        "fund_name,fund_extended_name,category,fund_family,net_assets,fund_yield,legal_type,currency,"
        "net_annual_expense_ratio_fund,price_earnings,fund_return_2017,fund_return_2018\n"
        "SPY,SPDR S&P 500 ETF,Large Blend,SPDR,264060000000.0,1.85,Exchange Traded Fund,USD,0.09,17.05,21.7,-4.5\n"
        "XYZ,Odd Fund,,Odd,,,Exchange Traded Fund,,0.5,,,\n"
    )
    report = await run([write(tmp_path, "etf_universe.csv", text)])
    assert report.ok
    assert any("end of 2018" in line for line in report.files[0].details)
    async with database.session() as session:
        repository = MarketDataRepository(session)
        spy = await repository.instrument("SPY")
        odd = await repository.instrument("XYZ")
        records = await repository.fundamentals("SPY")
        assert await repository.fundamentals("XYZ") == []
    assert spy is not None and spy.asset_class is AssetClass.ETF
    assert (spy.name, spy.expense_ratio_pct, spy.industry, spy.currency) == (
        "SPDR S&P 500 ETF",
        0.09,
        "Large Blend",
        "USD",
    )
    assert odd is not None and odd.currency == "USD"
    (snapshot,) = records
    assert (snapshot.period_end, snapshot.market_cap, snapshot.pe) == (date(2018, 12, 31), 264060000000.0, 17.05)
    assert snapshot.dividend_yield == pytest.approx(0.0185)


async def test_as_of_dates_the_etf_snapshot(run: Run, database: Database, tmp_path: Path) -> None:
    text = (
        "fund_name,fund_extended_name,net_assets,net_annual_expense_ratio_fund\nQQQ,Invesco QQQ Trust,70300000000,0.2\n"
    )
    await run([write(tmp_path, "etfs.csv", text)], as_of=date(2018, 11, 30))
    assert [r.period_end for r in await _fundamentals(database, "QQQ")] == [date(2018, 11, 30)]


async def test_earnings_keep_scheduled_reports_and_refuse_bad_rows(
    run: Run, database: Database, tmp_path: Path
) -> None:
    text = (
        "dates,eps_estimate,eps_actual,eps_pct_diff,ticker,country,category\n"
        '2019-01-30,1.09,1.1,0.92,MSFT,USA,"tech, video-games"\n'
        '2019-04-24,1.0,1.14,14.0,MSFT,USA,"tech, video-games"\n'
        '2024-01-24,,,,MSFT,USA,"tech, video-games"\n'
        '2024-04-25,2.8,,,MSFT,USA,"tech, video-games"\n'
        "2019-04-24,1.0,1.14,14.0,MSFT,USA,dup\n"
        "2019-13-01,1.0,1.14,14.0,MSFT,USA,bad date\n"
        "2019-07-18,one,1.37,13.2,MSFT,USA,bad number\n"
    )
    report = await run([write(tmp_path, "earnings.csv", text)])
    assert report.rows_accepted == 4
    assert report.rejections == {"duplicate": 1, "unparseable date": 1, "unparseable number": 1}
    lines = {s.line: s.reason for s in report.samples}
    assert lines == {
        6: "duplicate 2019-04-24 for MSFT",
        7: "date '2019-13-01' does not parse as YYYY-MM-DD",
        8: "eps_estimate 'one' is not a number",
    }
    async with database.session() as session:
        events = await MarketDataRepository(session).earnings("MSFT")
    assert [(e.report_date, e.eps_estimate, e.eps_actual) for e in events] == [
        (date(2019, 1, 30), 1.09, 1.1),
        (date(2019, 4, 24), 1.0, 1.14),
        (date(2024, 1, 24), None, None),
        (date(2024, 4, 25), 2.8, None),
    ]
    assert events[0].surprise_pct == 0.92


async def test_a_constituents_list_fills_instruments_and_the_universe(
    run: Run, database: Database, tmp_path: Path
) -> None:
    text = (
        "Symbol,Security,GICS Sector,GICS Sub-Industry,Headquarters Location\n"
        'MMM,3M,Industrials,Industrial Conglomerates,"Saint Paul, Minnesota"\n'
        'AAPL,Apple Inc.,Information Technology,"Technology Hardware, Storage & Peripherals","Cupertino, California"\n'
        ",Nobody,Energy,Oil,Nowhere\n"
    )
    report = await run([write(tmp_path, "constituents.csv", text)])
    assert report.rows_accepted == 2 and report.rejections == {"missing ticker": 1}
    assert report.files[0].universe == "sp500" and report.inserted == 2
    async with database.session() as session:
        repository = MarketDataRepository(session)
        assert await repository.universe("sp500") == ["AAPL", "MMM"]
        apple = await repository.instrument("AAPL")
    assert apple is not None
    assert (apple.name, apple.sector, apple.industry) == (
        "Apple Inc.",
        "Information Technology",
        "Technology Hardware, Storage & Peripherals",
    )


async def test_a_list_without_names_keeps_known_names(run: Run, database: Database, tmp_path: Path) -> None:
    await run([write(tmp_path, "a.csv", "Symbol,Name,Sector\nAAPL,Apple Inc.,Information Technology\n")])
    await run(
        [write(tmp_path, "b.csv", "Symbol,Name,Sector\nAAPL,,Information Technology\nNEW,,Energy\n")], universe="mine"
    )
    async with database.session() as session:
        repository = MarketDataRepository(session)
        apple, new = await repository.instrument("AAPL"), await repository.instrument("NEW")
        assert await repository.universe_sizes() == {"sp500": 1, "mine": 2}
    assert apple is not None and apple.name == "Apple Inc."
    assert new is not None and new.name == "NEW"


async def test_map_reads_a_generic_fundamentals_file(run: Run, database: Database, tmp_path: Path) -> None:
    text = "Ticker,FY end,Sales,period\nAAA,2020-12-31,1000,FY\nAAA,2021-12-31,1100,FY\n"
    report = await run([write(tmp_path, "mine.csv", text)], column_map={"date": "FY end", "revenue": "Sales"})
    assert report.files[0].layout == "generic"
    assert [(r.period, r.revenue) for r in await _fundamentals(database, "AAA")] == [("FY", 1000.0), ("FY", 1100.0)]


async def test_reimporting_fundamentals_changes_nothing(run: Run, tmp_path: Path) -> None:
    files = [
        write(tmp_path, "financials.csv", SNAPSHOT_2018),
        write(tmp_path, "10k.csv", TEN_K),
        write(tmp_path, "list.csv", "Symbol,Name,Sector\nMMM,3M,Industrials\n"),
        write(tmp_path, "earnings.csv", "dates,eps_estimate,eps_actual,ticker\n2019-01-30,1.09,1.1,MSFT\n"),
    ]
    first = await run(files, as_of=date(2018, 2, 8))
    # 3 snapshots, 3 filings, 1 earnings event; the list renames MMM (known from the snapshot): an update
    assert (first.inserted, first.updated, first.unchanged) == (7, 1, 0)
    second = await run(files, as_of=date(2018, 2, 8))
    # the snapshot names MMM "3M Company" again and the list "3M": the list's row is the one update
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 7)
    third = await run(files[1:], as_of=date(2018, 2, 8))
    assert (third.inserted, third.updated, third.unchanged) == (0, 0, 5)


async def test_unreadable_fundamentals_files_get_one_error_each(run: Run, database: Database, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 10)
    files = [garbage, write(tmp_path, "empty.csv", ""), write(tmp_path, "header.csv", "Symbol,Name,Sector\n")]
    files.append(write(tmp_path, "odd.csv", "a,b\n1,2\n"))
    report = await run(files)
    assert [f.error is not None for f in report.files] == [True, True, True, True]
    assert "binary" in (report.files[0].error or "")
    assert "no data rows" in (report.files[2].error or "")
    assert "unrecognised fundamentals layout" in (report.files[3].error or "")
    assert json.loads(json.dumps(report.to_dict()))["ok"] is False
    async with database.session() as session:
        assert await MarketDataRepository(session).instrument_count() == 0


async def test_unknown_map_fields_are_refused(run: Run, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="unknown field"):
        await run([write(tmp_path, "x.csv", "a\n1\n")], column_map={"turnover": "a"})
