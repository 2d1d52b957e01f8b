"""Reading a returns or prices file for the CLI: layouts recognised by header, and bad files refused by line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from marketdesk.analytics.files import SeriesKind, read_series_file
from marketdesk.errors import Rejected


def write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path: Path, expect: SeriesKind | None = None) -> str:
    with pytest.raises(Rejected) as caught:
        read_series_file(path, expect=expect)
    return str(caught.value)


def test_a_returns_file_is_read_as_is(tmp_path: Path) -> None:
    found = read_series_file(write(tmp_path, "date,return\n2024-01-02,0.01\n2024-01-03,-0.02\n"))
    assert found.kind is SeriesKind.RETURNS
    assert found.returns.tolist() == [0.01, -0.02]
    assert str(found.returns.index[0].date()) == "2024-01-02"


def test_a_prices_file_becomes_returns_and_yahoo_prefers_the_adjusted_close(tmp_path: Path) -> None:
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,1,1,1,100,50,9\n2024-01-03,1,1,1,110,55,9\n2024-01-04,1,1,1,99,44,9\n"
    found = read_series_file(write(tmp_path, text), expect=SeriesKind.PRICES)
    assert found.column == "Adj Close"
    np.testing.assert_allclose(found.returns.to_numpy(), [0.1, -0.2])


def test_a_stooq_export_with_yyyymmdd_dates_and_a_gzipped_file_are_read(tmp_path: Path) -> None:
    text = (
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
        "SPY.US,D,20240102,000000,1,1,1,400,5,0\nSPY.US,D,20240103,000000,1,1,1,404,5,0\n"
        "SPY.US,D,20240104,000000,1,1,1,402,5,0\n"
    )
    found = read_series_file(write(tmp_path, text, "spy.csv"))
    assert found.kind is SeriesKind.PRICES and found.column == "<CLOSE>"
    assert found.returns.iloc[0] == pytest.approx(0.01)
    packed = tmp_path / "r.csv.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write("date,return\n2024-01-02,0.01\n2024-01-03,0.02\n")
    assert read_series_file(packed).returns.tolist() == [0.01, 0.02]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "series.csv is empty"),
        ("date,return\n", "has a header but no rows"),
        ("day,value\n2024-01-02,0.01\n", "has neither a return nor a close column (header: day,value)"),
        ("when,return\n2024-01-02,0.01\n", "has no date column"),
        ("date,return\n2024-01-02,0.01\n2024-01-03,abc\n", "line 3: the return 'abc' is not a number"),
        ("date,return\n2024-01-02,0.01\n2024-01-03,\n", "line 3: the return is empty"),
        ("date,return\n2024-01-02,0.01\n2024-01-03,1.5%\n", "no % sign"),
        ("date,return\n2024-01-03,0.01\n2024-01-02,0.02\n", "line 3: 2024-01-02 comes after 2024-01-03"),
        ("date,return\n2024-01-02,0.01\n2024-01-02,0.02\n", "line 3: the date 2024-01-02 appears twice"),
        ("date,return\n02/01/2024,0.01\n", "line 2: '02/01/2024' is not a date"),
        ("date,return\n2024-01-02,0.01,7\n", "line 2: 3 fields where the header has 2"),
        ("date,return,close\n2024-01-02,0.01,5\n", "both a return and a price column"),
        ("date,close\n2024-01-02,10\n2024-01-03,-1\n2024-01-04,10\n", "line 3: the price -1 is not positive"),
        ("date,close\n2024-01-02,10\n2024-01-03,11\n", "at least 3"),
    ],
)
def test_bad_files_are_refused_naming_the_line_and_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in refused(write(tmp_path, text))


def test_a_prices_file_given_as_returns_and_the_reverse_are_refused(tmp_path: Path) -> None:
    prices = write(tmp_path, "date,close\n2024-01-02,10\n2024-01-03,11\n2024-01-04,12\n", "p.csv")
    assert "holds prices (column 'close'), not returns. Use --prices." in refused(prices, SeriesKind.RETURNS)
    returns = write(tmp_path, "date,return\n2024-01-02,0.1\n", "r.csv")
    assert "holds returns (column 'return'), not prices. Use --returns." in refused(returns, SeriesKind.PRICES)
    assert "no such file" in refused(tmp_path / "absent.csv")
