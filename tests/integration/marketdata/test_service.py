"""The market-data service over a small real source, on SQLite and the real PostgreSQL."""

from datetime import date
from pathlib import Path

import pytest

from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.errors import NotFound, Rejected, UnknownSymbol
from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.calendar import ExchangeCalendar
from marketdesk.marketdata.service import MarketDataService, normalize_symbol
from marketdesk.marketdata.universes import UniverseService
from support.fakes import FailingSource, FakeSource


@pytest.fixture
def service(tmp_path: Path, clock: SimClock) -> MarketDataService:
    return MarketDataService(FakeSource(clock), BarStore(tmp_path / "bars"), clock, ExchangeCalendar())


async def test_fetch_stores_bars_fundamentals_earnings_and_instruments(
    database: Database, service: MarketDataService, clock: SimClock
) -> None:
    ticks: list[tuple[int, int]] = []
    async with database.session() as session:
        report = await service.fetch(
            session, FakeSource(clock), ["aaa", "BBB", "NOPE"], start=date(2025, 1, 1), end=date(2025, 12, 31),
            progress=lambda done, total: ticks.append((done, total)),
        )  # fmt: skip
    assert report.symbols == ["AAA", "BBB"]
    assert "unknown symbol 'NOPE'" in report.failures["NOPE"]
    assert report.bars_inserted == 2 * 261 and report.fundamentals == 8 and report.earnings == 2
    assert ticks[-1] == (3, 3)
    async with database.session() as session:
        again = await service.fetch(session, FakeSource(clock), ["AAA"], start=date(2025, 1, 1), end=date(2025, 12, 31))
        coverage = await service.coverage(session, "AAA")
    assert again.bars_inserted == 0 and again.bars_unchanged == 261
    assert coverage[0].bars == 261 and coverage[0].fundamentals == 4 and coverage[0].earnings == 1


async def test_bars_come_from_the_store_then_the_source(service: MarketDataService) -> None:
    source = service.source
    assert isinstance(source, FakeSource)
    first = await service.bars("AAA", date(2025, 1, 1), date(2025, 3, 31))
    calls = source.calls
    second = await service.bars("AAA", date(2025, 1, 1), date(2025, 3, 31))
    assert source.calls == calls, "the second read is served by the bar store"
    assert first["close"].tolist() == second["close"].tolist()
    with pytest.raises(UnknownSymbol):
        await service.bars("NOPE", date(2025, 1, 1), date(2025, 3, 31))
    with pytest.raises(Rejected, match="after end"):
        await service.bars("AAA", date(2025, 3, 1), date(2025, 1, 1))


async def test_a_dead_provider_falls_back_to_the_last_stored_close_marked_stale(
    tmp_path: Path, clock: SimClock
) -> None:
    store = BarStore(tmp_path / "bars")
    healthy = MarketDataService(FakeSource(clock), store, clock, ExchangeCalendar())
    await healthy.bars("AAA", date(2025, 1, 1), date(2025, 12, 31))
    dead = MarketDataService(FailingSource(clock), store, clock, ExchangeCalendar())
    quote = await dead.quote("AAA")
    assert quote.stale and quote.source == "store"
    assert float(quote.last) == pytest.approx(FakeSource(clock).closes["AAA"][-1])
    with pytest.raises(UnknownSymbol):
        await dead.quote("BBB")


async def test_watchlists_refuse_unknown_symbols_and_duplicate_names(
    database: Database, service: MarketDataService
) -> None:
    async with database.session() as session:
        await service.fetch(session, service.source, ["AAA"], start=date(2025, 1, 1), end=date(2025, 2, 1))
        view = await service.create_watchlist(session, "Main", ["AAA"], owner_id=None)
        assert view.symbols == ["AAA"]
        with pytest.raises(UnknownSymbol):
            await service.add_to_watchlist(session, "Main", "ZZZ", owner_id=None)
        with pytest.raises(Rejected, match="already exists"):
            await service.create_watchlist(session, "Main", owner_id=None)
        with pytest.raises(NotFound):
            await service.watchlist(session, "Nope", owner_id=None)
        assert (await service.remove_from_watchlist(session, "Main", "AAA", owner_id=None)).symbols == []


async def test_universes_resolve_by_name(database: Database, service: MarketDataService) -> None:
    universes = UniverseService(service.store)
    async with database.session() as session:
        await service.fetch(session, service.source, ["AAA", "BBB"], start=date(2025, 1, 1), end=date(2025, 12, 31))
        await service.create_watchlist(session, "Tech", ["AAA"], owner_id=None)
        assert await universes.members(session, "all") == ["AAA", "BBB"]
        assert await universes.members(session, "watchlist:Tech") == ["AAA"]
        caps = await universes.market_caps(session)
        assert caps["AAA"] == pytest.approx(1e9 * FakeSource(service.clock).closes["AAA"][-1])
        assert 10e9 < caps["AAA"] < 200e9  # 1B shares at about $100
        assert await universes.members(session, "largecap") == ["AAA", "BBB"]
        assert await universes.members(session, "megacap") == []
        names = {u.name for u in await universes.names(session)}
        assert {"all", "sp500", "megacap", "largecap", "watchlist:Tech"} <= names
        with pytest.raises(NotFound, match="Known universes"):
            await universes.members(session, "nasdaq9000")


@pytest.mark.parametrize("bad", ["", "AAPL; DROP", "../etc", "A" * 20, "aa pl"])
def test_symbols_are_validated_at_the_edge(bad: str) -> None:
    with pytest.raises(Rejected, match="not a ticker"):
        normalize_symbol(bad)
    assert normalize_symbol(" brk.b ") == "BRK.B"
