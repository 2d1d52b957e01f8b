"""Price and fundamentals layout detection: which column feeds which field, and the errors when none fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketdesk.errors import Rejected
from marketdesk.marketdata.files.fundamental_layouts import detect_fundamentals_layout
from marketdesk.marketdata.files.layouts import PRICE_FIELDS, detect_price_layout, symbol_from_filename
from marketdesk.marketdata.files.options import FileError, ImportOptions

LONG = [
    "date",
    "ticker",
    "open",
    "high",
    "low",
    "close",
    "adjusted_close",
    "volume",
    "dividend_amount",
    "split_coefficient",
]
KAGGLE = ["date", "open", "high", "low", "close", "volume", "Name"]
STOOQ = ["<TICKER>", "<PER>", "<DATE>", "<TIME>", "<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>", "<VOL>", "<OPENINT>"]
YAHOO = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]


def test_a_long_file_maps_every_column_including_actions() -> None:
    layout = detect_price_layout(LONG, Path("prices.csv.gz"), {}, None)
    assert layout.name == "long"
    assert dict(layout.columns) == {
        "date": "date",
        "symbol": "ticker",
        "open": "open",
        "high": "high",
        "low": "low",
        "close": "close",
        "adj_close": "adjusted_close",
        "volume": "volume",
        "dividend": "dividend_amount",
        "split": "split_coefficient",
    }
    assert layout.symbol is None


def test_the_kaggle_name_column_is_the_ticker_and_adj_close_is_noted_as_missing() -> None:
    layout = detect_price_layout(KAGGLE, Path("all_stocks_5yr.csv.gz"), {}, None)
    assert layout.name == "long"
    assert layout.columns["symbol"] == "Name"
    assert "adj_close" not in layout.columns
    assert any("adj_close = close" in line for line in layout.describe())


def test_stooq_headers_are_recognised_and_unused_columns_listed() -> None:
    layout = detect_price_layout(STOOQ, Path("spy_us_daily.csv"), {}, None)
    assert layout.name == "stooq"
    assert layout.strip_us_suffix
    assert layout.columns["volume"] == "<VOL>"
    assert layout.columns["period"] == "<PER>"
    assert layout.ignored == ("<TIME>", "<OPENINT>")


def test_a_yahoo_file_takes_its_ticker_from_the_file_name() -> None:
    layout = detect_price_layout(YAHOO, Path("/data/SPY.csv"), {}, None)
    assert layout.name == "yahoo"
    assert layout.symbol == "SPY"
    assert "from the file name" in layout.symbol_origin


def test_symbol_option_names_a_one_ticker_file() -> None:
    layout = detect_price_layout(YAHOO, Path("gspc_daily_yahoo_1927.csv"), {}, "^gspc")
    assert layout.symbol == "^GSPC"
    assert layout.symbol_origin == "given with --symbol"


def test_symbol_option_is_refused_for_a_file_with_a_ticker_column() -> None:
    with pytest.raises(FileError, match="--symbol only names one-ticker files"):
        detect_price_layout(LONG, Path("prices.csv"), {}, "AAPL")


def test_a_date_and_close_file_is_a_one_ticker_file_with_notes_on_what_is_filled() -> None:
    layout = detect_price_layout(["Day", "Last"], Path("QQQ.csv"), {"date": "Day"}, None)
    assert layout.name == "one-ticker"
    assert layout.columns == {"date": "Day", "close": "Last"}
    text = " ".join(layout.describe())
    assert "open/high/low" in text and "volume = 0" in text and "--map: date" in text


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("SPY.csv", "SPY"),
        ("^GSPC.csv", "^GSPC"),
        ("GSPC.csv", "GSPC"),
        ("spy.us.txt", "SPY"),
        ("gspc_daily_yahoo_1927-12-30_2020-06-05.csv", "GSPC"),
        ("sp500tr_daily_yahoo_1988.csv.gz", "SP500TR"),
        ("AAPL_data.parquet", "AAPL"),
        ("brk.b.csv", "BRK.B"),
    ],
)
def test_symbol_from_filename(name: str, symbol: str) -> None:
    assert symbol_from_filename(Path(name)) == symbol


def test_a_file_name_that_is_no_ticker_asks_for_symbol() -> None:
    with pytest.raises(FileError) as caught:
        symbol_from_filename(Path("#1 prices (final).csv"))
    assert "--symbol" in caught.value.one_line()


def test_map_overrides_a_detected_column() -> None:
    layout = detect_price_layout(YAHOO, Path("SPY.csv"), {"close": "Adj Close"}, None)
    assert layout.columns["close"] == "Adj Close"
    assert layout.mapped == ("close",)


def test_map_to_a_missing_column_names_the_columns_found() -> None:
    with pytest.raises(FileError) as caught:
        detect_price_layout(YAHOO, Path("SPY.csv"), {"close": "Last"}, None)
    message = caught.value.one_line()
    assert "'Last'" in message and "Adj Close" in message


def test_an_unknown_layout_names_the_columns_the_layouts_and_map() -> None:
    with pytest.raises(FileError) as caught:
        detect_price_layout(["when", "value"], Path("x.csv"), {}, None)
    message = caught.value.one_line()
    assert "columns found: when, value" in message
    assert "Stooq" in message and "Yahoo" in message and "long" in message
    assert "--map date=" in message


def test_a_file_without_a_date_column_is_an_unknown_layout() -> None:
    with pytest.raises(FileError, match="unrecognised price layout"):
        detect_price_layout(["ticker", "close"], Path("x.csv"), {}, None)


def test_unknown_map_fields_are_refused_up_front() -> None:
    with pytest.raises(Rejected) as caught:
        ImportOptions(column_map={"closing": "Close"}).check(PRICE_FIELDS)
    assert "closing" in caught.value.one_line() and "adj_close" in caught.value.one_line()


def test_a_date_format_without_directives_is_refused() -> None:
    with pytest.raises(Rejected, match="no % directive"):
        ImportOptions(date_format="DD/MM/YYYY").check(PRICE_FIELDS)


@pytest.mark.parametrize(
    ("columns", "layout"),
    [
        (["dates", "eps_estimate", "eps_actual", "eps_pct_diff", "ticker", "country", "category"], "earnings"),
        (["", "Ticker Symbol", "Period Ending", "Total Revenue", "Total Assets", "Net Income"], "10-K"),
        (["fund_name", "fund_extended_name", "net_assets", "net_annual_expense_ratio_fund"], "etf"),
        (["Symbol", "Name", "Sector", "Price", "Price/Earnings", "Market Cap", "52 Week Low"], "snapshot"),
        (["snapshot_date", "Symbol", "Name", "Price", "Price/Earnings", "Market Cap"], "snapshot"),
        (["Symbol", "Security", "GICS Sector", "GICS Sub-Industry"], "constituents"),
        (["Ticker Symbol", "Security", "SEC filings", "GICS Sector", "GICS Sub Industry"], "constituents"),
        (["Symbol", "Name", "Sector"], "constituents"),
        (["symbol", "period_end", "revenue", "eps"], "generic"),
    ],
)
def test_fundamentals_layouts_are_recognised(columns: list[str], layout: str) -> None:
    assert detect_fundamentals_layout(columns, {}).name == layout


def test_the_snapshot_layout_maps_the_52_week_columns() -> None:
    layout = detect_fundamentals_layout(
        ["Symbol", "Price", "Price/Earnings", "Market Cap", "52 Week Low", "52 Week High"], {}
    )
    assert layout.columns["week52_low"] == "52 Week Low"
    assert layout.columns["week52_high"] == "52 Week High"


def test_an_unknown_fundamentals_layout_names_columns_and_map() -> None:
    with pytest.raises(FileError) as caught:
        detect_fundamentals_layout(["a", "b"], {})
    message = caught.value.one_line()
    assert "columns found: a, b" in message and "10-K" in message and "--map" in message


def test_map_makes_a_fundamentals_file_readable() -> None:
    layout = detect_fundamentals_layout(["Ticker", "Sales", "FY end"], {"revenue": "Sales", "date": "FY end"})
    assert layout.name == "generic"
    assert layout.columns == {"symbol": "Ticker", "date": "FY end", "revenue": "Sales"}


def test_map_of_a_number_onto_a_constituents_list_is_refused() -> None:
    with pytest.raises(FileError, match="does not apply to the constituents layout"):
        detect_fundamentals_layout(["Symbol", "Name", "Sector", "Rev"], {"revenue": "Rev"})
