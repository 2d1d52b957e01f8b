"""Importing price files into the bar store: every layout, every rejection reason, bad files, idempotence."""

from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import ImportOptions, import_prices
from marketdesk.marketdata.port import CorporateActionKind, validate_bars

LONG_HEADER = "date,ticker,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient\n"
LONG_ROWS = (
    "2020-08-27,AAPL,508.57,509.94,495.33,500.04,124.83,38888096,0.0,1.0\n"
    "2020-08-28,AAPL,504.05,505.77,498.31,499.23,124.63,46907479,0.0,1.0\n"
    "2020-08-31,AAPL,127.58,131.0,126.0,129.04,128.82,225702700,0.0,4.0\n"
    "2020-08-07,AAPL,452.82,454.7,441.17,444.45,110.75,49511403,0.82,1.0\n"
    "2020-08-28,MSFT,228.18,230.64,226.58,228.91,226.64,26292896,0.0,1.0\n"
    "2020-08-31,MSFT,227.0,228.7,224.31,225.53,223.29,28774215,0.0,1.0\n"
    "2020-09-01,XRAY,40.0,41.0,39.0,40.5,40.5,1000,0.0,7.00000700001\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    return BarStore(tmp_path / "bars")


@pytest.fixture
def long_file(tmp_path: Path) -> Path:
    path = tmp_path / "sp500_daily.csv.gz"
    path.write_bytes(gzip.compress((LONG_HEADER + LONG_ROWS).encode()))
    return path


# ---- layouts -------------------------------------------------------------------------------------------------


def test_a_long_gzip_file_imports_raw_bars_adjusted_close_and_actions(long_file: Path, store: BarStore) -> None:
    report = import_prices([long_file], store)
    assert report.ok
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (7, 7, 0)
    assert report.inserted == 7
    assert report.symbols == ["AAPL", "MSFT", "XRAY"]
    assert report.files[0].layout == "long"
    bars = store.read("AAPL")
    assert validate_bars(bars) == []
    assert list(bars.index.strftime("%Y-%m-%d")) == ["2020-08-07", "2020-08-27", "2020-08-28", "2020-08-31"]
    assert bars.loc["2020-08-28", "close"] == 499.23
    assert bars.loc["2020-08-31", "close"] == 129.04
    assert bars.loc["2020-08-31", "adj_close"] == 128.82
    actions = {(a.symbol, a.ex_date, a.kind): a.value for a in store.actions()}
    assert actions == {
        ("AAPL", date(2020, 8, 31), CorporateActionKind.SPLIT): Decimal("4.0"),
        ("AAPL", date(2020, 8, 7), CorporateActionKind.DIVIDEND): Decimal("0.82"),
        ("XRAY", date(2020, 9, 1), CorporateActionKind.SPLIT): Decimal("7.00000700001"),
    }
    assert all(a.source == "files" for a in store.actions())
    assert report.files[0].actions_inserted == 3


def test_reimporting_the_same_file_changes_nothing(long_file: Path, store: BarStore) -> None:
    import_prices([long_file], store)
    before = store.read("AAPL")
    again = import_prices([long_file], store)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    assert again.files[0].actions_inserted == 0
    pd.testing.assert_frame_equal(store.read("AAPL"), before)
    assert len(store.actions()) == 3


def test_a_changed_row_counts_as_updated(long_file: Path, store: BarStore, tmp_path: Path) -> None:
    import_prices([long_file], store)
    changed = write(tmp_path, "fix.csv", LONG_HEADER + LONG_ROWS.replace("499.23,124.63", "499.25,124.63"))
    report = import_prices([changed], store)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 6)
    assert store.read("AAPL").loc["2020-08-28", "close"] == 499.25


def test_a_kaggle_file_uses_name_as_ticker_and_close_as_adj_close(tmp_path: Path, store: BarStore) -> None:
    path = write(
        tmp_path,
        "all_stocks_5yr.csv",
        "date,open,high,low,close,volume,Name\n"
        "2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL\n"
        "2017-07-26,,,,69.0842,3,BHF\n",
    )
    report = import_prices([path], store)
    assert report.rows_accepted == 1
    assert report.rejections == {"missing price": 1}
    assert str(report.samples[0]) == f"{path}: line 3: missing open, high, low"
    bars = store.read("AAL")
    assert bars["adj_close"].iloc[0] == bars["close"].iloc[0] == 14.75


