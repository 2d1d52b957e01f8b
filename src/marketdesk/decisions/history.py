"""Load a backtest's `History` from the desk's storage, and run the verdict backtest on it: prices from the bar store, fundamentals and instruments
from the database (through `MarketDataRepository`), splits from the store's corporate actions.

The prices cover the backtest's span plus the year and a half of sessions a screen looks back over
(`screener.loader.HISTORY_CALENDAR_DAYS`) and the longest outcome window after it, so every rebalance date
sees a full screen and every outcome that the data allows is measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.decisions.backtest import BacktestReport, Progress, check_schedule, run_backtest, schedule
from marketdesk.decisions.outcomes import HORIZONS_DAYS
from marketdesk.decisions.pointintime import History
from marketdesk.errors import Rejected
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.port import SymbolInfo
from marketdesk.marketdata.repository import MarketDataRepository
from marketdesk.marketdata.universes import UniverseService
from marketdesk.screener.config import resolve
from marketdesk.screener.loader import HISTORY_CALENDAR_DAYS, _guess_benchmark  # the screener's own choice
from marketdesk.screener.universe import PRICE_FIELDS

SLACK_DAYS = 10  # past the longest window, so a target day on a weekend still finds the next session


async def load_history(
    session: AsyncSession,
    store: BarStore,
    *,
    start: date,
    end: date,
    universe: str = "all",
    benchmark: str | None = None,
    horizons: Sequence[int] = HORIZONS_DAYS,
) -> History:
    """Everything a backtest from `start` to `end` over `universe` may draw on. The benchmark is `benchmark`,
    else the one the screener would pick (SPY, else ^GSPC …)."""
    if end < start:
        raise Rejected(f"the end {end} is before the start {start}", hint="Swap them.")
    repository = MarketDataRepository(session)
    with_bars = set(await asyncio.to_thread(store.symbols))
    known = {i.symbol: i for i in await repository.instruments()}
    chosen = benchmark or _guess_benchmark(known, with_bars)
    if chosen is None or chosen not in with_bars:
        raise Rejected(
            f"no prices for the benchmark {chosen or '(none found)'}",
            hint="Import SPY (or ^GSPC) prices with `marketdesk data import prices FILE`, or name one with --benchmark.",
        )
    members = await UniverseService(store).members(session, universe)
    symbols = sorted(s for s in members if s in with_bars and s != chosen)
    if not symbols:
        raise Rejected(f"the universe {universe!r} has no symbols with prices", hint="Import prices first.")
    first = start - timedelta(days=HISTORY_CALENDAR_DAYS)
    last = end + timedelta(days=max(horizons, default=0) + SLACK_DAYS)
    wanted = [*symbols, chosen]
    prices = {}
    for name in PRICE_FIELDS:
        prices[name] = await asyncio.to_thread(store.read_matrix, wanted, field=name, start=first, end=last)
    fundamentals = await repository.fundamentals_of(symbols)
    actions = await asyncio.to_thread(store.actions, None, None, last)
    instruments = [known.get(s) or SymbolInfo(s, s) for s in symbols]
    return History.of(instruments, prices, fundamentals, actions, chosen)


async def verdict_backtest(
    session: AsyncSession,
    store: BarStore,
    *,
    start: date,
    end: date,
    every: str = "month",
    preset: str | None = None,
    universe: str = "all",
    benchmark: str | None = None,
    progress: Progress | None = None,
) -> BacktestReport:
    """Load the history from storage and run the verdict backtest on it: what the CLI and scripts call."""
    check_schedule(start, end, every)  # a bad schedule or preset is refused before any loading
    config = resolve(preset)
    history = await load_history(session, store, start=start, end=end, universe=universe, benchmark=benchmark)
    dates = schedule(history, start, end, every)
    return await asyncio.to_thread(run_backtest, history, dates, config=config, every=every, progress=progress)
