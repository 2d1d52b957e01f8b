"""SQLite for the async engine without a thread hop per statement: the `sqlite+marketdesk` driver.

aiosqlite runs every call on a worker thread and wakes the event loop for each answer. A local SQLite statement
takes microseconds, so the hand-offs cost far more than the work: a unit of work with one statement took about
1.5 ms of CPU through aiosqlite and about 0.17 ms through the plain `sqlite3` module (bench/bench_order_path.py
measures the order path, which runs about 30 statements). This driver keeps SQLAlchemy's asyncio interface
(`AsyncSession`, the same dialect as `sqlite+aiosqlite`) but runs each statement on the event loop's thread:

- **Locks never block the loop.** SQLite's own busy handler would sleep inside the call, so the connection's
  `busy_timeout` is 0 and a statement refused with SQLITE_BUSY is retried here after an `asyncio.sleep` that
  backs off to `MAX_BACKOFF_S`, until `busy_timeout_s` (the desk's `SQLITE_BUSY_TIMEOUT_MS`) has passed. Then the
  error travels on as "database is locked", as it did before. A stale WAL snapshot (SQLITE_BUSY_SNAPSHOT) is not
  retried: only a new transaction can succeed, so the caller hears at once.
- **Checkpoints go to a thread, in pauses.** SQLite's default copies the write-ahead log into the database
  file inside whichever commit takes the log past 1,000 pages, so one order in a hundred waited for that copy
  and its fsync. The driver's connections turn that off (`wal_autocheckpoint=0`), and a connection of its own
  on a worker thread runs `wal_checkpoint(PASSIVE)`, which never waits for readers or writers. Even there a
  checkpoint slowed the commits that ran beside it (by 5–10 ms each on this machine: they share the disk), so
  it is due after `CHECKPOINT_EVERY` commits and waits for `CHECKPOINT_IDLE_S` without commits; a burst that
  never pauses gets its checkpoint after `CHECKPOINT_LATEST` commits. Other processes on the same file (the
  CLI, Alembic) keep SQLite's default.
- **The log starts over.** SQLite writes the log from its beginning again only once a checkpoint has copied
  all of it; a passive checkpoint during a burst never gets there (commits go on beside it), so under steady
  trading the log grew without end (1.2 GB after 5,500 orders), and appending to it cost more and more (an
  order took 2.2 ms of CPU instead of 1.3). After its passive pass a checkpoint therefore runs
  `wal_checkpoint(RESTART)`: it copies the few frames committed meanwhile, holding writers off for that
  moment (they wait in `retrying`) and waiting at most `RESTART_WAIT_MS` for readers; the next commit then
  writes over the log from its start, and cuts a log left larger than `WAL_SIZE_LIMIT` down to that size.
- **Batches go to a thread.** `executemany` with more than `INLINE_BATCH_ROWS` rows (bulk loads of prices or
  instruments) runs in `asyncio.to_thread`, so a long load does not stall quotes and WebSocket clients. The
  connection is only ever used by the coroutine that holds it, so moving one call to a thread is safe.

The statements themselves are unchanged, as are transactions, WAL, pragmas and the pool; only where the
`sqlite3` call runs differs.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

INLINE_BATCH_ROWS = 500  # executemany with more rows than this runs on a worker thread
FIRST_BACKOFF_S = 0.0005
MAX_BACKOFF_S = 0.02
SQLITE_BUSY = 5  # the primary result code; SQLITE_BUSY_SNAPSHOT (517) and others are not retried
CHECKPOINT_EVERY = 200  # commits on one database file after which a background checkpoint is due ...
CHECKPOINT_IDLE_S = 0.05  # ... and waits for a pause this long without commits ...
CHECKPOINT_LATEST = 2000  # ... but not past this many commits (a log of about 200 MB on the order path)
RESTART_WAIT_MS = 50  # how long a checkpoint's restart of the log waits for a writer or a reader to finish
# a log is cut to this size when it starts over (`journal_size_limit`): above what a burst writes between two
# checkpoints, so that the next burst writes over the file instead of growing it again (appending costs more)
WAL_SIZE_LIMIT = 256 * 1024 * 1024


class Checkpointer:
    """Background WAL checkpoints of one database file, at most one running at a time. A checkpoint is due
    after `every` commits and waits for a pause of `idle_s` without commits, so that it does not slow the
    commits of a burst of orders (its reads, writes and fsync share the disk with them); after `latest`
    commits it runs at once, pause or not, which bounds the log."""

    def __init__(
        self,
        path: str,
        every: int = CHECKPOINT_EVERY,
        idle_s: float = CHECKPOINT_IDLE_S,
        latest: int = CHECKPOINT_LATEST,
    ) -> None:
        self.path = path
        self.every = every
        self.idle_s = idle_s
        self.latest = latest
        self.commits = 0
        self.since = 0  # commits since the last checkpoint started
        self.done = 0  # checkpoints finished (for tests and logs)
        self.restarts = 0  # of those, the ones that also restarted the log (`_checkpoint`)
        self.last: asyncio.Future[None] | None = None  # the latest one started
        self._busy = threading.Lock()
        self._last_commit = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None  # a timer of a loop that has ended never fires

    def committed(self) -> None:
        self.commits += 1
        self.since += 1
        self._last_commit = time.monotonic()
        if self.since < self.every or self._busy.locked():
            return
        loop = asyncio.get_running_loop()
        if self.since >= self.latest:
            self._start(loop)
        elif self._timer is None or self._timer_loop is not loop:
            self._timer, self._timer_loop = loop.call_later(self.idle_s, self._when_idle, loop), loop

    def _when_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        quiet = time.monotonic() - self._last_commit
        if quiet >= self.idle_s:
            self._start(loop)
        else:  # commits went on: wait for the pause after the latest
            self._timer = loop.call_later(self.idle_s - quiet, self._when_idle, loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._busy.locked():
            return
        self.since = 0
        self.last = loop.run_in_executor(None, self._checkpoint)

    def _checkpoint(self) -> None:
        if not self._busy.acquire(blocking=False):
            return
        try:
            connection = sqlite3.connect(self.path, timeout=0)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # the bulk, beside the writers
                connection.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
                ((blocked, _, _),) = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                self.restarts += not blocked  # blocked: a reader stayed; the next checkpoint tries again
                self.done += 1
            except sqlite3.OperationalError:
                pass  # busy (a schema change holds the file): the next checkpoint catches up
            finally:
                connection.close()
        finally:
            self._busy.release()


_checkpointers: dict[str, Checkpointer] = {}


def checkpointer(path: str) -> Checkpointer:
    """The one checkpointer of a database file in this process."""
    found = _checkpointers.get(path)
    if found is None:
        found = _checkpointers[path] = Checkpointer(path)
    return found


class _Immediate:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set a connection's isolation level:
    the request runs at once on this thread."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineCursor:
    """An aiosqlite-shaped cursor over a `sqlite3.Cursor` whose calls run on the caller's thread."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if parameters is None:
            await self._connection.retrying(self._cursor.execute, sql)
        else:
            await self._connection.retrying(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> InlineCursor:
        rows = parameters if isinstance(parameters, list) else list(parameters)
        if len(rows) > INLINE_BATCH_ROWS:
            await self._connection.retrying(self._cursor.executemany, sql, rows, in_thread=True)
        else:
            await self._connection.retrying(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


def busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock (worth waiting for, `retrying`)."""
    return getattr(exc, "sqlite_errorcode", None) == SQLITE_BUSY


class InlineConnection:
    """An aiosqlite-shaped connection over a `sqlite3.Connection` whose calls run on the caller's thread."""

    def __init__(
        self, connection: sqlite3.Connection, busy_timeout_s: float, checkpoints: Checkpointer | None = None
    ) -> None:
        self._conn = connection
        self._checkpoints = checkpoints
        self._connection: sqlite3.Connection | None = connection  # SQLAlchemy checks it before commit/rollback
        self._tx = _Immediate()
        self.busy_timeout_s = busy_timeout_s

    async def retrying(self, call: Callable[..., Any], *args: Any, in_thread: bool = False) -> Any:
        """Run `call`, retrying while SQLite answers SQLITE_BUSY (another writer holds the lock), with
        non-blocking sleeps, until `busy_timeout_s` has passed; then the last SQLITE_BUSY is raised."""
        if not in_thread:  # the usual case: the lock is free, and the call needs no coroutine of its own
            try:
                return call(*args)
            except sqlite3.OperationalError as exc:
                if not busy(exc):
                    raise
        deadline = time.monotonic() + self.busy_timeout_s
        pause = FIRST_BACKOFF_S
        while True:
            try:
                if in_thread:
                    return await asyncio.to_thread(call, *args)
                return call(*args)
            except sqlite3.OperationalError as exc:
                remaining = deadline - time.monotonic()
                if not busy(exc) or remaining <= 0:
                    raise
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, MAX_BACKOFF_S)

    @property
    def raw(self) -> sqlite3.Connection:
        """The `sqlite3` connection (for `marketdesk.prepared`; calls on it must go through `retrying`)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        await self.retrying(self._conn.commit)
        if self._checkpoints is not None:
            self._checkpoints.committed()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's forced terminate)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy sees: aiosqlite's adapter, with connections made here."""

    busy_timeout_s = 5.0

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("async_creator_fn", None)
        kwargs["check_same_thread"] = False  # a bulk executemany may run on a worker thread (one at a time)
        raw = sqlite3.connect(*args, **kwargs)
        raw.execute("PRAGMA busy_timeout=0")  # waiting for a lock happens in `retrying`, off the loop
        path = str(args[0]) if args else str(kwargs.get("database", ""))
        checkpoints = None
        if path and path != ":memory:" and not path.startswith("file:"):
            raw.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on a worker thread (`Checkpointer`)
            raw.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            checkpoints = checkpointer(os.path.abspath(path))
        inline: Any = InlineConnection(raw, self.busy_timeout_s, checkpoints)  # duck-types aiosqlite's Connection
        return AsyncAdapt_aiosqlite_connection(self, inline)


class SQLiteDialect_marketdesk(SQLiteDialect_aiosqlite):
    """`sqlite+marketdesk://`: the aiosqlite dialect with statements run on the event loop's thread."""

    driver = "marketdesk"
    supports_statement_cache = True
    has_terminate = True

    @classmethod
    def import_dbapi(cls) -> InlineDBAPI:
        return InlineDBAPI(__import__("aiosqlite"), sqlite3)


dialect = SQLiteDialect_marketdesk
