"""Queries of the market-data domain: the only place with SQL for instruments, fundamentals, earnings,
universes, watchlists and import runs. Takes a session; never commits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.db import upsert
from marketdesk.marketdata.models import (
    EarningsRecord,
    FundamentalsRecord,
    ImportRun,
    Instrument,
    UniverseMember,
    Watchlist,
    WatchlistItem,
)
from marketdesk.marketdata.port import (
    FUNDAMENTAL_FIELDS,
    AssetClass,
    EarningsEvent,
    Fundamentals,
    SymbolInfo,
)

_INSTRUMENT_COLUMNS = (
    "name",
    "asset_class",
    "exchange",
    "sector",
    "industry",
    "currency",
    "maturity_years",
    "coupon_pct",
    "credit_rating",
    "expense_ratio_pct",
)


class MarketDataRepository:
    """SQL for the market-data tables, scoped to one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- instruments ------------------------------------------------------------------------------------

    async def upsert_instruments(self, infos: Iterable[SymbolInfo], *, source: str, now: datetime) -> int:
        """Insert or refresh instruments. A None field in `infos` never erases a known value."""
        rows = []
        for info in infos:
            row: dict[str, Any] = {"symbol": info.symbol, "source": source, "updated_at": now}
            for column in _INSTRUMENT_COLUMNS:
                value = getattr(info, column)
                row[column] = value.value if isinstance(value, AssetClass) else value
            rows.append(row)
        if not rows:
            return 0
        known = await self._instruments_by_symbol([r["symbol"] for r in rows])
        for row in rows:
            old = known.get(row["symbol"])
            if old is not None:
                for column in _INSTRUMENT_COLUMNS:
                    if row[column] is None:
                        row[column] = getattr(old, column)
        return await upsert(self.session, Instrument.__table__, rows, keys=["symbol"])

    async def _instruments_by_symbol(self, symbols: Sequence[str]) -> dict[str, Instrument]:
        found: dict[str, Instrument] = {}
        for offset in range(0, len(symbols), 900):
            chunk = symbols[offset : offset + 900]
            result = await self.session.scalars(select(Instrument).where(Instrument.symbol.in_(chunk)))
            found.update({i.symbol: i for i in result})
        return found

    async def instrument(self, symbol: str) -> SymbolInfo | None:
        row = await self.session.get(Instrument, symbol)
        return None if row is None else _to_info(row)

    async def instruments(
        self,
        *,
        asset_class: str | None = None,
        sector: str | None = None,
        search: str | None = None,
        source: str | None = None,
    ) -> list[SymbolInfo]:
        query = select(Instrument).order_by(Instrument.symbol)
        if source:
            query = query.where(Instrument.source == source)
        if asset_class:
            query = query.where(Instrument.asset_class == asset_class)
        if sector:
            query = query.where(Instrument.sector == sector)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(func.lower(Instrument.symbol).like(pattern) | func.lower(Instrument.name).like(pattern))
        return [_to_info(row) for row in await self.session.scalars(query)]

    async def instrument_count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Instrument)) or 0)

    # ---- fundamentals -----------------------------------------------------------------------------------

    async def upsert_fundamentals(self, records: Iterable[Fundamentals]) -> int:
        """Insert or replace fundamentals, unique by (symbol, period_end, period, source)."""
        rows = [asdict(r) for r in records]
        return await upsert(
            self.session,
            FundamentalsRecord.__table__,
            rows,
            keys=["symbol", "period_end", "period", "source"],
        )

    async def fundamentals(self, symbol: str, *, known_on: date | None = None) -> list[Fundamentals]:
        """A symbol's fundamentals, oldest first. With `known_on`, only what was public by that date."""
        query = select(FundamentalsRecord).where(FundamentalsRecord.symbol == symbol)
        if known_on is not None:
            known = func.coalesce(FundamentalsRecord.reported, FundamentalsRecord.period_end)
            query = query.where(known <= known_on)
        query = query.order_by(FundamentalsRecord.period_end, FundamentalsRecord.period)
        return [_to_fundamentals(row) for row in await self.session.scalars(query)]

    async def row_counts(self, symbols: Sequence[str] | None = None) -> dict[str, tuple[int, int]]:
        """(fundamentals rows, earnings rows) per symbol."""
        funds = await _count_by_symbol(self.session, FundamentalsRecord, symbols)
        earns = await _count_by_symbol(self.session, EarningsRecord, symbols)
        return {s: (funds.get(s, 0), earns.get(s, 0)) for s in set(funds) | set(earns)}

    async def latest_market_data(self) -> dict[str, tuple[float | None, float | None]]:
        """Per symbol, the latest known (market_cap, shares_outstanding), for size universes."""
        columns = FundamentalsRecord.__table__.c  # the value columns are declared from the port's field list
        query = select(columns.symbol, columns.period_end, columns.market_cap, columns.shares_outstanding).where(
            columns.market_cap.is_not(None) | columns.shares_outstanding.is_not(None)
        )
        latest: dict[str, tuple[date, float | None, float | None]] = {}
        for symbol, period_end, cap, shares in (await self.session.execute(query)).all():
            known = latest.get(symbol)
            if known is None or period_end >= known[0]:
                latest[symbol] = (period_end, cap, shares)
        return {s: (v[1], v[2]) for s, v in latest.items()}

    async def fundamentals_of(self, symbols: Sequence[str] | None = None) -> list[Fundamentals]:
        """Every stored fundamentals record of `symbols` (all when None), oldest first per symbol.

        The caller decides what was known when (see screener.universe.known_from).
        """
        query = select(FundamentalsRecord).order_by(FundamentalsRecord.symbol, FundamentalsRecord.period_end)
        if symbols is None:
            return [_to_fundamentals(row) for row in await self.session.scalars(query)]
        out: list[Fundamentals] = []
        for offset in range(0, len(symbols), 900):
            chunk = list(symbols[offset : offset + 900])
            rows = await self.session.scalars(query.where(FundamentalsRecord.symbol.in_(chunk)))
            out.extend(_to_fundamentals(row) for row in rows)
        return out

    async def fundamentals_count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(FundamentalsRecord)) or 0)

    # ---- earnings ---------------------------------------------------------------------------------------

    async def upsert_earnings(self, events: Iterable[EarningsEvent]) -> int:
        rows = [asdict(e) for e in events]
        return await upsert(self.session, EarningsRecord.__table__, rows, keys=["symbol", "report_date"])

    async def earnings(self, symbol: str, start: date | None = None, end: date | None = None) -> list[EarningsEvent]:
        query = select(EarningsRecord).where(EarningsRecord.symbol == symbol)
        if start is not None:
            query = query.where(EarningsRecord.report_date >= start)
        if end is not None:
            query = query.where(EarningsRecord.report_date <= end)
        rows = await self.session.scalars(query.order_by(EarningsRecord.report_date))
        return [
            EarningsEvent(
                symbol=r.symbol,
                report_date=r.report_date,
                eps_estimate=r.eps_estimate,
                eps_actual=r.eps_actual,
                surprise_pct=r.surprise_pct,
                revenue_estimate=r.revenue_estimate,
                revenue_actual=r.revenue_actual,
                time_of_day=r.time_of_day,
                source=r.source,
            )
            for r in rows
        ]

    # ---- universes ----------------------------------------------------------------------------------------

    async def set_universe(self, name: str, symbols: Iterable[str]) -> int:
        """Replace the members of a stored universe."""
        members = sorted(set(symbols))
        await self.session.execute(delete(UniverseMember).where(UniverseMember.universe == name))
        await upsert(
            self.session,
            UniverseMember.__table__,
            [{"universe": name, "symbol": s} for s in members],
            keys=["universe", "symbol"],
            update=[],
        )
        return len(members)

    async def universe(self, name: str) -> list[str]:
        query = select(UniverseMember.symbol).where(UniverseMember.universe == name).order_by(UniverseMember.symbol)
        return list(await self.session.scalars(query))

    async def universe_sizes(self) -> dict[str, int]:
        query = select(UniverseMember.universe, func.count()).group_by(UniverseMember.universe)
        return {name: int(count) for name, count in (await self.session.execute(query)).all()}

    # ---- watchlists ---------------------------------------------------------------------------------------
    # Watchlists belong to a user. Every query takes `owner_id` as a required keyword: a user's id, or None
    # for the desk's shared lists (the first-run watchlist, the template each new user is given a copy of).
    # No query reaches a list without naming its owner, and item queries join back to the list to check it.

    async def watchlist_by_name(self, name: str, *, owner_id: str | None) -> Watchlist | None:
        return await self.session.scalar(select(Watchlist).where(Watchlist.name == name, _owned_by(owner_id)))

    async def create_watchlist(self, name: str, now: datetime, *, owner_id: str | None) -> Watchlist:
        watchlist = Watchlist(name=name, created_at=now, owner_id=owner_id)
        self.session.add(watchlist)
        await self.session.flush()
        return watchlist

    async def watchlists(self, *, owner_id: str | None) -> list[Watchlist]:
        return list(await self.session.scalars(select(Watchlist).where(_owned_by(owner_id)).order_by(Watchlist.name)))

    async def watchlist_symbols(self, watchlist_id: int, *, owner_id: str | None) -> list[str]:
        query = (
            select(WatchlistItem.symbol)
            .join(Watchlist, Watchlist.id == WatchlistItem.watchlist_id)
            .where(WatchlistItem.watchlist_id == watchlist_id, _owned_by(owner_id))
            .order_by(WatchlistItem.position, WatchlistItem.symbol)
        )
        return list(await self.session.scalars(query))

    async def add_to_watchlist(self, watchlist_id: int, symbol: str, *, owner_id: str | None) -> bool:
        """Append a symbol; False when it is already there or the list is not `owner_id`'s."""
        if not await self._owns(watchlist_id, owner_id):
            return False
        exists = await self.session.get(WatchlistItem, (watchlist_id, symbol))
        if exists is not None:
            return False
        last = await self.session.scalar(
            select(func.max(WatchlistItem.position)).where(WatchlistItem.watchlist_id == watchlist_id)
        )
        self.session.add(WatchlistItem(watchlist_id=watchlist_id, symbol=symbol, position=(last or 0) + 1))
        await self.session.flush()
        return True

    async def remove_from_watchlist(self, watchlist_id: int, symbol: str, *, owner_id: str | None) -> bool:
        """Remove a symbol; False when it was not there or the list is not `owner_id`'s."""
        owned = select(Watchlist.id).where(Watchlist.id == watchlist_id, _owned_by(owner_id))
        result = await self.session.execute(
            delete(WatchlistItem).where(WatchlistItem.watchlist_id.in_(owned), WatchlistItem.symbol == symbol)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _owns(self, watchlist_id: int, owner_id: str | None) -> bool:
        query = select(Watchlist.id).where(Watchlist.id == watchlist_id, _owned_by(owner_id))
        return await self.session.scalar(query) is not None

    # ---- import runs ----------------------------------------------------------------------------------------

    async def record_import(self, run: ImportRun) -> None:
        self.session.add(run)
        await self.session.flush()

    async def import_runs(self, limit: int = 20) -> list[ImportRun]:
        query = select(ImportRun).order_by(ImportRun.started_at.desc()).limit(limit)
        return list(await self.session.scalars(query))


def _owned_by(owner_id: str | None) -> ColumnElement[bool]:
    """The watchlists of `owner_id` (None: the desk's shared lists, never anyone's own)."""
    return Watchlist.owner_id.is_(None) if owner_id is None else Watchlist.owner_id == owner_id


def _to_info(row: Instrument) -> SymbolInfo:
    return SymbolInfo(
        symbol=row.symbol,
        name=row.name,
        asset_class=AssetClass(row.asset_class),
        exchange=row.exchange,
        sector=row.sector,
        industry=row.industry,
        currency=row.currency,
        maturity_years=row.maturity_years,
        coupon_pct=row.coupon_pct,
        credit_rating=row.credit_rating,
        expense_ratio_pct=row.expense_ratio_pct,
    )


def _to_fundamentals(row: FundamentalsRecord) -> Fundamentals:
    values = {name: getattr(row, name) for name in FUNDAMENTAL_FIELDS}
    return Fundamentals(
        symbol=row.symbol,
        period_end=row.period_end,
        period=row.period,
        reported=row.reported,
        source=row.source,
        **values,
    )


def files_json(paths: Iterable[str]) -> str:
    """Store a list of file names in a text column."""
    return json.dumps(list(paths))


async def _count_by_symbol(session: AsyncSession, model: Any, symbols: Sequence[str] | None) -> dict[str, int]:
    query = select(model.symbol, func.count()).group_by(model.symbol)
    if symbols is not None:
        query = query.where(model.symbol.in_(list(symbols)))
    return {symbol: int(count) for symbol, count in (await session.execute(query)).all()}
