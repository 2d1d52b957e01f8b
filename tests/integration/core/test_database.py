"""Storage on both SQLite and the real PostgreSQL: migrations, units of work, upserts, error translation."""

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from marketdesk.db import Database, async_url, sync_url, upgrade
from marketdesk.errors import ConfigError, Operational, Temporary
from marketdesk.marketdata.models import Instrument
from marketdesk.marketdata.port import EarningsEvent, Fundamentals, SymbolInfo
from marketdesk.marketdata.repository import MarketDataRepository

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


async def test_a_unit_of_work_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    async with database.session() as session:
        await MarketDataRepository(session).upsert_instruments([SymbolInfo("AAA", "Alpha")], source="t", now=NOW)
    with pytest.raises(RuntimeError, match="boom"):
        async with database.session() as session:
            await MarketDataRepository(session).upsert_instruments([SymbolInfo("BBB", "Beta")], source="t", now=NOW)
            raise RuntimeError("boom")
    async with database.session() as session:
        symbols = [i.symbol for i in await MarketDataRepository(session).instruments()]
    assert symbols == ["AAA"]


async def test_upserting_instruments_twice_keeps_one_row_and_never_erases_known_fields(database: Database) -> None:
    async with database.session() as session:
        repository = MarketDataRepository(session)
        await repository.upsert_instruments([SymbolInfo("AAA", "Alpha", sector="Energy")], source="t", now=NOW)
        await repository.upsert_instruments([SymbolInfo("AAA", "Alpha Inc")], source="t", now=NOW)
    async with database.session() as session:
        info = await MarketDataRepository(session).instrument("AAA")
        count = await MarketDataRepository(session).instrument_count()
    assert count == 1
    assert info is not None and info.name == "Alpha Inc" and info.sector == "Energy"


async def test_timestamps_come_back_aware_utc(database: Database) -> None:
    async with database.session() as session:
        await MarketDataRepository(session).upsert_instruments([SymbolInfo("AAA", "Alpha")], source="t", now=NOW)
    async with database.session() as session:
        row = await session.scalar(select(Instrument))
    assert row is not None and row.updated_at == NOW and row.updated_at.tzinfo is not None


async def test_fundamentals_are_point_in_time(database: Database) -> None:
    records = [
        Fundamentals("AAA", date(2025, 3, 31), "Q", reported=date(2025, 5, 1), eps=1.0),
        Fundamentals("AAA", date(2025, 6, 30), "Q", reported=date(2025, 8, 1), eps=1.2),
    ]
    async with database.session() as session:
        assert await MarketDataRepository(session).upsert_fundamentals(records) == 2
        await MarketDataRepository(session).upsert_fundamentals(records)  # idempotent
    async with database.session() as session:
        repository = MarketDataRepository(session)
        everything = await repository.fundamentals("AAA")
        known_in_july = await repository.fundamentals("AAA", known_on=date(2025, 7, 15))
    assert [f.eps for f in everything] == [1.0, 1.2]
    assert [f.eps for f in known_in_july] == [1.0]


async def test_large_batches_stay_under_the_parameter_limits(database: Database) -> None:
    events = [EarningsEvent(f"S{i:04d}", date(2025, 1, 1), 1.0, 1.1, 10.0) for i in range(5000)]
    async with database.session() as session:
        await MarketDataRepository(session).upsert_earnings(events)
    async with database.session() as session:
        count = (await session.execute(text("SELECT COUNT(*) FROM earnings_events"))).scalar_one()
    assert count == 5000


async def test_universes_and_watchlists_round_trip(database: Database) -> None:
    async with database.session() as session:
        repository = MarketDataRepository(session)
        await repository.set_universe("sp500", ["MSFT", "AAPL", "AAPL"])
        watchlist = await repository.create_watchlist("Main", NOW, owner_id=None)
        assert await repository.add_to_watchlist(watchlist.id, "AAPL", owner_id=None)
        assert not await repository.add_to_watchlist(watchlist.id, "AAPL", owner_id=None)
        await repository.add_to_watchlist(watchlist.id, "MSFT", owner_id=None)
    async with database.session() as session:
        repository = MarketDataRepository(session)
        assert await repository.universe("sp500") == ["AAPL", "MSFT"]
        found = await repository.watchlist_by_name("Main", owner_id=None)
        assert found is not None
        assert await repository.watchlist_symbols(found.id, owner_id=None) == ["AAPL", "MSFT"]
        assert await repository.remove_from_watchlist(found.id, "AAPL", owner_id=None)
        assert await repository.watchlist_symbols(found.id, owner_id=None) == ["MSFT"]


def test_urls_get_our_drivers() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+marketdesk:///x.db"
    assert async_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"  # named: kept (a baseline)
    assert async_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert sync_url("postgresql+asyncpg://h/db") == "postgresql+psycopg://h/db"
    with pytest.raises(ConfigError, match="not supported"):
        async_url("mysql://h/db")
    with pytest.raises(ConfigError, match="not a URL"):
        async_url("::nonsense::")


async def test_a_locked_sqlite_database_is_a_temporary_error_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    upgrade(f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    async with database.session() as session:
        await MarketDataRepository(session).upsert_instruments([SymbolInfo("AAA", "Alpha")], source="t", now=NOW)
    holder = sqlite3.connect(path, timeout=0.1)
    holder.execute("PRAGMA busy_timeout=0")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        await database.engine.dispose()
        with pytest.raises(Temporary, match="locked") as caught:
            async with database.session() as session:
                await session.execute(text("PRAGMA busy_timeout=100"))
                await MarketDataRepository(session).upsert_instruments([SymbolInfo("BBB", "Beta")], source="t", now=NOW)
        assert "Wait a moment" in caught.value.one_line()
    finally:
        holder.rollback()
        holder.close()
    async with database.session() as session:
        symbols = [i.symbol for i in await MarketDataRepository(session).instruments()]
    assert symbols == ["AAA"]
    await database.dispose()


async def test_a_database_without_tables_says_to_run_the_migrations(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(Operational, match="marketdesk db upgrade"):
        async with database.session() as session:
            await MarketDataRepository(session).instrument_count()
    await database.dispose()


@pytest.mark.postgres
async def test_an_unreachable_postgres_is_a_temporary_error() -> None:
    database = Database("postgresql://127.0.0.1:1/none")
    with pytest.raises(Temporary, match="cannot reach the database"):
        await database.ping()
    await database.dispose()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade(url)
    database = Database(url)
    async with database.engine.connect() as connection:
        mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
    assert (mode, foreign_keys) == ("wal", 1)
    await database.dispose()
