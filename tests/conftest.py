"""Shared fixtures: real servers where they exist (skipping with the reason where they do not), the shared
market data, and databases migrated once per worker and cleaned between tests."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from marketdesk.clock import SimClock
from marketdesk.db import Database, upgrade
from marketdesk.tables import metadata

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MARKETDESK_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_URL = os.environ.get("MARKETDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real market data in ../shared/data; tests that need it skip, saying so, when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA} (set MARKETDESK_SHARED_DATA to its folder)")
    return SHARED_DATA


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test worker's own, migrated to head."""
    if not _port_open(PG_HOST, PG_PORT):
        pytest.skip(f"PostgreSQL is not running at {PG_HOST}:{PG_PORT}; start it to run the storage suite on it")
    name = f"marketdesk_test_{_worker()}_{os.getpid()}"  # concurrent runs (two checkouts) never collide
    admin = create_engine(f"postgresql+psycopg://{PG_HOST}:{PG_PORT}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://{PG_HOST}:{PG_PORT}/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once per worker."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: SQLite and the real PostgreSQL, one test run each."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "marketdesk.db"
        shutil.copy(template, path)
        db = Database(f"sqlite:///{path}")
        yield db
        await db.dispose()
        return
    url: str = request.getfixturevalue("postgres_url")
    db = Database(url)
    yield db
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with db.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await db.dispose()


@pytest.fixture
async def redis_url() -> str:
    """The real Redis (database 15), flushed before use; skips, saying so, when Redis is not running."""
    if not _port_open("127.0.0.1", 6379):
        pytest.skip("Redis is not running at 127.0.0.1:6379; start it to run the bus suite on it")
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    return REDIS_URL
