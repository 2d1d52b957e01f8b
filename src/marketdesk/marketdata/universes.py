"""Universes: named sets of symbols that screens, backtests and the desk work over.

Built in: `all`, `sim` (the simulated market), `sp500` (from imported constituents), `megacap` and `largecap`
(by market cap), `etfs`, `bonds`, and `watchlist:NAME` for any watchlist.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.errors import NotFound
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.port import AssetClass
from marketdesk.marketdata.repository import MarketDataRepository

MEGACAP_MIN_USD = 200e9
LARGECAP_MIN_USD = 10e9
WATCHLIST_PREFIX = "watchlist:"

DESCRIPTIONS: dict[str, str] = {
    "all": "every instrument the desk knows",
    "sim": "every symbol of the simulated market",
    "sp500": "S&P 500 constituents, from imported constituent lists",
    "megacap": "market cap of $200B or more",
    "largecap": "market cap from $10B to $200B",
    "etfs": "exchange-traded funds",
    "bonds": "bonds and treasuries",
}


@dataclass(frozen=True)
class UniverseInfo:
    name: str
    description: str
    size: int


class UniverseService:
    """Resolves universe names to symbols."""

    def __init__(self, store: BarStore) -> None:
        self.store = store

    async def names(self, session: AsyncSession, *, owner_id: str | None = None) -> list[UniverseInfo]:
        """Every universe with its size, with `owner_id`'s watchlists (None: the desk's shared lists)."""
        out = [UniverseInfo(name, text, len(await self.members(session, name))) for name, text in DESCRIPTIONS.items()]
        repository = MarketDataRepository(session)
        for watchlist in await repository.watchlists(owner_id=owner_id):
            symbols = await repository.watchlist_symbols(watchlist.id, owner_id=owner_id)
            out.append(UniverseInfo(f"{WATCHLIST_PREFIX}{watchlist.name}", "your watchlist", len(symbols)))
        return out

    async def members(self, session: AsyncSession, name: str, *, owner_id: str | None = None) -> list[str]:
        """The symbols of a universe, sorted. `watchlist:NAME` is `owner_id`'s list (None: the desk's shared
        lists, which is what callers that know no user, such as the screener today, see)."""
        repository = MarketDataRepository(session)
        if name.startswith(WATCHLIST_PREFIX):
            watchlist = await repository.watchlist_by_name(name.removeprefix(WATCHLIST_PREFIX), owner_id=owner_id)
            if watchlist is None:
                raise NotFound(f"no watchlist named {name.removeprefix(WATCHLIST_PREFIX)!r}")
            return sorted(await repository.watchlist_symbols(watchlist.id, owner_id=owner_id))
        if name == "all":
            return sorted({i.symbol for i in await repository.instruments()} | set(self.store.symbols()))
        if name == "sim":
            return [i.symbol for i in await repository.instruments(source="sim")]
        if name == "etfs":
            return [i.symbol for i in await repository.instruments(asset_class=AssetClass.ETF.value)]
        if name == "bonds":
            return [i.symbol for i in await repository.instruments(asset_class=AssetClass.BOND.value)]
        if name in {"megacap", "largecap"}:
            caps = await self.market_caps(session)
            low, high = (MEGACAP_MIN_USD, float("inf")) if name == "megacap" else (LARGECAP_MIN_USD, MEGACAP_MIN_USD)
            return sorted(s for s, cap in caps.items() if low <= cap < high)
        stored = await repository.universe(name)
        if stored or name in DESCRIPTIONS:
            return stored
        known = ", ".join([*DESCRIPTIONS, f"{WATCHLIST_PREFIX}NAME"])
        raise NotFound(f"no universe named {name!r}", hint=f"Known universes: {known}.")

    async def market_caps(self, session: AsyncSession) -> dict[str, float]:
        """Latest market cap per symbol: shares × last stored close where both exist, else the last snapshot."""
        latest = await MarketDataRepository(session).latest_market_data()
        with_shares = [s for s, (_, shares) in latest.items() if shares]
        closes: dict[str, float] = {}
        if with_shares:
            matrix = await asyncio.to_thread(self.store.read_matrix, with_shares, field="close")
            for j, symbol in enumerate(matrix.symbols):
                column = matrix.values[:, j]
                valid = column[np.isfinite(column)]
                if len(valid):
                    closes[symbol] = float(valid[-1])
        caps: dict[str, float] = {}
        for symbol, (cap, shares) in latest.items():
            if shares and symbol in closes:
                caps[symbol] = shares * closes[symbol]
            elif cap:
                caps[symbol] = cap
        return caps
