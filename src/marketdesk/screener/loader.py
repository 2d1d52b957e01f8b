"""Load `UniverseData` from the desk's storage, point-in-time, with a small cache.

The cache key includes a fingerprint of the bar store's files and the database's fundamentals count, so
an import or a fetch is seen by the next screen without any explicit invalidation.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.errors import MarketdeskError, Rejected
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.port import TREASURY_TENORS, DataKind, MarketData, SymbolInfo
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.screener.model import UniverseData
from marketdesk.screener.universe import HISTORY_SESSIONS, PRICE_FIELDS, assemble_universe

CACHE_ENTRIES = 8
HISTORY_CALENDAR_DAYS = int(HISTORY_SESSIONS * 1.5) + 10


@dataclass(frozen=True)
class LoadedUniverse:
    data: UniverseData
    instruments: tuple[SymbolInfo, ...]


class UniverseLoader:
    """Builds and caches UniverseData for (symbols, as_of)."""

    def __init__(self, store: BarStore, source: MarketData, benchmark_symbol: str | None) -> None:
        self.store = store
        self.source = source
        self.benchmark_symbol = benchmark_symbol
        self._cache: OrderedDict[tuple[object, ...], LoadedUniverse] = OrderedDict()
        self._lock = asyncio.Lock()

    async def load(self, session: AsyncSession, symbols: Sequence[str], as_of: date) -> LoadedUniverse:
        """UniverseData for `symbols` on `as_of`; instruments the desk does not know are left out."""
        repository = MarketDataRepository(session)
        key = (tuple(sorted(symbols)), as_of, self.store.fingerprint(), await repository.fundamentals_count())
        async with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            loaded = await self._build(repository, sorted(symbols), as_of)
            self._cache[key] = loaded
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
            return loaded

    async def _build(self, repository: MarketDataRepository, symbols: list[str], as_of: date) -> LoadedUniverse:
        known = {i.symbol: i for i in await repository.instruments()}
        with_bars = set(await asyncio.to_thread(self.store.symbols))
        instruments = [known.get(s) or SymbolInfo(s, s) for s in symbols if s in known or s in with_bars]
        if not instruments:
            raise Rejected("the universe has no symbols with data", hint="Import prices or pick another universe.")
        benchmark = self.benchmark_symbol or _guess_benchmark(known, with_bars)
        wanted = sorted({i.symbol for i in instruments} | ({benchmark} if benchmark else set()))
        start = as_of - timedelta(days=HISTORY_CALENDAR_DAYS)
        prices = {}
        for field in PRICE_FIELDS:
            prices[field] = await asyncio.to_thread(self.store.read_matrix, wanted, field=field, start=start, end=as_of)
        fundamentals = await repository.fundamentals_of([i.symbol for i in instruments])
        actions = await asyncio.to_thread(self.store.actions, None, None, as_of)
        data = assemble_universe(
            as_of,
            instruments,
            prices,
            fundamentals,
            benchmark_symbol=benchmark or "",
            yields=await self._yields(as_of),
            actions=actions,
        )
        return LoadedUniverse(data, tuple(instruments))

    async def _yields(self, as_of: date) -> dict[str, float]:
        if DataKind.RATES not in self.source.capabilities.kinds:
            return {}
        try:
            frame = await asyncio.to_thread(self.source.yields, as_of - timedelta(days=14), as_of)
        except MarketdeskError:  # a curve is a nice-to-have: the regime votes 0 on the curve without it
            return {}
        if frame.empty:
            return {}
        latest = frame.iloc[-1]
        return {
            tenor: float(latest[tenor])
            for tenor in TREASURY_TENORS
            if tenor in latest and latest[tenor] == latest[tenor]
        }


def _guess_benchmark(known: dict[str, SymbolInfo], with_bars: set[str]) -> str | None:
    # imported real data: SPY, else the S&P 500 index
    for candidate in ("SPY", "^GSPC", "GSPC", "VOO", "IVV"):
        if candidate in with_bars:
            return candidate
    return None