def test_stooq_tickers_lose_the_us_suffix_and_non_daily_rows_are_refused(tmp_path: Path, store: BarStore) -> None:
    path = write(
        tmp_path,
        "spy_us_daily_stooq.csv",
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
        "SPY.US,D,20050225,000000,96.1403,97.2558,96.052,97.0723,76530081.487282,0\n"
        "SPY.US,D,20050228,000000,96.8433,96.9693,95.9469,96.409,86854659.797939,0\n"
        "SPY.US,W,20050304,000000,96.8433,96.9693,95.9469,96.409,86854659.797939,0\n",
    )
    report = import_prices([path], store)
    assert report.files[0].layout == "stooq"
    assert report.symbols == ["SPY"]
    assert report.rejections == {"not a daily bar": 1}
    bars = store.read("SPY")
    assert len(bars) == 2
    assert bars["volume"].iloc[0] == pytest.approx(76530081.487282)
    assert any("YYYYMMDD" in line for line in report.files[0].details)


def test_yahoo_etf_files_with_day_first_dates(tmp_path: Path, store: BarStore) -> None:
    path = write(
        tmp_path,
        "EEM.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "04/01/2016,31.35,31.379999,31.049999,31.309999,28.186804,83489100\n"
        "05/01/2016,31.450001,31.5,31.299999,31.379999,28.249826,57773900\n"
        "13/01/2016,30.1,30.2,29.9,30.0,27.0,1000\n",
    )
    report = import_prices([path], store)
    assert report.files[0].layout == "yahoo"
    bars = store.read("EEM")
    assert list(bars.index.strftime("%Y-%m-%d")) == ["2016-01-04", "2016-01-05", "2016-01-13"]
    assert bars["adj_close"].iloc[0] == 28.186804
    assert any("DD/MM/YYYY" in line and "13/01/2016" in line for line in report.files[0].details)


def test_date_format_overrides_detection(tmp_path: Path, store: BarStore) -> None:
    # one 01/02/2020 alone is ambiguous (detection would ask); the option decides it is day first
    path = write(tmp_path, "QQQ.csv", "Date,Close\n01/02/2020,10\n")
    report = import_prices([path], store, ImportOptions(date_format="%d/%m/%Y"))
    assert report.ok
    assert store.read("QQQ").index[0] == pd.Timestamp("2020-02-01")


def test_symbol_option_names_a_one_ticker_file(tmp_path: Path, store: BarStore) -> None:
    path = write(
        tmp_path,
        "gspc_daily_yahoo.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n2008-10-13,912.75,1006.93,912.75,1003.35,1003.35,7263370000\n",
    )
    import_prices([path], store, ImportOptions(symbol="^GSPC"))
    assert store.symbols() == ["^GSPC"]
    assert store.read("^GSPC").loc["2008-10-13", "close"] == 1003.35


def test_map_reads_a_file_with_other_column_names(tmp_path: Path, store: BarStore) -> None:
    path = write(tmp_path, "export.csv", "Day;Instrument;Last;Qty\n2020-01-02;abc;10.5;100\n2020-01-03;abc;10.7;200\n")
    options = ImportOptions(column_map={"date": "Day", "symbol": "Instrument", "close": "Last", "volume": "Qty"})
    report = import_prices([path], store, options)
    assert report.files[0].layout == "long"
    bars = store.read("ABC")
    assert bars["close"].tolist() == [10.5, 10.7]
    assert bars["open"].tolist() == bars["close"].tolist()
    assert bars["volume"].tolist() == [100.0, 200.0]


def test_a_parquet_file_with_a_date_column(tmp_path: Path, store: BarStore) -> None:
    table = pa.table(
        {
            "date": pa.array([date(2020, 1, 2), date(2020, 1, 3)], pa.date32()),
            "symbol": ["AAA", "AAA"],
            "open": [1.0, 2.0],
            "high": [1.5, 2.5],
            "low": [0.5, 1.5],
            "close": [1.2, -2.2],
            "volume": pa.array([10, 20], pa.int64()),
        }
    )
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path)
    report = import_prices([path], store)
    assert report.rows_accepted == 1
    assert report.rejections == {"non-positive price": 1}
    assert report.samples[0].line == 2
    assert store.read("AAA")["volume"].tolist() == [10.0]


