"""The files adapter against the MarketData contract, serving a small synthetic import."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contract.marketdata_contract import ContractSample, MarketDataContract
from marketdesk.errors import UnknownSymbol
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import FilesMarketData, import_prices
from marketdesk.marketdata.port import AssetClass, CorporateActionKind, SymbolInfo

SESSIONS = pd.bdate_range("2021-03-01", "2021-04-30")


def _synthetic_file(folder: Path) -> Path:
    """Two tickers over two months; AAA pays 0.25 on 2021-03-15 and splits 2:1 on 2021-04-01."""
    rng = np.random.default_rng(7)
    lines = ["date,ticker,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient"]
    for symbol, start in (("AAA", 100.0), ("BBB", 50.0)):
        closes = start * np.exp(np.cumsum(rng.normal(0, 0.01, len(SESSIONS))))
        for day, close in zip(SESSIONS, closes, strict=True):
            dividend = "0.25" if symbol == "AAA" and day == pd.Timestamp("2021-03-15") else "0.0"
            split = "2.0" if symbol == "AAA" and day == pd.Timestamp("2021-04-01") else "1.0"
            opened = round(close * 0.995, 2)
            lines.append(
                f"{day:%Y-%m-%d},{symbol},{opened},{round(close * 1.01, 2)},{round(close * 0.99, 2)},"
                f"{round(close, 2)},{round(close, 2)},{1000 + day.day},{dividend},{split}"
            )
    path = folder / "synthetic.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    store = BarStore(tmp_path / "bars")
    report = import_prices([_synthetic_file(tmp_path)], store)
    assert report.ok and report.rows_accepted == 2 * len(SESSIONS)
    return store


@pytest.fixture
def source(store: BarStore) -> FilesMarketData:
    return FilesMarketData(store)


@pytest.fixture
def sample() -> ContractSample:
    return ContractSample("AAA", date(2021, 3, 1), date(2021, 4, 30))


class TestFilesContract(MarketDataContract):
    pass


def test_symbols_are_what_the_store_holds(source: FilesMarketData) -> None:
    infos = source.symbols()
    assert [(i.symbol, i.name, i.asset_class) for i in infos] == [
        ("AAA", "AAA", AssetClass.EQUITY),
        ("BBB", "BBB", AssetClass.EQUITY),
    ]


def test_known_instruments_name_their_symbols(store: BarStore) -> None:
    known = {"AAA": SymbolInfo("AAA", "Triple A Inc.", sector="Energy")}
    infos = FilesMarketData(store, instruments=known).symbols()
    assert [(i.symbol, i.name, i.sector) for i in infos] == [("AAA", "Triple A Inc.", "Energy"), ("BBB", "BBB", None)]


def test_the_quote_is_the_last_close_at_the_new_york_close(source: FilesMarketData, store: BarStore) -> None:
    bars = store.read("BBB")
    quote = source.quote("BBB")
    assert quote.ts == datetime(2021, 4, 30, 20, 0, tzinfo=UTC)  # 16:00 EDT
    assert quote.last == Decimal(repr(float(bars["close"].iloc[-1])))
    assert quote.prev_close == Decimal(repr(float(bars["close"].iloc[-2])))
    assert quote.volume == int(bars["volume"].iloc[-1])
    assert not quote.stale and quote.source == "files"


def test_a_winter_quote_is_stamped_at_21_utc(tmp_path: Path) -> None:
    path = tmp_path / "SPY.csv"
    path.write_text("Date,Close\n2020-12-30,371.99\n")
    store = BarStore(tmp_path / "winter")
    import_prices([path], store)
    quote = FilesMarketData(store).quote("SPY")
    assert quote.ts == datetime(2020, 12, 30, 21, 0, tzinfo=UTC)
    assert quote.last == Decimal("371.99") and quote.prev_close is None


def test_corporate_actions_come_from_the_import(source: FilesMarketData) -> None:
    actions = source.corporate_actions("AAA", date(2021, 3, 1), date(2021, 4, 30))
    assert [(a.ex_date, a.kind, a.value) for a in actions] == [
        (date(2021, 3, 15), CorporateActionKind.DIVIDEND, Decimal("0.25")),
        (date(2021, 4, 1), CorporateActionKind.SPLIT, Decimal("2.0")),
    ]
    assert source.corporate_actions("BBB", date(2021, 3, 1), date(2021, 4, 30)) == []


def test_unknown_symbols_are_refused_everywhere(source: FilesMarketData) -> None:
    for call in (
        lambda: source.quote("NOPE"),
        lambda: source.corporate_actions("NOPE", date(2021, 3, 1), date(2021, 3, 2)),
        lambda: source.bars("NOPE", date(2021, 3, 1), date(2021, 3, 2)),
    ):
        with pytest.raises(UnknownSymbol):
            call()


def test_a_range_without_bars_is_empty_not_unknown(source: FilesMarketData) -> None:
    assert source.bars("AAA", date(2010, 1, 1), date(2010, 12, 31)).empty
