"""REST routes of the market-data domain under /api/v1. Thin: parse, call the service, render.

Market data (symbols, bars, quotes, universes, the clock, coverage) is readable by any signed-in user; the
app includes this router behind `authorize_api`. Watchlists are the caller's own: every call passes the
caller's id as the owner, and another user's list answers 404 like one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from marketdesk.deps import CurrentUserDep, DeskDep, SessionDep, TraderDep, refusals
from marketdesk.errors import Rejected
from marketdesk.marketdata.schemas import (
    Bars,
    Coverage,
    MarketClockOut,
    QuoteOut,
    Symbol,
    SymbolDetail,
    SymbolList,
    Universe,
    UniverseMembers,
    Watchlist,
    WatchlistCreate,
    WatchlistSymbol,
)
from marketdesk.marketdata.service import normalize_symbol

router = APIRouter(tags=["market data"])
MAX_QUOTES = 200


@router.get("/symbols", response_model=SymbolList)
async def list_symbols(
    desk: DeskDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=64, description="part of a symbol or name")] = None,
    asset_class: Annotated[str | None, Query(pattern="^(equity|etf|bond|index)$")] = None,
    sector: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SymbolList:
    """Search the instruments the desk knows."""
    page = await desk.market.search(session, q, asset_class=asset_class, sector=sector, limit=limit, offset=offset)
    return SymbolList.of(page)


@router.get("/symbols/{symbol}", response_model=SymbolDetail, responses=refusals(404))
async def get_symbol(symbol: str, desk: DeskDep, session: SessionDep) -> SymbolDetail:
    """One instrument with its key statistics."""
    info = await desk.market.symbol(session, symbol)
    stats = await desk.market.key_stats(session, info.symbol)
    return SymbolDetail(symbol=Symbol.of(info), stats=stats, simulated=desk.simulated)


@router.get("/symbols/{symbol}/bars", response_model=Bars, responses=refusals(404, 503))
async def get_bars(
    symbol: str,
    desk: DeskDep,
    start: date | None = None,
    end: date | None = None,
) -> Bars:
    """Daily bars (raw OHLC, adjusted close, volume), oldest first. Default: the last five years."""
    normalized = normalize_symbol(symbol)
    frame = await desk.market.bars(normalized, start, end)
    return Bars.of(normalized, frame)


@router.get("/quotes", response_model=list[QuoteOut])
async def get_quotes(
    desk: DeskDep,
    symbols: Annotated[str, Query(description="comma-separated, e.g. AAPL,MSFT", max_length=4000)],
) -> list[QuoteOut]:
    """Latest quotes of several symbols; unknown ones are left out."""
    wanted = [s for s in (part.strip() for part in symbols.split(",")) if s]
    if not wanted:
        raise Rejected("name at least one symbol", hint="Pass ?symbols=AAPL,MSFT.")
    if len(wanted) > MAX_QUOTES:
        raise Rejected(f"{len(wanted)} symbols is too many", hint=f"Ask for at most {MAX_QUOTES} at a time.")
    return [QuoteOut.of(q) for q in await desk.market.quotes([normalize_symbol(s) for s in wanted])]


@router.get("/quotes/{symbol}", response_model=QuoteOut, responses=refusals(404))
async def get_quote(symbol: str, desk: DeskDep) -> QuoteOut:
    """The latest quote of one symbol."""
    return QuoteOut.of(await desk.market.quote(symbol))


@router.get("/universes", response_model=list[Universe])
async def list_universes(user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> list[Universe]:
    """Every universe with its size (your watchlists among them)."""
    return [Universe.of(u) for u in await desk.universes.names(session, owner_id=user.id)]


@router.get("/universes/{name}", response_model=UniverseMembers, responses=refusals(404))
async def get_universe(name: str, user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> UniverseMembers:
    """The symbols of one universe (`watchlist:NAME` is your list of that name)."""
    return UniverseMembers(name=name, symbols=await desk.universes.members(session, name, owner_id=user.id))


@router.get("/market/clock", response_model=MarketClockOut)
async def market_clock(desk: DeskDep) -> MarketClockOut:
    """Open or closed, and the next open and close (XNYS, or the sim's always-open session)."""
    return MarketClockOut.of(desk.market_clock())


@router.get("/data/coverage", response_model=list[Coverage], responses=refusals(404))
async def data_coverage(desk: DeskDep, session: SessionDep, symbol: str | None = None) -> list[Coverage]:
    """How much history the desk holds, per symbol."""
    return [Coverage.of(c) for c in await desk.market.coverage(session, symbol)]


@router.get("/watchlists", response_model=list[Watchlist])
async def list_watchlists(user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> list[Watchlist]:
    """Your watchlists."""
    return [Watchlist.of(w) for w in await desk.market.watchlists(session, owner_id=user.id)]


@router.get("/watchlists/{name}", response_model=Watchlist, responses=refusals(404))
async def get_watchlist(name: str, user: CurrentUserDep, desk: DeskDep, session: SessionDep) -> Watchlist:
    """One of your watchlists."""
    return Watchlist.of(await desk.market.watchlist(session, name, owner_id=user.id))


@router.post("/watchlists", response_model=Watchlist, status_code=201, responses=refusals(403))
async def create_watchlist(body: WatchlistCreate, user: TraderDep, desk: DeskDep, session: SessionDep) -> Watchlist:
    """Create a watchlist of yours."""
    return Watchlist.of(await desk.market.create_watchlist(session, body.name, body.symbols, owner_id=user.id))


@router.post("/watchlists/{name}/symbols", response_model=Watchlist, responses=refusals(403, 404))
async def add_watchlist_symbol(
    name: str, body: WatchlistSymbol, user: TraderDep, desk: DeskDep, session: SessionDep
) -> Watchlist:
    """Add a symbol to one of your watchlists."""
    return Watchlist.of(await desk.market.add_to_watchlist(session, name, body.symbol, owner_id=user.id))


@router.delete("/watchlists/{name}/symbols/{symbol}", response_model=Watchlist, responses=refusals(403, 404))
async def remove_watchlist_symbol(
    name: str, symbol: str, user: TraderDep, desk: DeskDep, session: SessionDep
) -> Watchlist:
    """Remove a symbol from one of your watchlists."""
    return Watchlist.of(await desk.market.remove_from_watchlist(session, name, symbol, owner_id=user.id))