def test_a_bom_and_blank_lines_are_tolerated_and_line_numbers_stay_true(tmp_path: Path, store: BarStore) -> None:
    path = tmp_path / "SPY.csv"
    path.write_bytes("\ufeffDate,Close\n2020-01-02,1\n\n2020-01-03,-1\n".encode())
    report = import_prices([path], store)
    assert report.rows_read == 2
    assert [(s.line, s.reason) for s in report.samples] == [(4, "non-positive price: close -1.0")]


# ---- rejections ------------------------------------------------------------------------------------------------


def test_every_rejection_reason_is_counted_with_a_line_and_a_message(tmp_path: Path, store: BarStore) -> None:
    rows = [
        "2020-01-02,AAA,10,11,9,10.5,10.5,100,0,1",  # 2 good
        "2021-13-45,AAA,10,11,9,10.5,10.5,100,0,1",  # 3 unparseable date
        ",AAA,10,11,9,10.5,10.5,100,0,1",  # 4 missing date
        "2020-01-03,,10,11,9,10.5,10.5,100,0,1",  # 5 missing ticker
        "2020-01-03,A B,10,11,9,10.5,10.5,100,0,1",  # 6 bad ticker
        "2020-01-03,AAA,,11,9,10.5,10.5,100,0,1",  # 7 missing open
        "2020-01-06,AAA,10,11,9,10.5,10.5,,0,1",  # 8 missing volume
        "2020-01-07,AAA,10,11,0,10.5,10.5,100,0,1",  # 9 non-positive
        "2020-01-08,AAA,10,10.2,11.0,10.5,10.5,100,0,1",  # 10 high < low
        "2020-01-09,AAA,12,11.5,10,10.5,10.5,100,0,1",  # 11 open outside
        "2020-01-10,AAA,10,11.5,10,12,12,100,0,1",  # 12 close outside
        "2020-01-13,AAA,10,11,9,10.5,10.5,-5,0,1",  # 13 negative volume
        "2020-01-14,AAA,10,11,9,10.5,10.5,100,-0.1,1",  # 14 negative dividend
        "2020-01-15,AAA,10,11,9,10.5,10.5,100,0,-2",  # 15 negative split
        "2020-01-02,AAA,10,11,9,10.6,10.6,100,0,1",  # 16 duplicate of line 2
        "2020-01-16,AAA,10,11,9,abc,10.5,100,0,1",  # 17 unparseable number
        "2020-01-17,AAA,10,11,9,inf,10.5,100,0,1",  # 18 infinite
        "2020-01-20,AAA,10,11,9,10.5,10.5,100,0,1,extra",  # 19 malformed
        "2020-01-21,AAA,10,11,9,10.5,10.5,100,0,1",  # 20 good
    ]
    path = write(tmp_path, "rows.csv", LONG_HEADER + "\n".join(rows) + "\n")
    report = import_prices([path], store)
    file_report = report.files[0]
    assert file_report.rows_read == 19
    assert file_report.rows_accepted == 2
    assert file_report.rows_rejected == 17
    assert file_report.rejections == {
        "unparseable number": 1,
        "missing date": 1,
        "unparseable date": 1,
        "missing ticker": 1,
        "bad ticker": 1,
        "infinite number": 1,
        "missing price": 1,
        "missing volume": 1,
        "non-positive price": 1,
        "high < low": 1,
        "open outside [low, high]": 1,
        "close outside [low, high]": 1,
        "negative volume": 1,
        "negative dividend": 1,
        "negative split coefficient": 1,
        "duplicate date": 1,
        "malformed line": 1,
    }
    by_line = {s.line: s.reason for s in file_report.samples}
    assert by_line == {
        3: "date '2021-13-45' does not parse as YYYY-MM-DD",
        4: "missing date",
        5: "missing ticker",
        6: "ticker 'A B' does not look like a ticker",
        7: "missing open",
        8: "missing volume",
        9: "non-positive price: low 0.0",
        10: "high 10.2 < low 11.0",
        11: "open 12.0 outside [low 10.0, high 11.5]",
        12: "close 12.0 outside [low 10.0, high 11.5]",
        13: "negative volume -5.0",
        14: "negative dividend -0.1",
        15: "negative split coefficient -2.0",
        16: "duplicate date 2020-01-02 for AAA",
        17: "close 'abc' is not a number",
        18: "close inf is not finite",
        19: "expected 10 fields, found 11",
    }
    bars = store.read("AAA")
    assert bars.index.strftime("%Y-%m-%d").tolist() == ["2020-01-02", "2020-01-21"]
    assert bars["close"].iloc[0] == 10.5  # the first of the duplicates stays


