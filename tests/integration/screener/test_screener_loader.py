"""The loader builds the same UniverseData from storage (SQLite or PostgreSQL) as the in-memory sim path."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import Rejected
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.service import MarketDataService
from marketdesk.marketdata.sim import SimMarketData
from marketdesk.screener.loader import UniverseLoader
from marketdesk.screener.universe import universe_from_sim


@pytest.fixture(scope="module")
def sim() -> SimMarketData:
    market = SimMarketData(SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC)), seed=11, n_symbols=40, history_years=2)
    market.warm()
    return market


async def test_storage_and_memory_give_the_same_universe(
    database: Database, tmp_path: Path, sim: SimMarketData
) -> None:
    clock = SimClock(datetime(2026, 11, 20, 15, tzinfo=UTC))
    store = BarStore(tmp_path / "bars")
    service = MarketDataService(sim, store, clock, ExchangeCalendar())
    async with database.session() as session:
        await service.load_bulk(
            session, source="sim", infos=sim.symbols(), history=sim.history_frame(),
            fundamentals=sim.all_fundamentals(), earnings=sim.all_earnings(), actions=sim.all_corporate_actions(),
        )  # fmt: skip
    expected = universe_from_sim(sim)
    loader = UniverseLoader(store, sim, sim.benchmark)
    async with database.session() as session:
        loaded = await loader.load(session, [i.symbol for i in sim.symbols()], expected.as_of)
    got = loaded.data
    order = [expected.symbols.index(s) for s in got.symbols]
    assert got.as_of == expected.as_of
    np.testing.assert_array_equal(got.dates, expected.dates)
    np.testing.assert_allclose(got.close, expected.close[:, order], equal_nan=True)
    np.testing.assert_allclose(got.adj_high, expected.adj_high[:, order], equal_nan=True)
    np.testing.assert_allclose(got.benchmark, expected.benchmark, equal_nan=True)
    for name in ("eps_ttm", "revenue_ttm", "total_equity", "free_cash_flow_ttm", "shares_outstanding"):
        np.testing.assert_allclose(
            getattr(got.fundamentals, name), getattr(expected.fundamentals, name)[order], equal_nan=True, rtol=1e-12
        )
    assert got.yields == expected.yields
    async with database.session() as session:
        again = await loader.load(session, list(got.symbols), expected.as_of)
    assert again is loaded, "a second load of unchanged data comes from the cache"


async def test_a_universe_without_data_is_refused(database: Database, tmp_path: Path, sim: SimMarketData) -> None:
    loader = UniverseLoader(BarStore(tmp_path / "empty"), sim, sim.benchmark)
    async with database.session() as session:
        with pytest.raises(Rejected, match="no symbols with data"):
            await loader.load(session, ["NOPE"], sim.history_end())
