"""Engines and sessions. Services take a session and never commit: `Database.session()` commits or rolls back.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on. PostgreSQL is chosen
by URL. Migrations are Alembic's, applied by `marketdesk db upgrade` and by `marketdesk up`.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from marketdesk.errors import ConfigError, Operational, Temporary
from marketdesk.prepared import Direct
from marketdesk.sqlite_driver import InlineDBAPI, checkpointer
from marketdesk.unit import InlinePool, InlineScope, Joined, Unit, holding, open_unit

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5000
registry.register("sqlite.marketdesk", "marketdesk.sqlite_driver", "dialect")
InlineDBAPI.busy_timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000


def _migrations_dir() -> Path:
    # In a wheel the scripts ship inside the package; in a checkout they stand at the repo root.
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise Operational("Alembic migration scripts are missing", hint="Reinstall marketdesk.")


class Base(DeclarativeBase):
    """Base of every ORM table."""

    metadata = MetaData(naming_convention=NAMING)


def async_url(url: str) -> str:
    """Give a plain URL the async driver we ship: sqlite → our inline driver (`marketdesk.sqlite_driver`),
    postgresql → asyncpg."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.get_driver_name() == "aiosqlite":  # asked for by name (the benchmark's baseline): kept
            return str(parsed)
        return str(parsed.set(drivername="sqlite+marketdesk"))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"database {backend!r} is not supported", hint="Use sqlite:/// or postgresql:// URLs.")


def sync_url(url: str) -> str:
    """The same database through a synchronous driver, for Alembic: sqlite → pysqlite, postgresql → psycopg."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite"))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ConfigError(f"database {backend!r} is not supported", hint="Use sqlite:/// or postgresql:// URLs.")


def _parse(url: str) -> Any:
    try:
        return make_url(url)
    except Exception:
        raise ConfigError(
            f"database_url {url!r} is not a URL",
            hint="Write it like sqlite:///path.db or postgresql://host/db.",
        ) from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    if not isinstance(dbapi_connection.dbapi, InlineDBAPI):  # the inline driver waits for locks off the loop
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    url = async_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """One database: an engine and a session factory. The unit of work is `session()`."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._inline = _inline_pool(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on any error (unless it `keeps_changes`), translate
        database failures."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException as exc:
                # a refusal that is itself a record (a failed sign-in counted, a reused token's family
                # revoked) marks itself `keeps_changes`: commit what the service wrote, then let it travel on
                if getattr(exc, "keeps_changes", False):
                    await session.commit()
                else:
                    await session.rollback()
                translated = translate_db_error(exc)
                if translated is not None:
                    raise translated from exc
                raise

    def unit(self) -> AbstractAsyncContextManager[Unit]:
        """A unit of work without the ORM (`marketdesk.unit`), for the order path's prepared statements and
        audit entries: committed on success, rolled back on any error, with database failures translated as in
        `session()`. Inside another unit of this task on this database it joins that one (commits with it)."""
        joined = open_unit(self)
        if joined is not None:
            return Joined(joined)
        if self._inline is not None:
            return InlineScope(self, self._inline, translate_db_error)
        return self._new_unit()

    @asynccontextmanager
    async def _new_unit(self) -> AsyncIterator[Unit]:
        """A unit on a connection of the engine (PostgreSQL, an in-memory SQLite, aiosqlite)."""
        unit: Unit | None = None
        try:
            async with self.engine.begin() as connection:
                sync = connection.sync_connection
                if sync is None:  # never: `begin()` hands out a started connection
                    raise RuntimeError("the engine's connection is not started")
                unit = Unit(Direct(sync))
                async with holding(self, unit):
                    yield unit
        except BaseException as exc:
            if unit is not None:
                unit._rolled_back()
            translated = translate_db_error(exc)
            if translated is not None:
                raise translated from exc
            raise
        if unit is not None:  # always: the body ran
            unit._committed()

    async def ping(self) -> None:
        """Run a trivial query; raise `Temporary` when the database does not answer."""
        from sqlalchemy import text

        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, DBAPIError) as exc:
            raise translate_db_error(exc) or Temporary(f"database does not answer: {exc}") from exc

    async def dispose(self) -> None:
        if self._inline is not None:
            self._inline.close()
        await self.engine.dispose()


def _inline_pool(engine: AsyncEngine) -> InlinePool | None:
    """Units' own `sqlite3` connections, for a SQLite file on the desk's inline driver (None elsewhere: units
    then use the engine's connections)."""
    if engine.dialect.driver != "marketdesk":
        return None
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    absolute = os.path.abspath(path)  # as the driver names it (`InlineDBAPI.connect`): one checkpointer
    return InlinePool(absolute, engine.dialect, InlineDBAPI.busy_timeout_s, checkpointer(absolute))


