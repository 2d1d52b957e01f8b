"""A unit of work without the ORM, for the order path: prepared statements (`marketdesk.prepared`) on one
connection in one transaction, with audit entries staged in it and appended as it commits.

`Database.session()` costs about 0.2 ms before its first statement has run (an `AsyncSession`, a pool
check-out, the asyncio bridge's greenlet hops at begin, commit and close), and the order path opened five of
them per order. `Database.unit()` opens a `Unit` instead:

- on the desk's SQLite file (the `sqlite+marketdesk` driver), on a `sqlite3` connection of its own small pool
  (`InlinePool`), set up like the engine's (WAL, foreign keys, `synchronous=NORMAL`, background checkpoints,
  lock waits off the event loop), with no SQLAlchemy layer between the statement and the driver;
- anywhere else (PostgreSQL through asyncpg, an in-memory SQLite, aiosqlite), on a connection of the engine
  begun with `engine.begin()`, the statements going through SQLAlchemy's `Connection.execute` (see
  `marketdesk.prepared`).

A unit commits on success and rolls back on any error, like a session; its before-commit hooks (the audit
log's append, `marketdesk.audit.service`) run inside the transaction, its after-commit callbacks once it has
committed, its rollback callbacks if it does not (the paper venue's in-memory state, kept as it writes, is put
back: memory follows only what is stored).

**Joining.** A unit opened while the same task already has one open on the same database joins it: the inner
`unit()` yields the outer unit, and nothing commits until the outer one does. The in-process paper venue
writes this way inside the desk's own unit of work, so an order's intent, the venue's acceptance and the
desk's record of it are one commit (see `OrderService`). A task started inside a unit does not join it.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import Dialect

from marketdesk.prepared import Direct
from marketdesk.sqlite_driver import WAL_SIZE_LIMIT, Checkpointer, InlineConnection

Hook = Callable[["Unit"], Awaitable[None]]


class Unit:
    """One open transaction for prepared statements: `direct` to run them on, `info` for what the callers stage
    in it (keyed like `Session.info`), hooks run before the commit and callbacks after it."""

    __slots__ = ("_after", "_before", "_undo", "direct", "info")

    def __init__(self, direct: Direct) -> None:
        self.direct = direct
        self.info: dict[str, Any] = {}
        self._before: dict[str, Hook] = {}
        self._after: list[Callable[[], None]] = []
        self._undo: list[Callable[[], None]] = []

    def before_commit(self, key: str, hook: Hook) -> None:
        """Run `hook(unit)` inside the transaction just before it commits (once per `key`)."""
        self._before.setdefault(key, hook)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once the transaction has committed (never after a rollback), in order."""
        self._after.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Call `callback()` if the transaction rolls back (state kept in memory ahead of the commit is put
        back), latest first."""
        self._undo.append(callback)

    async def _prepare(self) -> None:
        while self._before:  # a hook may stage more (and add another hook): run until none is left
            key = next(iter(self._before))
            await self._before.pop(key)(self)

    def _committed(self) -> None:
        callbacks, self._after, self._undo = self._after, [], []
        for callback in callbacks:
            callback()

    def _rolled_back(self) -> None:
        callbacks, self._after, self._undo = self._undo, [], []
        for callback in reversed(callbacks):
            callback()


_OPEN: contextvars.ContextVar[tuple[object, asyncio.Task[Any] | None, Unit] | None] = contextvars.ContextVar(
    "marketdesk_unit", default=None
)


def open_unit(owner: object) -> Unit | None:
    """The unit the current task holds open on `owner` (a `Database`), if any."""
    found = _OPEN.get()
    if found is None or found[0] is not owner or found[1] is not _task():
        return None
    return found[2]


class Joined:
    """`async with` an open unit that an inner `Database.unit()` joins: it adds nothing (the outer unit commits
    or rolls back). A plain class, not a generator: the order path joins units a dozen times per order."""

    __slots__ = ("unit",)

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    async def __aenter__(self) -> Unit:
        return self.unit

    async def __aexit__(self, *_exc: object) -> None:
        return None


@asynccontextmanager
async def holding(owner: object, unit: Unit) -> AsyncIterator[Unit]:
    """Run the body with `unit` open for `owner`, then its before-commit hooks (the caller commits after)."""
    token = _OPEN.set((owner, _task(), unit))
    try:
        yield unit
        await unit._prepare()
    finally:
        _OPEN.reset(token)


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


class InlinePool:
    """`sqlite3` connections to one database file for units of work, opened as the engine opens its own and
    kept for reuse (at most `keep` idle). A connection is used by one unit at a time; SQLite's write lock
    orders the writers, waited for off the event loop (`InlineConnection.retrying`)."""

    def __init__(
        self, path: str, dialect: Dialect, busy_timeout_s: float, checkpoints: Checkpointer, keep: int = 4
    ) -> None:
        self.path = path
        self.dialect = dialect
        self.busy_timeout_s = busy_timeout_s
        self.checkpoints = checkpoints
        self.keep = keep
        self._idle: list[InlineConnection] = []
        self._open: set[InlineConnection] = set()

    def _connect(self) -> InlineConnection:
        raw = sqlite3.connect(self.path, check_same_thread=False)
        for pragma in (
            "PRAGMA busy_timeout=0",  # lock waits happen in `retrying`, off the loop
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA wal_autocheckpoint=0",  # checkpoints run on a worker thread (`Checkpointer`)
            f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",  # a log that starts over is cut to this size
        ):
            raw.execute(pragma).fetchall()
        connection = InlineConnection(raw, self.busy_timeout_s, self.checkpoints)
        self._open.add(connection)
        return connection

    def checkout(self) -> InlineConnection:
        """A connection for one unit (an idle one, or a new one); give it back with `release`."""
        return self._idle.pop() if self._idle else self._connect()

    def release(self, connection: InlineConnection) -> None:
        """Take back a connection after its transaction has ended: kept for reuse, or closed."""
        if connection not in self._open:  # closed meanwhile (`close`): the desk is stopping
            return
        if len(self._idle) < self.keep:
            self._idle.append(connection)
        else:
            self._close(connection)

    def _close(self, connection: InlineConnection) -> None:
        self._open.discard(connection)
        connection.stop()

    def close(self) -> None:
        """Close every connection (the idle ones at once; one in use is closed too: the desk is stopping)."""
        for connection in list(self._open):
            self._close(connection)
        self._idle.clear()


class InlineScope:
    """`async with` a new unit on an `InlinePool`'s connection: the body, the unit's before-commit hooks (with
    the unit open for `owner`, so what they run joins it), the commit, then the after-commit callbacks; on any
    error the rollback and the rollback callbacks, and the error as `translate` turns it (if it does). The
    order path opens two or three units per order: one class costs a fraction of what the nested generator
    context managers it replaced did."""

    __slots__ = ("_connection", "_owner", "_pool", "_token", "_translate", "_unit")

    def __init__(self, owner: object, pool: InlinePool, translate: Callable[[BaseException], Exception | None]) -> None:
        self._owner, self._pool, self._translate = owner, pool, translate

    async def __aenter__(self) -> Unit:
        pool = self._pool
        self._connection = connection = pool.checkout()
        self._unit = unit = Unit(Direct.inline(pool.dialect, connection))
        self._token = _OPEN.set((self._owner, _task(), unit))
        return unit

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        unit, connection = self._unit, self._connection
        try:
            try:
                if exc is None:
                    await unit._prepare()
            finally:
                _OPEN.reset(self._token)
            if exc is None and connection.raw.in_transaction:  # a unit that only read has nothing to commit
                await connection.commit()
        except BaseException as failed:
            exc = failed
        if exc is None:
            self._pool.release(connection)
            unit._committed()
            return
        try:
            connection.raw.rollback()
        finally:
            self._pool.release(connection)
            unit._rolled_back()
        translated = self._translate(exc)
        if translated is not None:
            raise translated from exc
        if exc_type is None:  # a hook or the commit failed: its error travels on
            raise exc


class TaskLock:
    """An asyncio lock that the task holding it may take again. The paper venue's calls take it; a unit of
    work that spans a venue call and the desk's record of it (`OrderService.with_venue`) holds it throughout,
    so every task takes the venue's lock before the database's write lock, never the other way round."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def __aenter__(self) -> None:
        task = _task()
        if task is not None and self._owner is task:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    async def __aexit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()