def test_samples_are_capped_but_counts_are_complete(tmp_path: Path, store: BarStore) -> None:
    rows = "".join(f"2020-01-{day:02d},1,2,0.5,-1\n" for day in range(1, 29))
    path = write(tmp_path, "SPY.csv", "Date,Open,High,Low,Close\n" + rows)
    report = import_prices([path], store)
    assert report.rejections == {"non-positive price": 28}
    assert len(report.samples) == 5


# ---- bad files -------------------------------------------------------------------------------------------------


def _bad_files(folder: Path, long_file: Path) -> dict[str, Path]:
    truncated = folder / "truncated.csv.gz"
    truncated.write_bytes(long_file.read_bytes()[:-40])
    garbage = folder / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    zipped = folder / "prices.csv"
    zipped.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    return {
        "truncated": truncated,
        "garbage": garbage,
        "empty": write(folder, "empty.csv", ""),
        "header only": write(folder, "header.csv", LONG_HEADER),
        "blank lines only": write(folder, "blank.csv", "Date,Close\n\n\n"),
        "unknown layout": write(folder, "odd.csv", "when,value\n2020-01-02,1\n"),
        "no date column": write(folder, "nodate.csv", "ticker,close\nAAPL,1\n"),
        "missing": folder / "absent.csv",
        "zip": zipped,
        "parquet garbage": write(folder, "bad.parquet", "PAR1 but nothing else"),
    }


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("truncated", "gzip data is truncated or corrupt"),
        ("garbage", "binary data"),
        ("empty", "empty"),
        ("header only", "no data rows"),
        ("blank lines only", "no data rows"),
        ("unknown layout", "unrecognised price layout; columns found: when, value"),
        ("no date column", "unrecognised price layout; columns found: ticker, close"),
        ("missing", "file not found"),
        ("zip", "zip archive"),
        ("parquet garbage", "not a readable Parquet file"),
    ],
)
def test_an_unreadable_file_gets_one_error_and_writes_nothing(
    which: str, message: str, tmp_path: Path, long_file: Path, store: BarStore
) -> None:
    bad = _bad_files(tmp_path, long_file)[which]
    report = import_prices([bad], store)
    assert not report.ok
    assert report.files[0].error is not None and message in report.files[0].error
    assert report.files[0].rows_accepted == 0
    assert store.symbols() == []
    assert report.errors == [f"{bad}: {report.files[0].error}"]


def test_a_failing_import_leaves_stored_bars_intact_and_other_files_still_import(
    tmp_path: Path, long_file: Path, store: BarStore
) -> None:
    import_prices([long_file], store)
    before = store.read("AAPL")
    truncated = tmp_path / "again.csv.gz"
    truncated.write_bytes(long_file.read_bytes()[:-40])
    other = write(tmp_path, "QQQ.csv", "Date,Close\n2020-01-02,200\n")
    report = import_prices([truncated, other], store)
    assert [f.error is None for f in report.files] == [False, True]
    pd.testing.assert_frame_equal(store.read("AAPL"), before)
    assert store.symbols() == ["AAPL", "MSFT", "QQQ", "XRAY"]
    assert len(store.actions()) == 3


# ---- report and progress ------------------------------------------------------------------------------------------


def test_the_report_is_json_and_has_a_short_summary(tmp_path: Path, long_file: Path, store: BarStore) -> None:
    bad = write(tmp_path, "odd.csv", "when,value\n1,2\n")
    report = import_prices([long_file, bad], store)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["kind"] == "prices" and data["ok"] is False
    assert data["rows_accepted"] == 7
    assert data["files"][0]["layout"] == "long"
    assert data["files"][1]["error"].startswith("unrecognised price layout")
    assert report.failed_files == [str(bad)] and (report.accepted, report.rejected) == (7, 0)
    assert str(report.files[0]) == str(long_file)
    summary = report.summary()
    assert summary.splitlines()[0].startswith("prices: 2 files, 7 rows read, 7 accepted, 0 rejected")
    assert "not imported: unrecognised price layout" in summary


