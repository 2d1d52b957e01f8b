"""The market-data service: the one place transports ask for symbols, bars, quotes, statistics, watchlists,
and where fetched or simulated data is stored. Takes a session per call; never commits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.clock import Clock
from marketdesk.errors import MarketdeskError, NotFound, Rejected, Temporary, UnknownSymbol, Unsupported
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.marketdata.barstore import BarStore, Coverage
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.port import (
    BAR_COLUMNS,
    CorporateAction,
    DataKind,
    EarningsEvent,
    Fundamentals,
    MarketData,
    Quote,
    SymbolInfo,
    check_range,
)
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.marketdata.stats import KeyStats, key_statistics

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-^=]{0,14}$")
DEFAULT_WATCHLIST = "Main"
Progress = Callable[[int, int], None]


def normalize_symbol(text: str) -> str:
    """Upper-case and check a ticker; refuse anything that cannot be one."""
    symbol = text.strip().upper()
    if not _SYMBOL.match(symbol):
        raise Rejected(
            f"{text!r} is not a ticker symbol",
            hint="Use letters, digits and . - ^ = only, up to 15 characters (e.g. AAPL, BRK.B, ^GSPC).",
        )
    return symbol


@dataclass(frozen=True)
class SymbolPage:
    items: list[SymbolInfo]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class WatchlistView:
    name: str
    symbols: list[str]


@dataclass
class FetchReport:
    """What a fetch from a provider stored."""

    provider: str
    symbols: list[str] = field(default_factory=list)
    bars_inserted: int = 0
    bars_updated: int = 0
    bars_unchanged: int = 0
    fundamentals: int = 0
    earnings: int = 0
    actions: int = 0
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SymbolCoverage:
    symbol: str
    first: date
    last: date
    bars: int
    fundamentals: int
    earnings: int


class MarketDataService:
    """Symbols, bars, quotes and key statistics, from the bar store first and the source chain second."""

    def __init__(
        self,
        source: MarketData,
        store: BarStore,
        clock: Clock,
        calendar: ExchangeCalendar,
        *,
        live_quotes: Callable[[str], Quote | None] | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.clock = clock
        self.calendar = calendar
        self._live_quotes = live_quotes

    def attach_live_quotes(self, lookup: Callable[[str], Quote | None]) -> None:
        """Let quotes come from the live ticker first (the quote hub calls this at start-up)."""
        self._live_quotes = lookup

    # ---- symbols ---------------------------------------------------------------------------------------

    async def search(
        self,
        session: AsyncSession,
        query: str | None = None,
        *,
        asset_class: str | None = None,
        sector: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> SymbolPage:
        """Instruments whose symbol or name contains `query`, a page at a time."""
        if not 1 <= limit <= 1000:
            raise Rejected(f"limit {limit} is out of range", hint="Use a limit from 1 to 1000.")
        if offset < 0:
            raise Rejected("offset must not be negative")
        rows = await MarketDataRepository(session).instruments(
            asset_class=asset_class, sector=sector, search=query.strip() if query else None
        )
        if query:
            needle = query.strip().upper()
            rows.sort(key=lambda i: (i.symbol != needle, not i.symbol.startswith(needle), i.symbol))
        return SymbolPage(rows[offset : offset + limit], len(rows), limit, offset)

    async def symbol(self, session: AsyncSession, symbol: str) -> SymbolInfo:
        """One instrument; `UnknownSymbol` when neither the database nor the bar store knows it."""
        symbol = normalize_symbol(symbol)
        info = await MarketDataRepository(session).instrument(symbol)
        if info is not None:
            return info
        if self.store.coverage(symbol):
            return SymbolInfo(symbol=symbol, name=symbol)
        raise UnknownSymbol(symbol)

    # ---- bars ------------------------------------------------------------------------------------------

    async def bars(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Daily bars from the bar store; fetched from the source (and stored) when the store has none."""
        symbol = normalize_symbol(symbol)
        end = end or self.clock.now().astimezone(NEW_YORK).date()
        start = start or end - timedelta(days=365 * 5)
        check_range(start, end)
        stored = await asyncio.to_thread(self.store.read, symbol, start, end)
        if len(stored):
            return stored
        if not await asyncio.to_thread(self.store.coverage, symbol) and DataKind.BARS in self.source.capabilities.kinds:
            fetched = await asyncio.to_thread(self.source.bars, symbol, start, end)
            if len(fetched) and not fetched.attrs.get("stale"):
                frame = fetched.reset_index()
                frame.insert(0, "symbol", symbol)
                await asyncio.to_thread(self.store.write, frame[["symbol", "date", *BAR_COLUMNS]])
            return fetched
        if not await asyncio.to_thread(self.store.coverage, symbol):
            raise UnknownSymbol(symbol)
        return stored

    # ---- quotes ----------------------------------------------------------------------------------------

    async def quote(self, symbol: str) -> Quote:
        """The latest quote: live ticker first, then the source, then the last stored close (marked stale)."""
        symbol = normalize_symbol(symbol)
        if self._live_quotes is not None:
            live = self._live_quotes(symbol)
            if live is not None:
                return live
        if DataKind.QUOTES in self.source.capabilities.kinds:
            try:
                return await asyncio.to_thread(self.source.quote, symbol)
            except UnknownSymbol:
                if not self.store.coverage(symbol):
                    raise
            except (Temporary, Unsupported):
                pass
        return await self._quote_from_store(symbol)

    async def _quote_from_store(self, symbol: str) -> Quote:
        bars = await asyncio.to_thread(self.store.read, symbol)
        if not len(bars):
            raise UnknownSymbol(symbol)
        last = bars.iloc[-1]
        prev = bars["close"].iloc[-2] if len(bars) > 1 else None
        session_day = bars.index[-1].date()
        closed_at = datetime.combine(session_day, time(16, 0), NEW_YORK).astimezone(UTC)
        return Quote(
            symbol=symbol,
            ts=closed_at,
            last=Decimal(str(last["close"])),
            prev_close=Decimal(str(prev)) if prev is not None else None,
            volume=int(last["volume"]) if pd.notna(last["volume"]) else None,
            source="store",
            stale=True,
        )

    async def quotes(self, symbols: Sequence[str]) -> list[Quote]:
        """Quotes for many symbols; unknown symbols are left out rather than failing the batch."""
        out: list[Quote] = []
        for symbol in symbols:
            try:
                out.append(await self.quote(symbol))
            except UnknownSymbol:
                continue
        return out

    # ---- statistics ------------------------------------------------------------------------------------

    async def key_stats(self, session: AsyncSession, symbol: str) -> KeyStats:
        symbol = normalize_symbol(symbol)
        await self.symbol(session, symbol)
        bars = await asyncio.to_thread(self.store.read, symbol)
        fundamentals = await MarketDataRepository(session).fundamentals(symbol)
        actions = await asyncio.to_thread(self.store.actions, symbol)
        try:
            quote: Quote | None = await self.quote(symbol)
        except MarketdeskError:
            quote = None
        return key_statistics(bars, fundamentals, actions, quote)

    async def fundamentals(self, session: AsyncSession, symbol: str) -> list[Fundamentals]:
        return await MarketDataRepository(session).fundamentals(normalize_symbol(symbol))

    async def earnings(self, session: AsyncSession, symbol: str) -> list[EarningsEvent]:
        return await MarketDataRepository(session).earnings(normalize_symbol(symbol))

    async def actions(self, symbol: str) -> list[CorporateAction]:
        return await asyncio.to_thread(self.store.actions, normalize_symbol(symbol))

    # ---- storing what a provider gives -----------------------------------------------------------------

    async def fetch(
        self,
        session: AsyncSession,
        provider: MarketData,
        symbols: Sequence[str],
        *,
        start: date,
        end: date,
        progress: Progress | None = None,
    ) -> FetchReport:
        """Fetch what `provider` offers for `symbols` and store it. A failing symbol is reported, not fatal."""
        check_range(start, end)
        wanted = [normalize_symbol(s) for s in symbols]
        if not wanted:
            raise Rejected("name at least one symbol to fetch")
        report = FetchReport(provider=provider.name)
        repository = MarketDataRepository(session)
        kinds = provider.capabilities.kinds
        now = self.clock.now()
        for done, symbol in enumerate(wanted, start=1):
            try:
                await self._fetch_one(repository, provider, kinds, symbol, start, end, report, now)
                report.symbols.append(symbol)
            except MarketdeskError as exc:
                report.failures[symbol] = exc.one_line()
            if progress is not None:
                progress(done, len(wanted))
        return report

    async def _fetch_one(
        self,
        repository: MarketDataRepository,
        provider: MarketData,
        kinds: frozenset[DataKind],
        symbol: str,
        start: date,
        end: date,
        report: FetchReport,
        now: datetime,
    ) -> None:
        if DataKind.BARS in kinds:
            bars = await asyncio.to_thread(provider.bars, symbol, start, end)
            if len(bars):
                frame = bars.reset_index()
                frame.insert(0, "symbol", symbol)
                written = await asyncio.to_thread(self.store.write, frame[["symbol", "date", *BAR_COLUMNS]])
                report.bars_inserted += written.inserted
                report.bars_updated += written.updated
                report.bars_unchanged += written.unchanged
        if DataKind.CORPORATE_ACTIONS in kinds:
            actions = await asyncio.to_thread(provider.corporate_actions, symbol, start, end)
            report.actions += await asyncio.to_thread(self.store.write_actions, actions)
        if DataKind.FUNDAMENTALS in kinds:
            report.fundamentals += await repository.upsert_fundamentals(
                await asyncio.to_thread(provider.fundamentals, symbol)
            )
        if DataKind.EARNINGS in kinds:
            report.earnings += await repository.upsert_earnings(
                await asyncio.to_thread(provider.earnings, symbol, start, end)
            )
        known = await repository.instrument(symbol)
        if known is None:
            await repository.upsert_instruments([SymbolInfo(symbol=symbol, name=symbol)], source=provider.name, now=now)

    async def load_bulk(
        self,
        session: AsyncSession,
        *,
        source: str,
        infos: Sequence[SymbolInfo],
        history: pd.DataFrame | None = None,
        fundamentals: Sequence[Fundamentals] = (),
        earnings: Sequence[EarningsEvent] = (),
        actions: Sequence[CorporateAction] = (),
    ) -> FetchReport:
        """Store a whole market at once (the simulated market at start-up): instruments, bars, actions,
        fundamentals and earnings. Re-loading the same data changes nothing."""
        report = FetchReport(provider=source, symbols=[i.symbol for i in infos])
        repository = MarketDataRepository(session)
        await repository.upsert_instruments(infos, source=source, now=self.clock.now())
        if history is not None and len(history):
            written = await asyncio.to_thread(self.store.write, history)
            report.bars_inserted, report.bars_updated, report.bars_unchanged = (
                written.inserted,
                written.updated,
                written.unchanged,
            )
        report.actions = await asyncio.to_thread(self.store.write_actions, actions)
        report.fundamentals = await repository.upsert_fundamentals(fundamentals)
        report.earnings = await repository.upsert_earnings(earnings)
        return report

    # ---- coverage --------------------------------------------------------------------------------------

    async def coverage(self, session: AsyncSession, symbol: str | None = None) -> list[SymbolCoverage]:
        """Per symbol: the bar history held, and how many fundamentals and earnings rows."""
        wanted = normalize_symbol(symbol) if symbol else None
        bars: list[Coverage] = await asyncio.to_thread(self.store.coverage, wanted)
        if wanted and not bars:
            raise UnknownSymbol(wanted)
        counts = await MarketDataRepository(session).row_counts([c.symbol for c in bars] if wanted else None)
        return [
            SymbolCoverage(
                c.symbol, c.first, c.last, c.rows, counts.get(c.symbol, (0, 0))[0], counts.get(c.symbol, (0, 0))[1]
            )
            for c in bars
        ]

    # ---- watchlists ------------------------------------------------------------------------------------
    # Each call names the owner: a user's id, or None for the desk's shared lists (see the repository).
    # Another user's list is "not found", exactly like one that does not exist.

    async def watchlists(self, session: AsyncSession, *, owner_id: str | None) -> list[WatchlistView]:
        repository = MarketDataRepository(session)
        return [
            WatchlistView(w.name, await repository.watchlist_symbols(w.id, owner_id=owner_id))
            for w in await repository.watchlists(owner_id=owner_id)
        ]

    async def watchlist(self, session: AsyncSession, name: str, *, owner_id: str | None) -> WatchlistView:
        repository = MarketDataRepository(session)
        found = await repository.watchlist_by_name(name, owner_id=owner_id)
        if found is None:
            raise NotFound(f"no watchlist named {name!r}", hint="Create it first, or pick one that exists.")
        return WatchlistView(found.name, await repository.watchlist_symbols(found.id, owner_id=owner_id))

    async def create_watchlist(
        self, session: AsyncSession, name: str, symbols: Sequence[str] = (), *, owner_id: str | None
    ) -> WatchlistView:
        name = name.strip()
        if not 1 <= len(name) <= 64:
            raise Rejected("a watchlist needs a name of 1 to 64 characters")
        repository = MarketDataRepository(session)
        if await repository.watchlist_by_name(name, owner_id=owner_id) is not None:
            raise Rejected(f"a watchlist named {name!r} already exists", hint="Pick another name.")
        created = await repository.create_watchlist(name, self.clock.now(), owner_id=owner_id)
        for symbol in symbols:
            await repository.add_to_watchlist(created.id, normalize_symbol(symbol), owner_id=owner_id)
        return await self.watchlist(session, name, owner_id=owner_id)

    async def add_to_watchlist(
        self, session: AsyncSession, name: str, symbol: str, *, owner_id: str | None
    ) -> WatchlistView:
        symbol = normalize_symbol(symbol)
        await self.symbol(session, symbol)  # refuse symbols nobody knows
        repository = MarketDataRepository(session)
        found = await repository.watchlist_by_name(name, owner_id=owner_id)
        if found is None:
            raise NotFound(f"no watchlist named {name!r}")
        await repository.add_to_watchlist(found.id, symbol, owner_id=owner_id)
        return await self.watchlist(session, name, owner_id=owner_id)

    async def remove_from_watchlist(
        self, session: AsyncSession, name: str, symbol: str, *, owner_id: str | None
    ) -> WatchlistView:
        repository = MarketDataRepository(session)
        found = await repository.watchlist_by_name(name, owner_id=owner_id)
        if found is None:
            raise NotFound(f"no watchlist named {name!r}")
        await repository.remove_from_watchlist(found.id, normalize_symbol(symbol), owner_id=owner_id)
        return await self.watchlist(session, name, owner_id=owner_id)

    async def ensure_watchlist(
        self, session: AsyncSession, name: str, symbols: Sequence[str], *, owner_id: str | None
    ) -> WatchlistView:
        """Create `name` with `symbols` unless it exists (the desk's first-run watchlist has owner None)."""
        repository = MarketDataRepository(session)
        if await repository.watchlist_by_name(name, owner_id=owner_id) is None:
            return await self.create_watchlist(session, name, symbols, owner_id=owner_id)
        return await self.watchlist(session, name, owner_id=owner_id)

    async def copy_shared_watchlists(self, session: AsyncSession, *, owner_id: str) -> int:
        """Give a user their own copy of each of the desk's shared lists they do not have; the number copied.

        Called when a user is created (and at start-up for users who have no list yet), so nobody starts
        on an empty dashboard.
        """
        copied = 0
        for shared in await self.watchlists(session, owner_id=None):
            if await MarketDataRepository(session).watchlist_by_name(shared.name, owner_id=owner_id) is None:
                await self.create_watchlist(session, shared.name, shared.symbols, owner_id=owner_id)
                copied += 1
        return copied


def describe_value(value: Any) -> str:
    """Format a number for people: 1.2T, 345.6B, 12.3M, or the plain value."""
    if value is None:
        return "—"
    number = float(value)
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(number) >= threshold:
            return f"{number / threshold:.2f}{suffix}"
    return f"{number:,.2f}"
