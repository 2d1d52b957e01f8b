"""`FilesMarketData`: the MarketData source that serves what `import_prices` put in the bar store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

import pandas as pd

from marketdesk.errors import UnknownSymbol
from marketdesk.kit.money import to_decimal
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.port import (
    AssetClass,
    CorporateAction,
    DataCapabilities,
    DataKind,
    MarketDataBase,
    Quote,
    SymbolInfo,
    check_range,
)

SESSION_CLOSE = time(16, 0)
"""A stored bar's quote is stamped at that session's regular close in New York."""


class FilesMarketData(MarketDataBase):
    """Imported files as a data source: symbols, daily bars, splits and dividends, and the last close as quote.

    >>> source = FilesMarketData(BarStore(data_dir / "bars"))  # doctest: +SKIP
    >>> source.quote("SPY").last  # doctest: +SKIP
    Decimal('371.98999')
    """

    name = "files"
    capabilities = DataCapabilities(
        kinds=frozenset({DataKind.SYMBOLS, DataKind.BARS, DataKind.CORPORATE_ACTIONS, DataKind.QUOTES})
    )

    def __init__(self, store: BarStore, instruments: Mapping[str, SymbolInfo] | None = None) -> None:
        """Serve `store`; `instruments` (e.g. from the repository) names the symbols it knows."""
        self.store = store
        self.instruments = dict(instruments or {})

    def symbols(self) -> list[SymbolInfo]:
        """Every symbol with stored bars, described by `instruments` where known; else named by its ticker."""
        return [self.instruments.get(symbol) or _unnamed(symbol) for symbol in self.store.symbols()]

    def bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Stored daily bars of `symbol` from `start` to `end`, both included."""
        check_range(start, end)
        frame = self.store.read(symbol, start, end)
        if frame.empty:
            self._require_known(symbol)
        return frame

    def quote(self, symbol: str) -> Quote:
        """The last stored close as a quote, stamped at that session's 16:00 New York close."""
        coverage = self.store.coverage(symbol)
        if not coverage:
            raise UnknownSymbol(symbol, source=self.name)
        last_day = coverage[0].last
        recent = self.store.read(symbol).tail(2)  # the last bar, and the one before for the previous close
        last = recent.iloc[-1]
        previous = to_decimal(float(recent["close"].iloc[-2]), field="close") if len(recent) > 1 else None
        stamp = datetime.combine(last_day, SESSION_CLOSE, tzinfo=NEW_YORK).astimezone(UTC)
        return Quote(
            symbol=symbol,
            ts=stamp,
            last=to_decimal(float(last["close"]), field="close"),
            volume=None if pd.isna(last["volume"]) else int(last["volume"]),
            prev_close=previous,
            source=self.name,
        )

    def corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        """Stored splits and dividends of `symbol` with ex-dates from `start` to `end`."""
        check_range(start, end)
        actions = self.store.actions(symbol, start, end)
        if not actions:
            self._require_known(symbol)
        return actions

    def _require_known(self, symbol: str) -> None:
        if not self.store.coverage(symbol):
            raise UnknownSymbol(symbol, source=self.name)


def _unnamed(symbol: str) -> SymbolInfo:
    return SymbolInfo(symbol, symbol, asset_class=AssetClass.INDEX if symbol.startswith("^") else AssetClass.EQUITY)