def test_progress_counts_bytes_up_to_the_total(tmp_path: Path, long_file: Path, store: BarStore) -> None:
    other = write(tmp_path, "QQQ.csv", "Date,Close\n2020-01-02,200\n")
    calls: list[tuple[int, int]] = []
    import_prices([long_file, other], store, progress=lambda done, total: calls.append((done, total)))
    total = long_file.stat().st_size + other.stat().st_size
    assert calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_gzip_is_recognised_by_content_not_by_name(tmp_path: Path, store: BarStore) -> None:
    path = tmp_path / "SPY.csv"
    path.write_bytes(gzip.compress(b"Date,Close\n2020-01-02,300\n"))
    report = import_prices([path], store)
    assert report.ok and store.read("SPY")["close"].tolist() == [300.0]


def test_stored_bars_are_sound_for_every_layout(tmp_path: Path, long_file: Path, store: BarStore) -> None:
    import_prices([long_file], store)
    for symbol in store.symbols():
        frame = store.read(symbol)
        assert validate_bars(frame) == []
        assert np.isfinite(frame.to_numpy()).all()


def test_a_dividends_file_stores_only_corporate_actions(tmp_path: Path, store: BarStore) -> None:
    path = write(
        tmp_path,
        "sp500_dividends.csv",
        "date,ticker,dividend_amount\n2020-08-07,AAPL,0.82\n2020-11-06,AAPL,0.205\n2020-11-06,AAPL,0.205\n"
        "2020-11-09,AAPL,-1\n",
    )
    report = import_prices([path], store)
    assert report.files[0].layout == "actions"
    assert (report.rows_read, report.rows_accepted, report.inserted) == (4, 2, 2)
    assert report.rejections == {"duplicate date": 1, "negative dividend": 1}
    assert store.symbols() == []
    assert [(a.ex_date, a.value) for a in store.actions("AAPL")] == [
        (date(2020, 8, 7), Decimal("0.82")),
        (date(2020, 11, 6), Decimal("0.205")),
    ]
    again = import_prices([path], store)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_a_splits_file_for_one_ticker_takes_the_ticker_from_its_name(tmp_path: Path, store: BarStore) -> None:
    path = write(tmp_path, "AAPL_splits.csv", "date,split_coefficient\n2020-08-31,4.0\n2014-06-09,7.0\n")
    report = import_prices([path], store)
    assert report.ok and report.symbols == ["AAPL"]
    assert [(a.ex_date, a.kind, a.value) for a in store.actions("AAPL")] == [
        (date(2014, 6, 9), CorporateActionKind.SPLIT, Decimal("7.0")),
        (date(2020, 8, 31), CorporateActionKind.SPLIT, Decimal("4.0")),
    ]


def test_a_long_file_with_repeated_values_is_checked_row_by_row(tmp_path: Path, store: BarStore) -> None:
    # large enough for the once-per-distinct-text parsing of dates and dividends
    days = pd.bdate_range("2000-01-03", periods=3_000)
    lines = [LONG_HEADER.strip()]
    for symbol in ("AAA", "BBB", "CCC", "DDD"):
        lines += [f"{d:%Y-%m-%d},{symbol},10,11,9,10.5,10.5,100,0.0,1.0" for d in days]
    lines[5] = lines[5].replace(",0.0,1.0", ",abc,1.0")
    lines[6000] = "2000-02-30" + lines[6000][10:]
    lines[7000] = lines[7000].replace(",0.0,1.0", ",0.25,1.0")
    path = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    report = import_prices([path], store)
    assert report.rows_read == 12_000
    assert report.rejections == {"unparseable number": 1, "unparseable date": 1}
    assert {s.line: s.reason for s in report.samples} == {
        6: "dividend 'abc' is not a number",
        6001: "date '2000-02-30' does not parse as YYYY-MM-DD",
    }
    (dividend,) = store.actions()
    assert (dividend.symbol, dividend.value) == ("CCC", Decimal("0.25"))
