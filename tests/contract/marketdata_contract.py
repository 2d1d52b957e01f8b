"""The MarketData contract: every adapter's test module subclasses `MarketDataContract`
(`from contract.marketdata_contract import ContractSample, MarketDataContract`).

A subclass provides two fixtures:
- `source`: the adapter, ready to answer for the sample (online adapters replay recorded responses);
- `sample`: a `ContractSample` naming a symbol and a date range the source has data for.

A kind the adapter declares must answer soundly; a kind it does not declare must raise `Unsupported`.
No test here is skipped: each checks one of those two things.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from marketdesk.errors import Rejected, UnknownSymbol, Unsupported
from marketdesk.marketdata.port import (
    TREASURY_TENORS,
    AssetClass,
    CorporateActionKind,
    DataKind,
    MarketData,
    SymbolInfo,
    validate_bars,
)


@dataclass(frozen=True)
class ContractSample:
    symbol: str
    start: date
    end: date
    unknown_symbol: str = "ZZZZNOTREAL"


class MarketDataContract:
    def test_is_a_market_data_source(self, source: MarketData) -> None:
        assert isinstance(source, MarketData)
        assert source.name
        assert source.capabilities.kinds, "a source must provide at least one kind"

    def test_symbols(self, source: MarketData) -> None:
        if DataKind.SYMBOLS not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.symbols()
            return
        infos = source.symbols()
        assert infos, "a source that lists symbols lists at least one"
        assert all(isinstance(i, SymbolInfo) and i.symbol and i.name for i in infos)
        assert all(isinstance(i.asset_class, AssetClass) for i in infos)
        assert len({i.symbol for i in infos}) == len(infos), "symbols are unique"

    def test_bars(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.BARS not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.bars(sample.symbol, sample.start, sample.end)
            return
        bars = source.bars(sample.symbol, sample.start, sample.end)
        assert validate_bars(bars) == []
        assert len(bars) > 0
        assert bars.index.min() >= pd.Timestamp(sample.start)
        assert bars.index.max() <= pd.Timestamp(sample.end)

    def test_bars_of_an_unknown_symbol_raise_unknown_symbol(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.BARS not in source.capabilities.kinds:
            return
        with pytest.raises(UnknownSymbol):
            source.bars(sample.unknown_symbol, sample.start, sample.end)

    def test_an_inverted_date_range_is_rejected(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.BARS not in source.capabilities.kinds:
            return
        with pytest.raises(Rejected):
            source.bars(sample.symbol, sample.end, sample.start)

    def test_quote(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.QUOTES not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.quote(sample.symbol)
            return
        quote = source.quote(sample.symbol)
        assert quote.symbol == sample.symbol
        assert isinstance(quote.last, Decimal) and quote.last > 0
        assert isinstance(quote.ts, datetime) and quote.ts.tzinfo is not None
        if quote.bid is not None and quote.ask is not None:
            assert quote.bid <= quote.ask

    def test_fundamentals(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.FUNDAMENTALS not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.fundamentals(sample.symbol)
            return
        records = source.fundamentals(sample.symbol)
        assert records
        assert all(r.symbol == sample.symbol for r in records)
        assert [r.period_end for r in records] == sorted(r.period_end for r in records)
        assert all(r.reported is None or r.reported >= r.period_end for r in records)

    def test_corporate_actions(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.CORPORATE_ACTIONS not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.corporate_actions(sample.symbol, sample.start, sample.end)
            return
        actions = source.corporate_actions(sample.symbol, sample.start, sample.end)
        for action in actions:
            assert action.symbol == sample.symbol
            assert sample.start <= action.ex_date <= sample.end
            assert isinstance(action.value, Decimal) and action.value > 0
            assert isinstance(action.kind, CorporateActionKind)

    def test_earnings(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.EARNINGS not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.earnings(sample.symbol, sample.start, sample.end)
            return
        events = source.earnings(sample.symbol, sample.start, sample.end)
        assert events
        for event in events:
            assert event.symbol == sample.symbol
            assert sample.start <= event.report_date <= sample.end

    def test_news(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.NEWS not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.news(sample.symbol, sample.start, sample.end)
            return
        items = source.news(sample.symbol, sample.start, sample.end)
        assert items
        for item in items:
            assert item.title and item.published.tzinfo is not None
            assert item.sentiment is None or -1.0 <= item.sentiment <= 1.0

    def test_yields(self, source: MarketData, sample: ContractSample) -> None:
        if DataKind.RATES not in source.capabilities.kinds:
            with pytest.raises(Unsupported):
                source.yields(sample.start, sample.end)
            return
        frame = source.yields(sample.start, sample.end)
        assert len(frame) > 0
        assert set(frame.columns) <= set(TREASURY_TENORS)
        values = frame.to_numpy(dtype=float)
        finite = values[~pd.isna(values)]
        assert ((finite > -5) & (finite < 30)).all(), "yields are percents"