_LOCKED = re.compile(r"database is locked|database table is locked", re.IGNORECASE)


def translate_db_error(exc: BaseException) -> Exception | None:
    """Turn driver errors into ours, with the fix. None when it is not a database failure we know."""
    if isinstance(exc, OperationalError | DBAPIError):
        text = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
        if _LOCKED.search(text):
            return Temporary(
                "the database is locked by another process",
                hint="Wait a moment and retry; if it persists, stop the other marketdesk process using the data dir.",
                retry_after_s=1.0,
            )
        if "no such table" in text or ("does not exist" in text and "relation" in text):
            return Operational("the database has no marketdesk tables yet", hint="Run `marketdesk db upgrade` first.")
        if isinstance(exc, OperationalError) and ("connect" in text.lower() or "refused" in text.lower()):
            return Temporary(f"cannot reach the database: {text.splitlines()[0]}", hint="Is the server running?")
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        return Temporary(f"cannot reach the database: {exc}", hint="Is the server running?")
    return None


def upgrade(url: str, revision: str = "head") -> str:
    """Apply Alembic migrations up to `revision`; return the revision now in force."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine as create_sync_engine

    target = sync_url(url)
    if target.startswith("sqlite"):
        path = make_url(target).database
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    config.set_main_option("sqlalchemy.url", target.replace("%", "%%"))
    try:
        command.upgrade(config, revision)
        engine = create_sync_engine(target)
        try:
            with engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        finally:
            engine.dispose()
    except (OperationalError, DBAPIError) as exc:
        raise translate_db_error(exc) or Operational(f"migration failed: {exc}") from None
    return current or "base"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back aware (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only (tzinfo=UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def sqlite_converters(self) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """(bind, result) for prepared statements on SQLite (`marketdesk.prepared`): the text SQLAlchemy's
        processors store (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) and the aware datetime they read back, each in one
        call instead of a chain of three."""
        return _sqlite_utc_text, _sqlite_utc_datetime


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact Decimal (money, prices, quantities) stored as text on every backend and read back as Decimal.

    SQLite has no exact decimal type (it would round through a float), so the value goes in as its canonical
    string; PostgreSQL stores the same text. Compare and sum in Python, not in SQL.
    """

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"store Decimal values only, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)

    def sqlite_converters(self) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """(bind, result) for prepared statements on SQLite, as `UTCDateTime.sqlite_converters`."""
        return _decimal_text, _text_decimal


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = _UTC_TEXTS.get(value)  # an order stores the same few instants many times over (created, updated…)
    if text is not None:
        return text
    if value.tzinfo is None:
        raise ValueError("store aware datetimes only (tzinfo=UTC)")
    if len(_UTC_TEXTS) >= _UTC_TEXTS_KEPT:
        _UTC_TEXTS.clear()
    # without its "+00:00": stored as UTC, read back as UTC; equal instants (in any zone) store the same text
    text = _UTC_TEXTS[value] = (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat(" ", "microseconds")[
        :26
    ]
    return text


_UTC_TEXTS: dict[datetime, str] = {}  # recent instants' stored text (`_sqlite_utc_text`)
_UTC_TEXTS_KEPT = 512


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    read = _UTC_READ.get(value)  # rows read on the order path carry the same few instants again and again
    if read is None:
        if len(_UTC_READ) >= _UTC_TEXTS_KEPT:
            _UTC_READ.clear()
        read = datetime.fromisoformat(value)
        read = _UTC_READ[value] = read.replace(tzinfo=UTC) if read.tzinfo is None else read.astimezone(UTC)
    return read


_UTC_READ: dict[str, datetime] = {}  # recent stored texts' instants (`_sqlite_utc_datetime`; datetimes are immutable)


def _decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if type(value) is not Decimal and not isinstance(value, Decimal):
        raise TypeError(f"store Decimal values only, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite amount")
    return format(value, "f")


def _text_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


async def upsert(
    session: AsyncSession,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert rows, or update `update` columns where `keys` already exist. Works on SQLite and PostgreSQL.

    Returns the number of rows sent.
    """
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = list(rows[0].keys())
    update_columns = [c for c in (update if update is not None else columns) if c not in keys]
    statement = dialect_insert(table)
    if update_columns:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in update_columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    # executemany: SQLAlchemy batches the rows into multi-row statements ("insertmanyvalues") within each
    # driver's parameter limit, which is several times faster than compiling one huge VALUES list
    batch = 20_000
    for offset in range(0, len(rows), batch):
        await session.execute(statement, list(rows[offset : offset + batch]))
    return len(rows)
